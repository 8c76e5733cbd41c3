"""Chat sessions: per-session history, follow-ups rewritten into standalone questions.

    session = ChatSession()
    session.ask("Where is the new training centre based?")
    session.ask("Who will head it?")          # answered as a standalone question about the centre
    for piece in session.stream("And who does that general report to?"): ...

Sessions built from the same Settings share the engine (embedding model, index, language model)
but never history: each session owns its own list of turns."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from assistant.config import Settings
from assistant.engine import Assistant, final_answer
from assistant.store import SearchFilter
from assistant.types import Answer, Turn

_MAX_TURNS_KEPT = 20

HistoryLike = Sequence[Turn | dict | tuple[str, str]]


class ChatSession:
    """One conversation. Sessions share an engine (model, index) but never history."""

    def __init__(self, settings: Settings | None = None, *, engine: Assistant | None = None,
                 top_k: int | None = None, filters: SearchFilter | None = None,
                 max_turns: int = _MAX_TURNS_KEPT) -> None:
        if engine is None:
            from assistant.api import engine_for, resolve_settings

            engine = engine_for(resolve_settings(settings))
        self.engine = engine
        self.top_k = top_k
        self.filters = filters
        self.max_turns = max_turns
        self._history: list[Turn] = []
        self._lock = threading.Lock()

    @property
    def history(self) -> tuple[Turn, ...]:
        with self._lock:
            return tuple(self._history)

    def reset(self) -> None:
        """Forget the conversation (the engine and its index stay loaded)."""
        with self._lock:
            self._history = []

    def ask(self, message: str, *, history: HistoryLike | None = None) -> Answer:
        """Answer `message` in the context of this session's earlier turns.

        `history=` is for callers that keep their own history: it is used instead of the session's
        for this call, and the session's own history is left unchanged."""
        return final_answer(self.stream(message, history=history))

    def stream(self, message: str, *, history: HistoryLike | None = None) -> Iterator[str | Answer]:
        """Yield answer text as it arrives, then the final Answer; the turn is recorded at the end."""
        from assistant.api import as_turns

        own_history = history is None
        turns = self.history if own_history else as_turns(history)
        for item in self.engine.ask_stream(message, top_k=self.top_k, history=turns, filters=self.filters):
            if isinstance(item, Answer) and own_history:
                self._record(Turn(question=item.question, answer=item.text, standalone_question=item.standalone_question))
            yield item

    def _record(self, turn: Turn) -> None:
        with self._lock:
            self._history.append(turn)
            del self._history[:-self.max_turns]
