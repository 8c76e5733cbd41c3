"""The follow-up rewriter seam: one Protocol, two implementations, one factory.

Follow-ups ("Where will it be based?") become standalone questions before retrieval. With a
generative answerer its model writes the rewrite (checked, see model_rewrite); otherwise the salient
terms of earlier turns are carried into the query (rewrite), and the answer scorer reads the user's words
with the referent (asked_form)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from assistant.answer.base import Answerer
from assistant.answer.generative import GenerativeAnswerer
from assistant.config import Settings
from assistant.conversation.model_rewrite import ModelRewriter
from assistant.conversation.rewrite import asked_form, rewrite_followup
from assistant.types import Turn


class Rewriter(Protocol):
    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        """The standalone form of a follow-up question (unchanged when it stands alone): what retrieval searches."""

    def asked(self, question: str, history: Sequence[Turn]) -> str:
        """The follow-up as the answer scorer reads it, in natural words ('': the standalone form is that)."""


class DeterministicRewriter:
    """Carries the salient terms of earlier turns into a follow-up that refers back."""

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        return rewrite_followup(question, history)

    def asked(self, question: str, history: Sequence[Turn]) -> str:
        return asked_form(question, history)


def make_rewriter(settings: Settings, answerer: Answerer) -> Rewriter:
    """The model-written (and checked) rewriter when `answerer` is generative, else the deterministic one."""
    if isinstance(answerer, GenerativeAnswerer):
        return ModelRewriter(settings, answerer.backend)
    return DeterministicRewriter()
