"""Pick the language-model backend named in the settings."""

from __future__ import annotations

from typing import Literal

from assistant.config import LLMSettings
from assistant.errors import ConfigError
from assistant.llm.base import LLMBackend


def make_backend(kind: Literal["llamacpp", "openai"], settings: LLMSettings) -> LLMBackend:
    """`llamacpp`: a local GGUF file in-process; `openai`: any OpenAI-compatible server by base URL."""
    if kind == "llamacpp":  # each backend needs its optional extra (llama-cpp-python, openai): imported lazily
        from assistant.llm.llamacpp import LlamaCppBackend

        return LlamaCppBackend(settings)
    if kind == "openai":  # optional extra, as above
        from assistant.llm.openai_compat import OpenAICompatBackend

        return OpenAICompatBackend(settings)
    raise ConfigError(f"unknown language-model backend {kind!r}: set ASSISTANT_ANSWERER to extractive, llamacpp or openai")
