"""Conversational retrieval Q&A over your documents, with cited answers.

    from assistant import ask
    answer = ask("Where is the new training centre based?")
"""

from assistant._offline import apply_offline_env

apply_offline_env()  # before anything imports transformers, chromadb or gradio

from assistant.api import ask, ask_stream, retrieve  # noqa: E402
from assistant.chat import ChatSession  # noqa: E402
from assistant.config import Settings, load_settings  # noqa: E402
from assistant.engine import Assistant  # noqa: E402
from assistant.errors import AssistantError  # noqa: E402
from assistant.index.store import SearchFilter  # noqa: E402
from assistant.types import Answer, Citation, Passage, Turn  # noqa: E402

__all__ = [
    "Answer", "Assistant", "AssistantError", "ChatSession", "Citation", "Passage", "SearchFilter", "Settings", "Turn",
    "ask", "ask_stream", "load_settings", "retrieve",
]
