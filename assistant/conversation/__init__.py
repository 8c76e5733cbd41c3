"""Conversation around the engine: chat sessions, the turn pipeline (small talk, clarification and its
replies, follow-up rewriting), saved chats and their export. The engine below answers one standalone
question; nothing here retrieves or answers on its own."""
