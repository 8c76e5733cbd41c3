"""BM25 keyword index (bm25s + Snowball stemming), persisted beside the store's manifest."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

_IDS_FILE = "ids.json"


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


class KeywordIndex:
    """BM25 over a list of texts, addressed by string ids. Rebuilt whole on change: it takes
    well under a second for thousands of passages, far cheaper than any embedding."""

    def __init__(self, ids: Sequence[str], retriever) -> None:
        self.ids = list(ids)
        self._retriever = retriever
        self._stemmer = _stemmer()
        self._position = {doc_id: i for i, doc_id in enumerate(self.ids)}

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> "KeywordIndex":
        import bm25s

        retriever = bm25s.BM25()
        if texts:
            tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=_stemmer(), show_progress=False)
            retriever.index(tokens, show_progress=False)
        return cls(ids, retriever if texts else None)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._retriever is not None:
            self._retriever.save(str(folder), show_progress=False)
        (folder / _IDS_FILE).write_text(json.dumps(self.ids))

    @classmethod
    def load(cls, folder: Path) -> "KeywordIndex | None":
        import bm25s

        ids_path = folder / _IDS_FILE
        if not ids_path.exists():
            return None
        ids = json.loads(ids_path.read_text())
        retriever = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0) if ids else None
        return cls(ids, retriever)

    def query_tokens(self, query: str) -> list[str]:
        import bm25s

        tokenized = bm25s.tokenize([query], stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False)
        return tokenized[0] if tokenized else []

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every indexed text, in `ids` order (zeros when nothing matches)."""
        tokens = self.query_tokens(query)
        if self._retriever is None or not tokens:
            return np.zeros(len(self.ids), dtype=np.float32)
        vocab = self._retriever.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)

    def scores_for(self, query: str, positions: np.ndarray) -> np.ndarray:
        """BM25 scores of the texts at some positions (in `ids` order)."""
        return self.scores(query)[positions]

    def top(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        return self.top_from_scores(self.scores(query), k, allowed)

    def top_from_scores(self, scores: np.ndarray, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """The k best (id, score) with a positive score, optionally only among `allowed` ids."""
        if allowed is not None:
            mask = np.fromiter((doc_id in allowed for doc_id in self.ids), dtype=bool, count=len(self.ids))
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(self.ids))
        if k == 0:
            return []
        order = np.argpartition(-scores, k - 1)[:k]
        order = order[np.argsort(-scores[order], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in order if scores[i] > 0]

    def position(self, doc_id: str) -> int | None:
        return self._position.get(doc_id)
