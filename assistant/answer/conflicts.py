"""Dates and disagreement: prefer newer sources when retrieved sentences disagree, and notice
when a question asks for the latest state of things."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from assistant.types import Passage

_NUMBER = re.compile(r"(?<![\w-])\d[\d,.]*(?![\w-])")
_RECENCY = re.compile(r"\b(latest|current(ly)?|now|today|recent(ly)?|still|yet|as of|so far|most recent|newest|up to date)\b", re.I)


class Scored(Protocol):
    passage: Passage
    text: str
    score: float


def numbers_in(text: str) -> set[str]:
    return {n.rstrip(".,").replace(",", "") for n in _NUMBER.findall(text)}


def asks_for_latest(question: str) -> bool:
    return bool(_RECENCY.search(question))


CONFLICT_MARGIN = 0.15  # how close to the best a disagreeing sentence must score to count


def find_disagreement(ranked: Sequence[Scored], margin: float = CONFLICT_MARGIN) -> tuple[Scored, Scored] | None:
    """(newer, older): two strong sentences from differently dated sources whose figures differ."""
    if not ranked:
        return None
    floor = ranked[0].score - margin
    strong = [s for s in ranked if s.score >= floor and s.passage.date is not None and numbers_in(s.text)]
    for i, first in enumerate(strong):
        for second in strong[i + 1:]:
            if first.passage.source == second.passage.source or first.passage.date == second.passage.date:
                continue
            if numbers_in(first.text).isdisjoint(numbers_in(second.text)):
                newer, older = (first, second) if first.passage.date > second.passage.date else (second, first)
                return newer, older
    return None


def disagreement_note(newer: Scored, older: Scored) -> str:
    return (f"The sources differ: {older.passage.title!r} ({older.passage.date}) and the newer "
            f"{newer.passage.title!r} ({newer.passage.date}); the newer source is preferred.")
