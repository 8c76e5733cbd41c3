"""Sentence-level index: every chunk's sentences with offsets and MiniLM vectors, plus sentence BM25.

Computed at index time (only new sentences are embedded) and shared by the sentence reranker and
the extractive answerer. Sentences are the only text the indexer embeds: a passage's vector is the
normalised mean of its sentence vectors, which halves the embedding work of indexing compared with
embedding passages and sentences apart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.keyword import KeywordIndex

_ARRAYS_FILE = "sentences.npz"
_BM25_DIR = "sentence_bm25"


@dataclass
class SentenceIndex:
    chunk_ids: list[str]          # one per sentence
    starts: np.ndarray            # int32 offsets into the chunk text
    ends: np.ndarray
    vectors: np.ndarray           # float32, unit-normalised, one row per sentence
    keyword: KeywordIndex | None = None

    def __post_init__(self) -> None:
        self._rows: dict[str, list[int]] = {}
        for row, cid in enumerate(self.chunk_ids):
            self._rows.setdefault(cid, []).append(row)

    def rows_for(self, chunk_id: str) -> list[int]:
        return self._rows.get(chunk_id, [])

    def passage_vector(self, chunk_id: str) -> np.ndarray | None:
        """Normalised mean of the chunk's sentence vectors (None for an unknown chunk)."""
        rows = self.rows_for(chunk_id)
        if not rows:
            return None
        mean = self.vectors[rows].mean(axis=0)
        norm = float(np.linalg.norm(mean))
        return (mean / norm).astype(np.float32) if norm > 0 else mean.astype(np.float32)

    def passage_vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """One passage vector per id, stacked; KeyError names an id with no sentences."""
        dimension = self.vectors.shape[1]
        out = np.zeros((len(chunk_ids), dimension), np.float32)
        for i, cid in enumerate(chunk_ids):
            vector = self.passage_vector(cid)
            if vector is None:
                raise KeyError(f"chunk {cid!r} has no sentences in the sentence index")
            out[i] = vector
        return out

    def __len__(self) -> int:
        return len(self.chunk_ids)

    @classmethod
    def build(cls, chunk_ids: list[str], starts: np.ndarray, ends: np.ndarray, vectors: np.ndarray,
              texts: Sequence[str]) -> "SentenceIndex":
        """An index over given sentence rows, with its sentence BM25 (ids '<chunk id>@<start>')."""
        keyword = KeywordIndex.build([f"{cid}@{s}" for cid, s in zip(chunk_ids, starts.tolist())], texts)
        return cls(chunk_ids, starts, ends, vectors, keyword)

    @classmethod
    def empty(cls, dimension: int) -> "SentenceIndex":
        return cls([], np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros((0, dimension), np.float32))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / _ARRAYS_FILE, chunk_ids=np.array(self.chunk_ids, dtype=object).astype(str),
                 starts=self.starts, ends=self.ends, vectors=self.vectors.astype(np.float16))
        if self.keyword is not None:
            self.keyword.save(folder / _BM25_DIR)

    @classmethod
    def load(cls, folder: Path) -> "SentenceIndex | None":
        path = folder / _ARRAYS_FILE
        if not path.exists():
            return None
        data = np.load(path, allow_pickle=False)
        return cls(list(data["chunk_ids"]), data["starts"], data["ends"], data["vectors"].astype(np.float32),
                   KeywordIndex.load(folder / _BM25_DIR))
