"""Short answers: the phrase of a quoted sentence that answers the question ("when?" -> the date).

With the learned reader (`span_reader.py`), the phrase it reads in the first quoted sentence; a
question that wants an explanation ("why ...?", "how does ...?") gets None and the quotes stand on
their own. Without it, typed patterns: only for questions that ask for a kind of thing (a date, a
number, a place, a person, what an acronym stands for). The phrase is always a substring of a
quote, so it is cited by construction."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answer.answer_types import expected_type, typed_candidates
from assistant.answer.span_reader import SpanReader

_EXPLANATION = re.compile(r"^\W*(?:why|how)\b(?!\s+(?:many|much|long|far|old|large|big|often|tall|high|deep|wide|few))", re.I)


def wants_explanation(question: str) -> bool:
    """'Why ...?' and 'How does ...?' want a reason or a process; 'How many ...?' wants a phrase."""
    return bool(_EXPLANATION.match(question))


def pattern_short_answer(question: str, quotes: Sequence[str]) -> str | None:
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


def short_answer(question: str, quotes: Sequence[str], reader: SpanReader | None = None) -> str | None:
    if reader is None:
        return pattern_short_answer(question, quotes)
    if not quotes or wants_explanation(question):
        return None
    span = reader.read(question, quotes[0])
    text = span.text.strip(" ,;:") if span is not None else ""
    return text or None
