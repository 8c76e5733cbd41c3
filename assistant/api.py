"""The programmatic entry points: ask(), ask_stream(), retrieve().

Engines are memoised per settings so repeated calls reuse the loaded model and index."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from assistant.config import Settings, load_settings, settings_error
from assistant.engine import Assistant
from assistant.index.store import SearchFilter
from assistant.types import Answer, Passage, Turn
from assistant.validation import (
    DATE_ARGUMENTS,
    DateLabels,
    expand_path,
    validate_date_range,
    validate_history,
    validate_question,
    validate_sources,
    validate_top_k,
)

SourcesLike = str | Iterable[str] | None
DateLike = dt.date | str | None
HistoryLike = Sequence[Turn | Mapping[str, str] | tuple[str, str] | list[str]]

RETRIEVE_TOP_K = 10  # retrieve() is for looking at candidates, so it returns more than an answer uses

_engines: dict[str, Assistant] = {}
_engines_lock = threading.Lock()


def may_build_on_first_use(collection: object, corpus: object) -> bool:
    """A collection named without a corpus must already exist: it is never filled from the default
    corpus. The one rule behind `ask()`, `assistant ask/chat/serve` and `python -m ui`."""
    return not (collection and not corpus)


def engine_for(settings: Settings, *, auto_index: bool = True) -> Assistant:
    """The shared engine for these settings. `auto_index=False`: a collection that was never built
    raises IndexMissingError instead of being built from the configured corpus."""
    key = f"{auto_index}:{settings.model_dump_json()}"
    with _engines_lock:
        if key not in _engines:
            _engines[key] = Assistant(settings, auto_index=auto_index)
        return _engines[key]


def resolve_settings(settings: Settings | None, *, collection: str | None = None,
                     corpus: str | os.PathLike[str] | None = None) -> Settings:
    """The settings an entry point runs with: `settings` (or the environment's) with `collection=` and
    `corpus=` applied. Invalid values raise ConfigError naming the setting."""
    overrides: dict[str, dict[str, Any]] = {}
    if collection is not None:
        overrides["store"] = {"collection": collection}
    if corpus is not None:
        overrides["corpus"] = {"path": expand_path(corpus, name="corpus")}
    try:
        settings = settings or load_settings()
        return settings.with_(**overrides) if overrides else settings
    except ValidationError as exc:
        raise settings_error(exc) from None


def make_filter(sources: SourcesLike = None, date_from: DateLike = None, date_to: DateLike = None, *,
                labels: DateLabels = DATE_ARGUMENTS) -> SearchFilter | None:
    """A SearchFilter from caller-friendly values, or None when nothing is filtered. The one filter
    builder of the CLI, the API and the page (`labels`: how its messages name the two dates)."""
    start, end = validate_date_range(date_from, date_to, labels)
    search_filter = SearchFilter(validate_sources(sources), start, end)
    return None if search_filter.is_empty() else search_filter


def as_turns(history: HistoryLike | None) -> tuple[Turn, ...]:
    """Accept Turns, (question, answer) pairs, or {"question", "answer"} dicts; anything else raises
    InvalidArgumentError naming the entry."""
    return validate_history(history)


@dataclass(frozen=True)
class _Call:
    """One entry-point call with every argument checked, ready for the engine."""

    engine: Assistant
    question: str
    top_k: int | None
    history: tuple[Turn, ...]
    filters: SearchFilter | None


def _prepare(question: object, *, top_k: object, collection: str | None, corpus: str | os.PathLike[str] | None,
             history: object, sources: SourcesLike, date_from: DateLike, date_to: DateLike,
             settings: Settings | None) -> _Call:
    # Every argument is checked before engine_for(), so a bad one never loads a model or an index.
    resolved = resolve_settings(settings, collection=collection, corpus=corpus)
    checked_question = validate_question(question, resolved.answer.max_question_chars)
    checked_top_k = None if top_k is None else validate_top_k(top_k)
    turns = validate_history(history)
    filters = make_filter(sources, date_from, date_to)
    return _Call(engine_for(resolved, auto_index=may_build_on_first_use(collection, corpus)), checked_question, checked_top_k, turns, filters)


def ask(question: str, *, top_k: int | None = None, collection: str | None = None, corpus: str | os.PathLike[str] | None = None,
        history: HistoryLike | None = None, sources: SourcesLike = None,
        date_from: DateLike = None, date_to: DateLike = None,
        settings: Settings | None = None) -> Answer:
    """Answer one question from the indexed documents, with citations (builds the index on first use)."""
    call = _prepare(question, top_k=top_k, collection=collection, corpus=corpus, history=history, sources=sources,
                    date_from=date_from, date_to=date_to, settings=settings)
    return call.engine.ask(call.question, top_k=call.top_k, history=call.history, filters=call.filters)


def ask_stream(question: str, *, top_k: int | None = None, collection: str | None = None, corpus: str | os.PathLike[str] | None = None,
               history: HistoryLike | None = None, sources: SourcesLike = None,
               date_from: DateLike = None, date_to: DateLike = None,
               settings: Settings | None = None) -> Iterator[str | Answer]:
    """Like ask(), but yields text pieces as they are generated and the final Answer last.

    Not a generator itself: bad arguments raise here, at the call, not at the first next()."""
    call = _prepare(question, top_k=top_k, collection=collection, corpus=corpus, history=history, sources=sources,
                    date_from=date_from, date_to=date_to, settings=settings)
    return call.engine.ask_stream(call.question, top_k=call.top_k, history=call.history, filters=call.filters)


def retrieve(query: str, *, top_k: int = RETRIEVE_TOP_K, collection: str | None = None, corpus: str | os.PathLike[str] | None = None,
             sources: SourcesLike = None, date_from: DateLike = None,
             date_to: DateLike = None, settings: Settings | None = None) -> list[Passage]:
    """The top passages for a query (hybrid retrieval + reranking), best first."""
    call = _prepare(query, top_k=top_k, collection=collection, corpus=corpus, history=None, sources=sources,
                    date_from=date_from, date_to=date_to, settings=settings)
    return call.engine.retrieve(call.question, top_k=call.top_k or RETRIEVE_TOP_K, filters=call.filters)
