"""Expected answer types from the question's wording, and whether a sentence offers one.

A sentence that merely restates the question does not answer it; the one that adds a place for
"where", a figure for "how many" or a date for "when" usually does."""

from __future__ import annotations

import re

_MONTHS = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
_DATE = re.compile(rf"\b(?:1[5-9]\d\d|20\d\d)\b|\b{_MONTHS}\b|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b|\b\d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}}\b")
_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion|trillion|dozen|half)\b", re.I)
_PLACE = re.compile(r"\b(?:in|at|from|near|to|into|based)\s+(?:the\s+)?([A-Z][\w’'.-]+(?:\s+[A-Z][\w’'.-]+)*)")
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b([A-Z][a-z’'.-]+(?:\s+(?:[A-Z]\.|[A-Z][a-z’'.-]+))+)")

_QUESTION_TYPES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(how (many|much|long|far|old|large|big)|what (number|amount|percentage|share|size)|minimum|maximum|how (often))\b", re.I), "number"),
    (re.compile(r"\b(when|what (year|date|day|month|time)|which (year|date|day|month))\b", re.I), "date"),
    (re.compile(r"\b(where|which (city|country|place|town|region|location|base)|what (city|country|place|town|location))\b", re.I), "place"),
    (re.compile(r"\b(who|whom|whose)\b", re.I), "person"),
]


def expected_type(question: str) -> str | None:
    for pattern, kind in _QUESTION_TYPES:
        if pattern.search(question):
            return kind
    return None


_CALENDAR = re.compile(rf"^(?:{_MONTHS}|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)$")


def _novel(candidates: list[str], question_lower: str) -> bool:
    return any(c and c.lower() not in question_lower for c in candidates)


def _names(candidates: list[str]) -> list[str]:
    """Capitalised candidates that are not months or weekdays."""
    cleaned = [c.rstrip(".’'-") for c in candidates]
    return [c for c in cleaned if c and not _CALENDAR.match(c.split()[0])]


def offers_type(sentence: str, kind: str, question: str) -> bool:
    """Does the sentence contain something of the expected type that the question doesn't already say?"""
    q = question.lower()
    if kind == "date":
        return _novel(_DATE.findall(sentence), q)
    if kind == "number":
        return _novel(_NUMBER.findall(sentence), q)
    if kind == "place":
        return _novel(_names(_PLACE.findall(sentence)), q)
    if kind == "person":
        return _novel(_names(_NAME.findall(sentence)), q)
    return False
