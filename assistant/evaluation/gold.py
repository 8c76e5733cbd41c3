"""Gold Q&A sets: the schema and a loader that reports a bad line by its number.

One JSON object per line (blank lines are skipped):

    {"id": "...", "question": "...", "answers": ["alias", ...], "sources": ["doc id", ...],
     "answerable": true, "turns": [], "category": "single|unanswerable|followup|conflict",
     "notes": "optional free text"}

Labels are at document level (doc id = path relative to the corpus root, or the JSONL record id),
so they survive re-chunking. A multi-turn item (category "followup") lists every turn in `turns`,
first turn included; its top-level question/answers/sources/answerable repeat the first turn.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from assistant.evaluation.errors import EvalError, GoldFormatError
from assistant.jsonl import iter_json_objects

Category = Literal["single", "unanswerable", "followup", "conflict"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _strip_nonempty(values: tuple[str, ...], what: str) -> tuple[str, ...]:
    cleaned = tuple(v.strip() for v in values)
    if any(not v for v in cleaned):
        raise ValueError(f"{what} must not contain empty strings")
    return cleaned


class GoldTurn(_Frozen):
    """One question of a conversation with what a correct reply contains."""

    question: str = Field(min_length=1)
    answers: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    answerable: bool = True

    @field_validator("answers")
    @classmethod
    def _answers_nonempty(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _strip_nonempty(v, "answers")

    @field_validator("sources")
    @classmethod
    def _sources_nonempty(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _strip_nonempty(v, "sources")

    @model_validator(mode="after")
    def _consistent(self) -> "GoldTurn":
        if not self.question.strip():
            raise ValueError("question is blank")
        if self.answerable and not self.answers:
            raise ValueError("an answerable question needs at least one answer alias")
        if self.answerable and not self.sources:
            raise ValueError("an answerable question needs at least one gold source document")
        if not self.answerable and self.answers:
            raise ValueError("an unanswerable question must have no answers")
        return self


class GoldItem(_Frozen):
    """One gold item: a single question, or a conversation whose turns are asked in order."""

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    answers: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    answerable: bool = True
    turns: tuple[GoldTurn, ...] = ()
    category: Category = "single"
    notes: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> "GoldItem":
        if self.category == "unanswerable" and self.answerable:
            raise ValueError("category 'unanswerable' needs answerable: false")
        if self.category in ("single", "conflict") and not self.answerable:
            raise ValueError(f"category {self.category!r} needs answerable: true (use 'unanswerable')")
        first = GoldTurn(question=self.question, answers=self.answers, sources=self.sources, answerable=self.answerable)
        if self.category == "followup":
            if len(self.turns) < 2:
                raise ValueError("a 'followup' item needs at least 2 turns")
            if self.turns[0] != first:
                raise ValueError("the top-level question/answers/sources/answerable must repeat turns[0]")
        elif self.turns:
            raise ValueError(f"only 'followup' items have turns, this one is {self.category!r}")
        if self.category == "conflict" and len(set(self.sources)) < 2:
            raise ValueError("a 'conflict' item needs at least 2 gold sources (the ones that disagree)")
        return self

    @property
    def all_turns(self) -> tuple[GoldTurn, ...]:
        """The questions to ask in order: the turns of a conversation, or the item itself."""
        if self.turns:
            return self.turns
        return (GoldTurn(question=self.question, answers=self.answers, sources=self.sources, answerable=self.answerable),)

    @property
    def all_sources(self) -> set[str]:
        return {src for turn in self.all_turns for src in turn.sources}


def _problem(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def parse_gold_lines(lines: Iterable[str], *, path: str = "<gold>") -> tuple[GoldItem, ...]:
    """Parse gold JSONL text; raise GoldFormatError naming the first bad line."""
    items: list[GoldItem] = []
    seen: dict[str, int] = {}
    for line_no, record in iter_json_objects(lines, lambda n, problem: GoldFormatError(path, n, problem)):
        try:
            item = GoldItem.model_validate(record)
        except ValidationError as exc:
            raise GoldFormatError(path, line_no, _problem(exc)) from None
        if item.id in seen:
            raise GoldFormatError(path, line_no, f"duplicate id {item.id!r} (first on line {seen[item.id]})")
        seen[item.id] = line_no
        items.append(item)
    if not items:
        raise GoldFormatError(path, 0, "the gold file holds no items")
    return tuple(items)


def load_gold(path: str | Path, *, known_sources: Collection[str] | None = None) -> tuple[GoldItem, ...]:
    """Load and validate a gold JSONL file.

    known_sources: when given, every gold source must be one of these doc ids; an unknown one is
    reported with its line number (it usually means the gold file and the corpus do not match).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EvalError(f"gold file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"cannot read gold file {path}: {exc}") from None
    lines = text.splitlines()
    items = parse_gold_lines(lines, path=str(path))
    if known_sources is not None:
        known = set(known_sources)
        line_of = {}
        for line_no, line in enumerate(lines, start=1):
            if line.strip():
                line_of[json.loads(line)["id"]] = line_no
        for item in items:
            missing = sorted(item.all_sources - known)
            if missing:
                raise GoldFormatError(
                    str(path), line_of[item.id], f"gold source {missing[0]!r} is not a document of the corpus"
                )
    return items
