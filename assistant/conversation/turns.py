"""The turn pipeline: one message in a conversation -> one Answer.

    small talk?  -> a reply without retrieval
    history      -> without small-talk turns (they carry nothing a follow-up could refer back to)
    a reply to a clarifying question ("the first one")? -> the clarified question
    else         -> the follow-up rewritten into a standalone question
    the engine   -> retrieves and answers that ONE standalone question
    clarify?     -> a short, generic question over unrelated documents with weak evidence is
                    answered with a question back naming the candidates

The engine never sees the conversation; this layer never retrieves or answers on its own."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Sequence

from assistant.conversation.clarify import (
    ClarifyRule,
    clarification,
    features,
    resolve_reply,
    should_clarify,
)
from assistant.conversation.rewriters import make_rewriter
from assistant.conversation.small_talk import SmallTalkKind, classify, reply
from assistant.engine import AnswerEngine, Stopwatch, final_answer
from assistant.index.store import SearchFilter
from assistant.index.view import IndexView
from assistant.types import Answer, Turn
from assistant.validation import validate_question, validate_top_k


def standalone_question(engine: AnswerEngine, question: str, history: Sequence[Turn]) -> str:
    """The standalone form of a follow-up, written by the rewriter that fits the engine's answerer."""
    return make_rewriter(engine.settings, engine.answerer()).rewrite(question, tuple(history))


def asked_question(engine: AnswerEngine, question: str, history: Sequence[Turn]) -> str:
    """The follow-up as the answer scorer reads it ('' = its standalone form), by the same rewriter."""
    return make_rewriter(engine.settings, engine.answerer()).asked(question, tuple(history))


def ask_turn(engine: AnswerEngine, question: str, *, top_k: int | None = None, history: Sequence[Turn] = (),
             filters: SearchFilter | None = None) -> Answer:
    return final_answer(stream_turn(engine, question, top_k=top_k, history=history, filters=filters))


def stream_turn(engine: AnswerEngine, question: str, *, top_k: int | None = None, history: Sequence[Turn] = (),
                filters: SearchFilter | None = None) -> Iterator[str | Answer]:
    """Yield answer text as it is produced, then the final validated Answer."""
    settings = engine.settings
    question = validate_question(question, settings.answer.max_question_chars)
    top_k = validate_top_k(top_k) if top_k is not None else settings.retrieval.top_k
    clock = Stopwatch()
    t = time.perf_counter()
    view = engine.view()
    t = clock.lap("load", t)
    small_talk = classify(question)
    if small_talk is not None:
        yield from _small_talk(engine, question, small_talk, view, clock)
        return
    history = [turn for turn in history if classify(turn.question) is None]
    # A reply to a clarifying question ("the first one") stands for the clarified question.
    resolved = resolve_reply(question, history)
    standalone = resolved or standalone_question(engine, question, history)
    clock.lap("rewrite", t)
    # A rewritten follow-up is searched in its own words too; a reply to a clarifying question ("the first one") is not.
    found = engine.search(standalone, top_k=top_k, filters=filters, clock=clock, said=question if resolved is None else "")
    passages = list(found.passages)
    # Only a turn that may need a clarifying question holds its text back until the confidence is known.
    rule = ClarifyRule()
    before_answer = (features(question, passages, 0.0, rule.top_passages, follow_up=bool(history))
                     if settings.answer.clarify and resolved is None else None)
    # Features of a turn that may need one: all known but the answer's confidence.
    unsure = before_answer if before_answer is not None and should_clarify(before_answer, rule) else None
    answer: Answer | None = None
    held: list[str] = []
    # A clarified question is already whole; a rewritten follow-up may be scored in the user's words.
    asked = asked_question(engine, question, history) if resolved is None and settings.answer.followup_scoring == "asked" else ""
    for piece in engine.answer_found(found, question=question, history=history, clock=clock, asked=asked):
        if isinstance(piece, Answer):
            answer = piece
        elif unsure is not None:
            held.append(piece)
        else:
            yield piece
    if answer is None:
        raise RuntimeError("the engine's answer stream ended without an Answer")
    if unsure is not None:
        confirmed = dataclasses.replace(unsure, confidence=answer.confidence or 0.0)
        if should_clarify(confirmed, rule):
            asked = clarification(passages, confirmed, rule)
            yield asked.text
            yield Answer(question=question, standalone_question=standalone, text=asked.text, citations=asked.citations,
                         passages=found.passages, kind="clarification", confidence=answer.confidence,
                         answerer="clarify", timings=answer.timings, config_hash=answer.config_hash, usage=answer.usage)
            return
        yield from held
    yield answer


def _small_talk(engine: AnswerEngine, question: str, kind: SmallTalkKind, view: IndexView,
                clock: Stopwatch) -> Iterator[str | Answer]:
    """Reply to a greeting, thanks or meta question without retrieval. The inventory comes from the
    loaded snapshot's manifest (already in memory). Confidence stays None: the reply makes no claim
    about the documents, so there is nothing for the calibrated scorer to be confident about."""
    documents = view.manifest.documents
    titles = [entry.title or source for source, entry in documents.items()]
    text = reply(kind, collection=engine.settings.store.collection, titles=titles)
    yield text
    yield Answer(question=question, standalone_question=question, text=text, kind="small_talk",
                 answerer="small_talk", timings=clock.finish(), config_hash=engine.answer_hash(view))
