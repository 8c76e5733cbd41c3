"""Candidate retrieval: dense (Chroma) and keyword (BM25) candidates, merged, then reranked.

Every candidate carries both first-stage signals: a keyword-only candidate gets its dense cosine
from the passage vector derived in memory from the sentence index (the same vector Chroma stores), and
a dense-only candidate gets its BM25 score from the keyword index, so the reranker sees complete
features without a second round-trip to the store."""

from __future__ import annotations

import numpy as np

from assistant.config import RetrievalSettings
from assistant.index.store import SearchFilter
from assistant.index.vector_store import VectorCollection
from assistant.index.view import IndexView
from assistant.retrieval.bm25 import DocumentColumns, KeywordIndex
from assistant.retrieval.rerank import Reranker
from assistant.types import Passage


class HybridRetriever:
    def __init__(self, settings: RetrievalSettings, store: VectorCollection, view: IndexView, reranker: Reranker) -> None:
        self._settings = settings
        self._store = store
        self._view = view
        self._reranker = reranker
        self._keyword = KeywordIndex(view.passage_terms)  # postings built once per loaded snapshot
        chunks = [view.chunks[cid] for cid in self._keyword.ids]  # the snapshot checked both name the same chunks
        self._columns = DocumentColumns.build([c.source for c in chunks], [c.date for c in chunks])

    @property
    def collection(self) -> VectorCollection:
        return self._store

    def _filter_mask(self, search_filter: SearchFilter | None) -> np.ndarray | None:
        """Weights in keyword-index order (1 kept, 0 filtered out); None when nothing is filtered."""
        if search_filter is None or search_filter.is_empty():
            return None
        return self._columns.mask(search_filter.sources, search_filter.date_from, search_filter.date_to)

    def _dense_scores(self, chunk_ids: list[str], query_vector: np.ndarray) -> dict[str, float]:
        sentences = self._view.sentences
        vectors = {cid: v for cid in chunk_ids if (v := sentences.passage_vector(cid)) is not None}
        return {cid: float(v @ query_vector) for cid, v in vectors.items()}

    def candidates(self, query: str, query_vector: np.ndarray, search_filter: SearchFilter | None) -> list[Passage]:
        mode, n = self._settings.mode, self._settings.candidates
        keyword = self._keyword
        mask = self._filter_mask(search_filter)
        if mask is not None and not mask.any():
            return []
        by_id: dict[str, Passage] = {}
        if mode in ("hybrid", "dense"):
            for passage in self._store.query(query_vector, n, search_filter):
                # Chroma may hold chunks the loaded snapshot doesn't name (a run in progress, or one
                # not yet switched to): only the snapshot's chunks are answered from. Chroma's
                # where-clause also lets undated chunks through a `date_to` bound, so the mask is checked.
                position = keyword.position(passage.chunk_id)
                if passage.chunk_id in self._view.chunks and (mask is None or (position is not None and mask[position] > 0)):
                    by_id[passage.chunk_id] = passage
        if mode == "dense":
            return list(by_id.values())
        bm25_all = keyword.scores(query, mask)
        keyword_hits = keyword.top_from_scores(bm25_all, n)
        new_ids = [cid for cid, _ in keyword_hits if cid not in by_id and cid in self._view.chunks]
        dense = self._dense_scores(new_ids, query_vector) if mode == "hybrid" else {}
        for cid, passage in list(by_id.items()):
            position = keyword.position(cid)
            bm25 = float(bm25_all[position]) if position is not None else 0.0
            by_id[cid] = passage.model_copy(update={"scores": {**passage.scores, "bm25": bm25}})
        for cid, score in keyword_hits:
            if cid in by_id or cid not in self._view.chunks:
                continue
            chunk = self._view.chunks[cid]
            cosine = dense.get(cid, 0.0)
            by_id[cid] = Passage.of(chunk, score if mode == "bm25" else cosine, {"dense": cosine, "bm25": score})
        return list(by_id.values())

    def retrieve(self, query: str, query_vector: np.ndarray, top_k: int, search_filter: SearchFilter | None = None) -> list[Passage]:
        ranked = self._reranker.rerank(query, query_vector, self.candidates(query, query_vector, search_filter))
        return ranked[:top_k]
