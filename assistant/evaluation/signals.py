"""What the eval reads off an `Answer` beyond its text: the short answer and a confidence signal.

`Answer.short_answer` and `Answer.confidence` are being added to the answer type (issue 9); until a
field exists on the model class, the eval falls back (the answer text; the best evidence score the
retrieved passages carry) and records which source it used, so a report never passes one off as the other.
"""

from __future__ import annotations

from typing import Literal

from assistant.types import Answer

ConfidenceSource = Literal["confidence", "best_sentence_cosine", "top_passage_score", "none"]

# The reranker's per-passage cosine of the question to the passage's best sentence: the plain
# bi-encoder signal the extractive answerer's evidence score is built on.
BEST_SENTENCE_COSINE_KEY = "sentence_dense_feature"


def has_short_answer_field() -> bool:
    return "short_answer" in Answer.model_fields


def has_confidence_field() -> bool:
    return "confidence" in Answer.model_fields


def short_answer_of(answer: Answer) -> str | None:
    """The answer's short answer; None when the type has no such field or the answer gives none."""
    if not has_short_answer_field():
        return None
    return answer.short_answer  # type: ignore[attr-defined]  # guarded: the field exists on the class


def answer_span(answer: Answer) -> str:
    """What short-answer EM/F1 score: the short answer when there is one, else the answer text."""
    short = short_answer_of(answer)
    return short if short else answer.text


def confidence_of(answer: Answer) -> tuple[float | None, ConfidenceSource]:
    """The answer's confidence, or the best evidence score its passages carry, and which it is.

    Higher means more confident that the question is answered. An abstained answer still has its
    retrieved passages, so the fallback is defined for it too.
    """
    if has_confidence_field():
        value = answer.confidence  # type: ignore[attr-defined]  # guarded: the field exists on the class
        if value is not None:
            return float(value), "confidence"
    cosines = [p.scores[BEST_SENTENCE_COSINE_KEY] for p in answer.passages if BEST_SENTENCE_COSINE_KEY in p.scores]
    if cosines:
        return max(cosines), "best_sentence_cosine"
    if answer.passages:
        return answer.passages[0].score, "top_passage_score"
    return None, "none"
