"""What a turn showed: a finished Answer kept as a Turn, and a kept Turn shown again as an Answer.

A saved chat must look the same after a reload as it did live, so the Turn keeps everything the
page renders (kind, short answer, confidence, notes, flagged sentences, citations with quotes) and
`answer_of` rebuilds the Answer the page's one renderer takes. Turns saved before these fields
existed load with their defaults (an answer with no short answer, notes or confidence)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from assistant.errors import SessionFormatError
from assistant.types import Answer, Citation, Turn

SAVED_TURN_KEYS = frozenset(Turn.model_fields)


def turn_of(answer: Answer) -> Turn:
    """The turn to keep in the history (and in a saved chat) for a finished answer."""
    return Turn(question=answer.question, answer=answer.text, standalone_question=answer.standalone_question,
                citations=answer.citations, kind=answer.kind, short_answer=answer.short_answer,
                confidence=answer.confidence, notes=answer.notes, unsupported=answer.unsupported,
                answerer=answer.answerer)


def answer_of(turn: Turn) -> Answer:
    """The answer as it was shown, for rendering again (no passages or timings: a turn keeps neither)."""
    return Answer(question=turn.question, standalone_question=turn.standalone_question or turn.question,
                  text=turn.answer, citations=turn.citations, abstained=turn.kind == "abstention", kind=turn.kind,
                  unsupported=turn.unsupported, notes=turn.notes, short_answer=turn.short_answer,
                  confidence=turn.confidence, answerer=turn.answerer)


def parse_turn(entry: object, where: str) -> Turn:
    """One saved turn (a dict as `Turn.model_dump(mode="json")` writes it); SessionFormatError names
    the field that is wrong."""
    if not isinstance(entry, Mapping):
        raise SessionFormatError(f"{where} must be a dict with question, answer, standalone_question, citations")
    unknown = sorted(repr(key) for key in entry if key not in SAVED_TURN_KEYS)
    if unknown:
        raise SessionFormatError(f"{where} has unknown key(s) {', '.join(unknown)}")
    question, answer = entry.get("question"), entry.get("answer", "")
    if not isinstance(question, str) or not question.strip():
        raise SessionFormatError(f"{where} needs a non-empty 'question' (text), got {question!r}")
    if not isinstance(answer, str):
        raise SessionFormatError(f"{where} 'answer' must be text, got {type(answer).__name__}")
    standalone = entry.get("standalone_question")
    if standalone is not None and not isinstance(standalone, str):
        raise SessionFormatError(f"{where} 'standalone_question' must be text, got {type(standalone).__name__}")
    citations = entry.get("citations", [])
    if not isinstance(citations, list):
        raise SessionFormatError(f"{where} 'citations' must be a list, got {type(citations).__name__}")
    parsed: list[Citation] = []
    for j, citation in enumerate(citations):
        try:
            parsed.append(Citation.model_validate(citation))
        except ValidationError as err:
            raise SessionFormatError(f"{where} citations[{j}] field {_field(err)!r}: {err.errors()[0]['msg']}") from err
    try:
        return Turn.model_validate({**entry, "answer": answer, "citations": tuple(parsed)})
    except ValidationError as err:
        raise SessionFormatError(f"{where} field {_field(err)!r}: {err.errors()[0]['msg']}") from err


def _field(err: ValidationError) -> str:
    return ".".join(str(part) for part in err.errors()[0]["loc"]) or "(the entry)"
