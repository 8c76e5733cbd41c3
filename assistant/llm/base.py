"""The seam between answerers and language models: complete a prompt, or stream it."""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping, Sequence
from typing import Protocol, TypeAlias, runtime_checkable

from assistant.types import TokenUsage

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
        """Generated text pieces as they arrive. A backend that knows how many tokens the model read and
        wrote returns a TextStream, whose `usage` holds them once the pieces are all read."""


class TextStream(Iterator[str]):
    """Generated text pieces over a generator that yields the text and, once (usually last), the
    TokenUsage: iterating gives the text only; `usage` is the counts once they came (zeros before, or
    when the backend never sent them)."""

    def __init__(self, events: Generator[str | TokenUsage, None, None]) -> None:
        self._events = events
        self.usage = TokenUsage()

    def __iter__(self) -> TextStream:
        return self

    def __next__(self) -> str:
        while True:
            event = next(self._events)  # StopIteration ends this stream too
            if isinstance(event, TokenUsage):
                self.usage = event
            else:
                return event

    def close(self) -> None:
        """Stop generating (releases the model or the connection now, not when collected)."""
        self._events.close()


def stream_usage(stream: Iterator[str]) -> TokenUsage:
    """The token counts a stream reported (zeros for a backend's plain iterator, which reports none)."""
    return stream.usage if isinstance(stream, TextStream) else TokenUsage()


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
