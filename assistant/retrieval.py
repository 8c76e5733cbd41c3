"""Candidate retrieval: dense (Chroma) and keyword (BM25) candidates, merged, then reranked."""

from __future__ import annotations

import numpy as np

from assistant.config import RetrievalSettings
from assistant.indexer import IndexView
from assistant.rerank import Reranker
from assistant.store import ChromaStore, SearchFilter, fetch_vectors
from assistant.types import Passage


class HybridRetriever:
    def __init__(self, settings: RetrievalSettings, store: ChromaStore, view: IndexView, reranker: Reranker) -> None:
        self._settings = settings
        self._store = store
        self._view = view
        self._reranker = reranker

    def _allowed_ids(self, search_filter: SearchFilter | None) -> set[str] | None:
        if search_filter is None or search_filter.is_empty():
            return None
        return {cid for cid, c in self._view.chunks.items() if search_filter.accepts(c.source, c.date)}

    def candidates(self, query: str, query_vector: np.ndarray, search_filter: SearchFilter | None) -> list[Passage]:
        mode, n = self._settings.mode, self._settings.candidates
        allowed = self._allowed_ids(search_filter)
        if allowed is not None and not allowed:
            return []
        by_id: dict[str, Passage] = {}
        if mode in ("hybrid", "dense"):
            for passage in self._store.query(query_vector, n, search_filter):
                by_id[passage.chunk_id] = passage
        if mode in ("hybrid", "bm25"):
            keyword_hits = self._view.keyword.top(query, n, allowed)
            missing = [cid for cid, _ in keyword_hits if cid not in by_id and cid in self._view.chunks]
            vectors = fetch_vectors(self._store, missing) if mode == "hybrid" else {}
            for cid, score in keyword_hits:
                if cid in by_id:
                    by_id[cid] = by_id[cid].model_copy(update={"scores": {**by_id[cid].scores, "bm25": score}})
                elif cid in self._view.chunks:
                    chunk = self._view.chunks[cid]
                    dense = float(vectors[cid] @ query_vector) if cid in vectors else 0.0
                    by_id[cid] = Passage(chunk_id=cid, source=chunk.source, title=chunk.title, date=chunk.date,
                                         text=chunk.text, score=score if mode == "bm25" else dense,
                                         scores={"dense": dense, "bm25": score})
        return list(by_id.values())

    def retrieve(self, query: str, query_vector: np.ndarray, top_k: int, search_filter: SearchFilter | None = None) -> list[Passage]:
        ranked = self._reranker.rerank(query, query_vector, self.candidates(query, query_vector, search_filter))
        return ranked[:top_k]
