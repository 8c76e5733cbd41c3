"""Chat sessions: per-session history, follow-ups rewritten into standalone questions.

    session = ChatSession()
    session.ask("Where is the new training centre based?")
    session.ask("Who will head it?")          # answered as a standalone question about the centre
    for piece in session.stream("And who does that general report to?"): ...

Sessions built from the same Settings share the engine (embedding model, index, language model)
but never history: each session owns its own list of turns.

A session can be saved and restored (`to_dict`/`from_dict`, `to_json`/`from_json`): the restored
session answers its next follow-up in the light of the saved turns."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from assistant.arguments import HistoryLike, as_turns, make_filter, resolve_settings
from assistant.config import Settings
from assistant.conversation.shown import parse_turn, turn_of
from assistant.conversation.turns import stream_turn
from assistant.engine import AnswerEngine, final_answer
from assistant.engine_pool import engine_for
from assistant.errors import InvalidArgumentError, SessionFormatError
from assistant.index.store import SearchFilter
from assistant.types import Answer, Turn

_MAX_TURNS_KEPT = 20
SESSION_FORMAT_VERSION = 1
_SESSION_KEYS = frozenset({"version", "collection", "top_k", "max_turns", "filters", "turns"})


class ChatSession:
    """One conversation. Sessions share an engine (model, index) but never history."""

    def __init__(self, settings: Settings | None = None, *, engine: AnswerEngine | None = None,
                 top_k: int | None = None, filters: SearchFilter | None = None,
                 max_turns: int = _MAX_TURNS_KEPT) -> None:
        self.engine = engine if engine is not None else engine_for(resolve_settings(settings))
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
        own_history = history is None
        turns = self.history if own_history else as_turns(history)
        for item in stream_turn(self.engine, message, top_k=self.top_k, history=turns, filters=self.filters):
            if isinstance(item, Answer) and own_history:
                self._record(turn_of(item))  # all that was shown, so a saved chat shows it again
            yield item

    def with_turns(self, turns: Sequence[Turn]) -> ChatSession:
        """This conversation (engine, options) holding `turns` instead of its own, the last `max_turns` of
        them: for a caller that decides itself which turns to keep (the page's Stop and Regenerate)."""
        copy = ChatSession(engine=self.engine, top_k=self.top_k, filters=self.filters, max_turns=self.max_turns)
        copy._history = list(turns)[-self.max_turns:]
        return copy

    def _record(self, turn: Turn) -> None:
        with self._lock:
            self._history.append(turn)
            del self._history[:-self.max_turns]

    # -- saving and restoring -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The session as JSON-safe data: format version, collection, options and the turns."""
        filters = self.filters
        return {
            "version": SESSION_FORMAT_VERSION,
            "collection": self.engine.settings.store.collection,
            "top_k": self.top_k,
            "max_turns": self.max_turns,
            "filters": None if filters is None else {
                "sources": list(filters.sources),
                "date_from": filters.date_from.isoformat() if filters.date_from else None,
                "date_to": filters.date_to.isoformat() if filters.date_to else None,
            },
            "turns": [turn.model_dump(mode="json") for turn in self.history],
        }

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: object, settings: Settings | None = None, *, engine: AnswerEngine | None = None) -> ChatSession:
        """A session restored from `to_dict()` output. Without `settings` or `engine` it opens the saved
        collection with the environment's settings. A malformed dict raises SessionFormatError naming
        the field."""
        if not isinstance(data, Mapping):
            raise SessionFormatError(f"a saved chat session is a dict (JSON object), got {type(data).__name__}")
        unknown = sorted(repr(key) for key in data if key not in _SESSION_KEYS)
        if unknown:
            raise SessionFormatError(f"saved chat session has unknown key(s) {', '.join(unknown)}; "
                                     f"expected some of {', '.join(sorted(_SESSION_KEYS))}")
        version = data.get("version")
        if version != SESSION_FORMAT_VERSION:
            raise SessionFormatError(f"saved chat session has version {version!r}; this assistant reads version "
                                     f"{SESSION_FORMAT_VERSION}")
        turns = _saved_turns(data.get("turns"))
        top_k, max_turns = _saved_int(data, "top_k", None), _saved_int(data, "max_turns", _MAX_TURNS_KEPT)
        filters = _saved_filters(data.get("filters"))
        if engine is None:
            collection = data.get("collection")
            if collection is not None and not isinstance(collection, str):
                raise SessionFormatError(f"saved chat session 'collection' must be text, got {type(collection).__name__}")
            engine = engine_for(settings if settings is not None else resolve_settings(None, collection=collection))
        session = cls(settings, engine=engine, top_k=top_k, filters=filters, max_turns=max_turns)
        session._history = list(turns[-max_turns:])
        return session

    @classmethod
    def from_json(cls, text: str | bytes, settings: Settings | None = None, *, engine: AnswerEngine | None = None) -> ChatSession:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise SessionFormatError(f"saved chat session is not valid JSON: {err.msg} at line {err.lineno} "
                                     f"column {err.colno}") from err
        except UnicodeDecodeError as err:
            raise SessionFormatError(f"saved chat session is not UTF-8 text: {err.reason}") from err
        return cls.from_dict(data, settings, engine=engine)


def _saved_int(data: Mapping[str, Any], key: str, default: int | None) -> int | None:
    value = data.get(key, default)
    if value is None and default is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise SessionFormatError(f"saved chat session {key!r} must be a positive whole number, got {value!r}")
    return value


def _saved_filters(value: object) -> SearchFilter | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not set(value) <= {"sources", "date_from", "date_to"}:
        raise SessionFormatError(f"saved chat session 'filters' must be a dict with sources, date_from, date_to; got {value!r}")
    try:
        return make_filter(value.get("sources"), value.get("date_from"), value.get("date_to"))
    except InvalidArgumentError as err:
        raise SessionFormatError(f"saved chat session 'filters': {err}") from err


def _saved_turns(value: object) -> list[Turn]:
    if not isinstance(value, list):
        raise SessionFormatError(f"saved chat session 'turns' must be a list, got {type(value).__name__}")
    return [parse_turn(entry, f"saved chat session turns[{i}]") for i, entry in enumerate(value)]
