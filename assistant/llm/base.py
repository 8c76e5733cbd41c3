"""The seam between answerers and language models: complete a prompt, or stream it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol, TypeAlias, runtime_checkable

Message: TypeAlias = Mapping[str, str]        # {"role": "system" | "user" | "assistant", "content": "..."}
Prompt: TypeAlias = str | Sequence[Message]  # plain text (completion) or chat messages


@runtime_checkable
class LLMBackend(Protocol):
    """A text generator. Implementations raise assistant.errors.BackendError (one line, naming the
    model or URL and the fix) for unreachable servers, timeouts and empty output; never hang."""

    name: str          # "llamacpp" | "openai"
    description: str   # where the model lives, for messages: a file path or "model @ base URL"

    def uses_chat(self) -> bool:
        """Whether the model reads chat messages (True) or a plain completion prompt (a base model
        without a chat template). May raise BackendError when finding out needs the model loaded."""

    def complete(self, prompt: Prompt, *, max_tokens: int, stop: Sequence[str] = ()) -> str:
        """The whole generated text."""

    def stream(self, prompt: Prompt, *, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        """Generated text pieces as they arrive."""


def messages_to_text(prompt: Prompt) -> str:
    """Flatten chat messages into one completion prompt (for base models without a chat template)."""
    if isinstance(prompt, str):
        return prompt
    return "\n\n".join(m["content"].strip() for m in prompt if m.get("content"))


def as_messages(prompt: Prompt) -> list[dict[str, str]]:
    """Chat messages for a prompt (plain text becomes one user message)."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [{"role": m["role"], "content": m["content"]} for m in prompt]
