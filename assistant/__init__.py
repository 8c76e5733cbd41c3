"""Conversational retrieval Q&A over your documents, with cited answers.

    from assistant import ask
    answer = ask("Where is the new training centre based?")

Importing the package changes nothing in the process: the offline environment (assistant._offline)
is applied by the entry points and by each engine before it loads a model."""

from assistant.api import ask, ask_stream, retrieve
from assistant.config import Settings, load_settings
from assistant.conversation.session import ChatSession
from assistant.errors import AssistantError
from assistant.facade import Assistant
from assistant.index.store import SearchFilter
from assistant.types import Answer, Citation, Passage, Turn

__all__ = [
    "Answer", "Assistant", "AssistantError", "ChatSession", "Citation", "Passage", "SearchFilter", "Settings", "Turn",
    "ask", "ask_stream", "load_settings", "retrieve",
]
