"""Dates and disagreement: prefer newer sources when retrieved sentences disagree."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from assistant.sentences import content_terms
from assistant.types import Passage

_NUMBER = re.compile(r"(?<![\w-])\d[\d,.]*(?![\w-])")


class Scored(Protocol):
    passage: Passage
    text: str
    score: float


_COUNTED = re.compile(rf"({_NUMBER.pattern})\s+([A-Za-z][\w’'-]*)")  # a figure and the word after it


def _figure(raw: str) -> str:
    """'1,200.' -> '1200': one spelling per figure, so the same number compares equal."""
    return raw.rstrip(".,").replace(",", "")


def numbers_in(text: str) -> set[str]:
    return {_figure(n) for n in _NUMBER.findall(text)}


def quantities(text: str) -> dict[str, set[str]]:
    """What each figure counts: the stem of the word after it -> the figures given ("32 member
    states" -> {"member": {"32"}}). Figures before a stop word ("in 2024 the") count nothing."""
    found: dict[str, set[str]] = {}
    for number, word in _COUNTED.findall(text):
        terms = content_terms(word)
        if terms:
            found.setdefault(terms[0], set()).add(_figure(number))
    return found


def differing_figures(first: str, second: str) -> bool:
    """Do the two texts give different figures for the same counted thing? Two sentences that
    merely both hold numbers (a date in one, a count in the other) do not disagree."""
    a, b = quantities(first), quantities(second)
    return any(a[noun].isdisjoint(b[noun]) for noun in a.keys() & b.keys())


CONFLICT_MARGIN = 0.15  # how close to the best a disagreeing sentence must score to count


def find_disagreement(ranked: Sequence[Scored], margin: float = CONFLICT_MARGIN) -> tuple[Scored, Scored] | None:
    """(newer, older): two strong sentences from differently dated sources that give different
    figures for the same counted thing."""
    if not ranked:
        return None
    floor = ranked[0].score - margin
    strong = [s for s in ranked if s.score >= floor and s.passage.date is not None and numbers_in(s.text)]
    for i, first in enumerate(strong):
        for second in strong[i + 1:]:
            if first.passage.source == second.passage.source or first.passage.date == second.passage.date:
                continue
            if differing_figures(first.text, second.text):
                newer, older = (first, second) if first.passage.date > second.passage.date else (second, first)
                return newer, older
    return None


def disagreement_note(newer: Scored, older: Scored) -> str:
    return (f"The sources differ: {older.passage.title!r} ({older.passage.date}) and the newer "
            f"{newer.passage.title!r} ({newer.passage.date}); the newer source is preferred.")
