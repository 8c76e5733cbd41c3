"""Chat sessions: per-session history, follow-ups rewritten into standalone questions."""

from __future__ import annotations

from collections.abc import Iterator

from assistant.config import Settings
from assistant.engine import Assistant
from assistant.store import SearchFilter
from assistant.types import Answer, Turn

_MAX_TURNS_KEPT = 20


class ChatSession:
    """One conversation. Sessions share an engine (model, index) but never history."""

    def __init__(self, settings: Settings | None = None, *, engine: Assistant | None = None,
                 top_k: int | None = None, filters: SearchFilter | None = None) -> None:
        self.engine = engine or Assistant(settings)
        self.top_k = top_k
        self.filters = filters
        self._history: list[Turn] = []

    @property
    def history(self) -> tuple[Turn, ...]:
        return tuple(self._history)

    def reset(self) -> None:
        self._history = []

    def ask(self, message: str) -> Answer:
        final: Answer | None = None
        for item in self.stream(message):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(self, message: str) -> Iterator[str | Answer]:
        """Yield answer text as it arrives, then the final Answer; the turn is recorded at the end."""
        for item in self.engine.ask_stream(message, top_k=self.top_k, history=self.history, filters=self.filters):
            if isinstance(item, Answer):
                self._history.append(Turn(question=item.question, answer=item.text, standalone_question=item.standalone_question))
                del self._history[:-_MAX_TURNS_KEPT]
            yield item
