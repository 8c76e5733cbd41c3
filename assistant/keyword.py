"""BM25 keyword index (bm25s + Snowball stemming), persisted beside the store's manifest."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.store_records import date_ordinal

_IDS_FILE = "ids.json"


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def bm25_tokenize(texts: Sequence[str]) -> list[list[str]]:
    """BM25 tokens of each text, exactly as KeywordIndex tokenises (English stop words, Snowball)."""
    import bm25s

    return bm25s.tokenize(list(texts), stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


class KeywordIndex:
    """BM25 over a list of texts, addressed by string ids. Rebuilt whole on change: it takes
    well under a second for thousands of passages, far cheaper than any embedding."""

    def __init__(self, ids: Sequence[str], retriever) -> None:
        self.ids = list(ids)
        self._retriever = retriever
        self._position = {doc_id: i for i, doc_id in enumerate(self.ids)}

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> KeywordIndex:
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
    def load(cls, folder: Path) -> KeywordIndex | None:
        import bm25s

        ids_path = folder / _IDS_FILE
        if not ids_path.exists():
            return None
        ids = json.loads(ids_path.read_text())
        retriever = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0) if ids else None
        return cls(ids, retriever)

    def query_tokens(self, query: str) -> list[str]:
        tokenized = bm25_tokenize([query])
        return tokenized[0] if tokenized else []

    def scores(self, query: str, weight_mask: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every indexed text, in `ids` order (zeros when nothing matches); a
        `weight_mask` (one weight per id, see `DocumentColumns.mask`) multiplies them inside bm25s."""
        tokens = self.query_tokens(query)
        if self._retriever is None or not tokens:
            return np.zeros(len(self.ids), dtype=np.float32)
        vocab = self._retriever.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known, weight_mask=weight_mask), dtype=np.float32)

    def scores_for(self, query: str, positions: np.ndarray) -> np.ndarray:
        """BM25 scores of the texts at some positions (in `ids` order)."""
        return self.scores(query)[positions]

    def top(self, query: str, k: int, weight_mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        return self.top_from_scores(self.scores(query, weight_mask), k)

    def top_from_scores(self, scores: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The k best (id, score) with a positive score (a masked-out id scores 0, so never appears)."""
        k = min(k, len(self.ids))
        if k == 0:
            return []
        order = np.argpartition(-scores, k - 1)[:k]
        order = order[np.argsort(-scores[order], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in order if scores[i] > 0]

    def position(self, doc_id: str) -> int | None:
        return self._position.get(doc_id)


@dataclass(frozen=True)
class DocumentColumns:
    """Each indexed text's source and date as arrays in `KeywordIndex.ids` order, built once per
    snapshot, so a source/date filter becomes one vectorised mask per question."""

    source_codes: np.ndarray  # int32: position of the text's source in `sources`
    sources: dict[str, int]
    date_ordinals: np.ndarray  # int64 `store_records.date_ordinal` (YYYYMMDD); 0 when undated (matches no date bound)

    @classmethod
    def build(cls, sources: Sequence[str], dates: Sequence[dt.date | None]) -> DocumentColumns:
        names, codes = np.unique(np.asarray(list(sources), dtype=str), return_inverse=True)
        ordinals = np.fromiter((date_ordinal(d) for d in dates), dtype=np.int64, count=len(dates))
        return cls(codes.astype(np.int32).reshape(-1), {str(name): i for i, name in enumerate(names)}, ordinals)

    def mask(self, sources: Collection[str] = (), date_from: dt.date | None = None,
             date_to: dt.date | None = None) -> np.ndarray:
        """float32 weights: 1 for texts from one of `sources` (any when empty) dated within the
        inclusive bounds (undated texts fail any bound), else 0."""
        keep = np.ones(len(self.source_codes), dtype=bool)
        if sources:
            keep &= np.isin(self.source_codes, [self.sources[s] for s in sources if s in self.sources])
        if date_from is not None:
            keep &= self.date_ordinals >= date_ordinal(date_from)
        if date_to is not None:
            keep &= (self.date_ordinals > 0) & (self.date_ordinals <= date_ordinal(date_to))
        return keep.astype(np.float32)
