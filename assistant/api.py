"""The programmatic entry points: ask(), ask_stream(), retrieve().

Engines are memoised per settings so repeated calls reuse the loaded model and index."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from assistant.config import Settings, load_settings
from assistant.engine import Assistant
from assistant.store import SearchFilter
from assistant.types import Answer, Passage, Turn

_engines: dict[str, Assistant] = {}
_engines_lock = threading.Lock()


def engine_for(settings: Settings) -> Assistant:
    key = settings.model_dump_json()
    with _engines_lock:
        if key not in _engines:
            _engines[key] = Assistant(settings)
        return _engines[key]


def resolve_settings(settings: Settings | None, *, collection: str | None = None, corpus: str | Path | None = None) -> Settings:
    settings = settings or load_settings()
    overrides: dict[str, dict] = {}
    if collection:
        overrides["store"] = {"collection": collection}
    if corpus:
        overrides["corpus"] = {"path": Path(corpus)}
    return settings.with_(**overrides) if overrides else settings


def make_filter(sources: Iterable[str] | None = None, date_from: dt.date | str | None = None,
                date_to: dt.date | str | None = None) -> SearchFilter | None:
    def as_date(value: dt.date | str | None) -> dt.date | None:
        return dt.date.fromisoformat(value) if isinstance(value, str) else value

    search_filter = SearchFilter(tuple(sources or ()), as_date(date_from), as_date(date_to))
    return None if search_filter.is_empty() else search_filter


def as_turns(history: Sequence[Turn | dict | tuple[str, str]] | None) -> tuple[Turn, ...]:
    """Accept Turns, (question, answer) pairs, or {"question", "answer"} dicts."""
    turns = []
    for item in history or ():
        if isinstance(item, Turn):
            turns.append(item)
        elif isinstance(item, dict):
            turns.append(Turn(question=item["question"], answer=item.get("answer", "")))
        else:
            question, answer = item
            turns.append(Turn(question=question, answer=answer))
    return tuple(turns)


def ask(question: str, *, top_k: int | None = None, collection: str | None = None, corpus: str | Path | None = None,
        history: Sequence[Turn | dict | tuple[str, str]] | None = None, sources: Iterable[str] | None = None,
        date_from: dt.date | str | None = None, date_to: dt.date | str | None = None,
        settings: Settings | None = None) -> Answer:
    """Answer one question from the indexed documents, with citations (builds the index on first use)."""
    engine = engine_for(resolve_settings(settings, collection=collection, corpus=corpus))
    return engine.ask(question, top_k=top_k, history=as_turns(history), filters=make_filter(sources, date_from, date_to))


def ask_stream(question: str, *, top_k: int | None = None, collection: str | None = None, corpus: str | Path | None = None,
               history: Sequence[Turn | dict | tuple[str, str]] | None = None, sources: Iterable[str] | None = None,
               date_from: dt.date | str | None = None, date_to: dt.date | str | None = None,
               settings: Settings | None = None) -> Iterator[str | Answer]:
    """Like ask(), but yields text pieces as they are generated and the final Answer last."""
    engine = engine_for(resolve_settings(settings, collection=collection, corpus=corpus))
    yield from engine.ask_stream(question, top_k=top_k, history=as_turns(history), filters=make_filter(sources, date_from, date_to))


def retrieve(query: str, *, top_k: int = 10, collection: str | None = None, corpus: str | Path | None = None,
             sources: Iterable[str] | None = None, date_from: dt.date | str | None = None,
             date_to: dt.date | str | None = None, settings: Settings | None = None) -> list[Passage]:
    """The top passages for a query (hybrid retrieval + reranking), best first."""
    engine = engine_for(resolve_settings(settings, collection=collection, corpus=corpus))
    return engine.retrieve(query, top_k=top_k, filters=make_filter(sources, date_from, date_to))
