"""Short answers: the phrase of a quoted sentence that answers the question ("when?" -> the date).

Only for questions that ask for a kind of thing (a date, a number, a place, a person, what an
acronym stands for); a question that wants an explanation gets None and the quoted sentences
stand on their own. The phrase is always a substring of a quote, so it is cited by construction."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.answer.answer_types import expected_type, typed_candidates


def short_answer(question: str, quotes: Sequence[str]) -> str | None:
    """The first phrase of the expected kind that the question doesn't already contain, from the
    quotes in the order given (best first)."""
    kind = expected_type(question)
    if kind is None:
        return None
    for quote in quotes:
        found = [c for c in typed_candidates(quote, kind, question) if c in quote]
        if found:
            return found[0]
    return None
