"""The answerer interface and the values that cross it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from assistant.types import Citation, Passage, TokenUsage, Turn

ABSTAIN_TEXT = "The documents don't answer this question."


@dataclass(frozen=True)
class AnswerRequest:
    question: str                       # the standalone question (follow-ups already rewritten)
    query_vector: np.ndarray
    passages: tuple[Passage, ...]
    history: tuple[Turn, ...] = ()
    # A follow-up as the user asked it, with its referent in natural words: what the learned scorer and
    # the confidence read (a keyword-padded `question` is for finding and ranking sentences). Empty: `question`.
    asked: str = ""

    @property
    def scored_question(self) -> str:
        return self.asked or self.question


@dataclass(frozen=True)
class AnswerDraft:
    text: str
    citations: tuple[Citation, ...] = ()
    abstained: bool = False
    unsupported: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    short_answer: str | None = None
    confidence: float | None = None
    # Chunks a quote was taken from that retrieval did not return: the chunk before a retrieved one
    # that holds the antecedent of a quote opening "This will be..."; the answer lists them as passages.
    context_passages: tuple[Passage, ...] = ()
    # Tokens a language model read and wrote for this draft (zeros where none ran).
    usage: TokenUsage = field(default_factory=TokenUsage)


class Answerer(Protocol):
    name: str

    def answer(self, request: AnswerRequest) -> AnswerDraft:
        """A complete, validated answer draft."""

    def stream(self, request: AnswerRequest) -> Iterator[str | AnswerDraft]:
        """Text pieces as they are produced, then the final validated draft (always last)."""


def abstention(reason: str = ABSTAIN_TEXT, *, confidence: float | None = None) -> AnswerDraft:
    return AnswerDraft(text=reason, abstained=True, confidence=confidence)
