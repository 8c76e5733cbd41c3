"""Language-model backends behind one small protocol (llama.cpp in-process, OpenAI-compatible HTTP).

Nothing heavy is imported here: `llama_cpp` loads only when a llama.cpp backend first generates."""

from assistant.llm.base import (
    LLMBackend,
    Message,
    Prompt,
    TextStream,
    messages_to_text,
    stream_usage,
)
from assistant.llm.factory import make_backend

__all__ = ["LLMBackend", "Message", "Prompt", "TextStream", "make_backend", "messages_to_text", "stream_usage"]
