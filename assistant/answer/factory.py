"""Pick the answerer named in the settings."""

from __future__ import annotations

from assistant.answer.base import Answerer
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.scorer import ScorerAndCalibration
from assistant.answer.span_reader import SpanReader
from assistant.config import Settings
from assistant.index.view import IndexView


def make_answerer(settings: Settings, view: IndexView, *,
                  scorer: ScorerAndCalibration | None = None, reader: SpanReader | None = None,
                  collection_threshold: float | None = None) -> Answerer:
    """`scorer`: the learned answer scorer and its calibration (None: the lexical score decides);
    `reader`: the short-answer reader (None: typed patterns); `collection_threshold`: the
    collection's own abstention point (None: the calibration's)."""
    extractive = ExtractiveAnswerer(settings.answer, view, scorer=scorer, reader=reader,
                                    collection_threshold=collection_threshold)
    kind = settings.answer.answerer
    if kind == "extractive":
        return extractive
    # Generative backends validate against the same passages and fall back to the extractive answer.
    from assistant.answer.generative import make_generative_answerer

    return make_generative_answerer(settings, fallback=extractive)
