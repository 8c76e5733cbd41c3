"""Rerankers: reorder fused candidates. The default scores each passage by its best sentences,
using the sentence vectors and sentence BM25 computed at index time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from assistant.config import RetrievalSettings
from assistant.errors import ConfigError, MissingExtraError
from assistant.sentence_index import SentenceIndex
from assistant.types import Passage


class Reranker(Protocol):
    name: str

    def rerank(self, query: str, query_vector: np.ndarray, passages: Sequence[Passage]) -> list[Passage]:
        """Return the passages re-scored and sorted best first."""


def _max_normalise(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if values.size else 0.0
    return values / top if top > 0 else np.zeros_like(values)


class SentenceReranker:
    """score = w_d*dense + w_b*bm25/max + w_sd*max sentence cosine + w_sb*max sentence BM25/max."""

    name = "sentence"

    def __init__(self, settings: RetrievalSettings, sentences: SentenceIndex) -> None:
        self._settings = settings
        self._sentences = sentences

    def sentence_features(self, query: str, query_vector: np.ndarray, passages: Sequence[Passage]) -> tuple[np.ndarray, np.ndarray]:
        index = self._sentences
        keyword_scores = index.keyword.scores(query) if index.keyword is not None else np.zeros(len(index))
        best_cos = np.zeros(len(passages), np.float32)
        best_bm25 = np.zeros(len(passages), np.float32)
        for i, passage in enumerate(passages):
            rows = index.rows_for(passage.chunk_id)
            if rows:
                best_cos[i] = float((index.vectors[rows] @ query_vector).max())
                best_bm25[i] = float(keyword_scores[rows].max())
        return best_cos, best_bm25

    def rerank(self, query: str, query_vector: np.ndarray, passages: Sequence[Passage]) -> list[Passage]:
        if not passages:
            return []
        s = self._settings
        dense = np.array([p.scores.get("dense", 0.0) for p in passages], np.float32)
        bm25 = _max_normalise(np.array([p.scores.get("bm25", 0.0) for p in passages], np.float32))
        sent_cos, sent_bm25_raw = self.sentence_features(query, query_vector, passages)
        sent_bm25 = _max_normalise(sent_bm25_raw)
        total = s.weight_dense * dense + s.weight_bm25 * bm25 + s.weight_sentence_dense * sent_cos + s.weight_sentence_bm25 * sent_bm25
        rescored = [
            p.model_copy(update={"score": float(total[i]), "scores": {**p.scores, "bm25_norm": float(bm25[i]),
                                                                        "sentence_dense": float(sent_cos[i]),
                                                                        "sentence_bm25": float(sent_bm25[i]),
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
