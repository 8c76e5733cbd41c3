"""Rerankers: reorder fused candidates. The default scores each passage by its best sentences,
using the sentence vectors and sentence BM25 computed at index time."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from assistant.config import RetrievalSettings
from assistant.errors import ConfigError, MissingExtraError
from assistant.index.sentence_index import SentenceIndex
from assistant.retrieval.bm25 import sentence_bm25
from assistant.types import Passage


class Reranker(Protocol):
    name: str

    def rerank(self, query: str, query_vector: np.ndarray, passages: Sequence[Passage]) -> list[Passage]:
        """Return the passages re-scored and sorted best first."""


def _max_normalise(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if values.size else 0.0
    return values / top if top > 0 else np.zeros_like(values)


# The reranking features, in the order of `SentenceReranker.features` columns.
FEATURES = ("dense", "bm25", "sentence_dense", "sentence_bm25", "sentence_joint")


def feature_weights(settings: RetrievalSettings) -> np.ndarray:
    return np.array([settings.weight_dense, settings.weight_bm25, settings.weight_sentence_dense,
                     settings.weight_sentence_bm25, settings.weight_sentence_joint], np.float32)


class SentenceReranker:
    """A weighted sum of passage- and sentence-level evidence (weights tuned on SQuAD dev):

    - dense: cosine of the question to the passage vector (mean of its sentence vectors),
    - bm25: passage BM25, divided by the best candidate's,
    - sentence_dense: cosine of the question to the passage's best-matching sentence,
    - sentence_bm25: the passage's best sentence BM25, divided by the best candidate sentence's,
    - sentence_joint: the best single sentence by cosine + normalised sentence BM25 together
      (rewards one sentence that both means and says what the question asks).
    """

    name = "sentence"

    def __init__(self, settings: RetrievalSettings, sentences: SentenceIndex) -> None:
        self._weights = feature_weights(settings)
        self._sentences = sentences

    def features(self, query: str, query_vector: np.ndarray, passages: Sequence[Passage]) -> np.ndarray:
        """One row per passage, one column per name in FEATURES."""
        index = self._sentences
        out = np.zeros((len(passages), len(FEATURES)), np.float32)
        if not passages:
            return out
        rows_per = [index.rows_for(p.chunk_id) for p in passages]
        all_rows = np.fromiter(itertools.chain.from_iterable(rows_per), dtype=np.int64)
        owner = np.repeat(np.arange(len(passages)), [len(r) for r in rows_per])
        cosines = index.rows_float32(all_rows) @ query_vector if all_rows.size else np.zeros(0, np.float32)
        keyword = sentence_bm25(index, query, all_rows)
        keyword = _max_normalise(keyword)
        joint = cosines + keyword
        for column, values in ((2, cosines), (3, keyword), (4, joint)):
            best = np.full(len(passages), -np.inf, np.float32)
            np.maximum.at(best, owner, values)
            out[:, column] = np.where(np.isfinite(best), best, 0.0)
        out[:, 0] = [p.scores.get("dense", 0.0) for p in passages]
        out[:, 1] = _max_normalise(np.array([p.scores.get("bm25", 0.0) for p in passages], np.float32))
        return out

    def rerank(self, query: str, query_vector: np.ndarray, passages: Sequence[Passage]) -> list[Passage]:
        if not passages:
            return []
        features = self.features(query, query_vector, passages)
        total = features @ self._weights
        rescored = [
            p.model_copy(update={"score": float(total[i]),
                                 "scores": {**p.scores, **{f"{name}_feature": float(features[i, j]) for j, name in enumerate(FEATURES)},
                                            "rerank": float(total[i])}})
            for i, p in enumerate(passages)
        ]
        return sorted(rescored, key=lambda p: (-p.score, p.chunk_id))


class NoReranker:
    name = "none"

    def rerank(self, query: str, query_vector: np.ndarray, passages: Sequence[Passage]) -> list[Passage]:
        return sorted(passages, key=lambda p: (-p.score, p.chunk_id))


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder from a local folder the user supplies."""

    name = "cross-encoder"

    def __init__(self, settings: RetrievalSettings) -> None:
        if settings.cross_encoder_path is None or not settings.cross_encoder_path.is_dir():
            raise ConfigError(f"reranker 'cross-encoder' needs ASSISTANT_RETRIEVAL__CROSS_ENCODER_PATH set to a local model folder "
                              f"(got {settings.cross_encoder_path})")
        try:
            from sentence_transformers import CrossEncoder
        except ImportError as exc:
            raise MissingExtraError("The cross-encoder reranker", "all", "sentence-transformers") from exc
        self._model = CrossEncoder(str(settings.cross_encoder_path), device="cpu")

    def rerank(self, query: str, query_vector: np.ndarray, passages: Sequence[Passage]) -> list[Passage]:
        if not passages:
            return []
        scores = self._model.predict([(query, p.text) for p in passages], show_progress_bar=False)
        rescored = [p.model_copy(update={"score": float(sc), "scores": {**p.scores, "rerank": float(sc)}})
                    for p, sc in zip(passages, np.atleast_1d(scores))]
        return sorted(rescored, key=lambda p: (-p.score, p.chunk_id))


def make_reranker(settings: RetrievalSettings, sentences: SentenceIndex) -> Reranker:
    if settings.reranker == "sentence":
        return SentenceReranker(settings, sentences)
    if settings.reranker == "cross-encoder":
        return CrossEncoderReranker(settings)
    return NoReranker()
