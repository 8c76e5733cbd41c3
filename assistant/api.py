"""The programmatic entry points: ask(), ask_stream(), retrieve().

Engines come from the shared engine pool (assistant.engine_pool), so repeated calls reuse the loaded
model and index; questions go through the conversation layer's turn pipeline."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from assistant.arguments import (
    DateLike,
    HistoryLike,
    SourcesLike,
    make_filter,
    may_build_on_first_use,
    resolve_settings,
)
from assistant.config import Settings
from assistant.conversation.turns import ask_turn, stream_turn
from assistant.engine import AnswerEngine
from assistant.engine_pool import engine_for
from assistant.index.store import SearchFilter
from assistant.types import Answer, Passage, Turn
from assistant.validation import validate_history, validate_question, validate_top_k

RETRIEVE_TOP_K = 10  # retrieve() is for looking at candidates, so it returns more than an answer uses


@dataclass(frozen=True)
class _Call:
    """One entry-point call with every argument checked, ready for the engine."""

    engine: AnswerEngine
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
    return ask_turn(call.engine, call.question, top_k=call.top_k, history=call.history, filters=call.filters)


def ask_stream(question: str, *, top_k: int | None = None, collection: str | None = None, corpus: str | os.PathLike[str] | None = None,
               history: HistoryLike | None = None, sources: SourcesLike = None,
               date_from: DateLike = None, date_to: DateLike = None,
               settings: Settings | None = None) -> Iterator[str | Answer]:
    """Like ask(), but yields text pieces as they are generated and the final Answer last.

    Not a generator itself: bad arguments raise here, at the call, not at the first next()."""
    call = _prepare(question, top_k=top_k, collection=collection, corpus=corpus, history=history, sources=sources,
                    date_from=date_from, date_to=date_to, settings=settings)
    return stream_turn(call.engine, call.question, top_k=call.top_k, history=call.history, filters=call.filters)


def retrieve(query: str, *, top_k: int = RETRIEVE_TOP_K, collection: str | None = None, corpus: str | os.PathLike[str] | None = None,
             sources: SourcesLike = None, date_from: DateLike = None,
             date_to: DateLike = None, settings: Settings | None = None) -> list[Passage]:
    """The top passages for a query (hybrid retrieval + reranking), best first."""
    call = _prepare(query, top_k=top_k, collection=collection, corpus=corpus, history=None, sources=sources,
                    date_from=date_from, date_to=date_to, settings=settings)
    return call.engine.retrieve(call.question, top_k=call.top_k or RETRIEVE_TOP_K, filters=call.filters)
