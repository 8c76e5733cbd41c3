"""Adapters that let other frameworks use the assistant (each imports its framework lazily).

    from assistant.integrations.llama_index import AssistantRetriever, AssistantChatEngine, add_documents
"""
