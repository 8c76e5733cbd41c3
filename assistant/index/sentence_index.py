"""Sentence-level index: every chunk's sentences with offsets and MiniLM vectors, plus their BM25
tokens and statistics (`BM25Terms`: BM25 for the candidates' sentences without an index, scored by
`assistant.retrieval.bm25.sentence_bm25`).

Computed at index time (only new sentences are embedded) and shared by the sentence reranker and
the extractive answerer. Sentences are the only text the indexer embeds: a passage's vector is the
normalised mean of its sentence vectors, which halves the embedding work of indexing compared with
embedding passages and sentences apart."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.index.terms import BM25Terms
from assistant.index.vector_segments import SegmentedVectors

_ARRAYS_FILE = "sentences.npz"          # chunk ids and offsets (and, in older snapshots, the vectors too)
_VECTORS_FILE = "sentence_vectors.npy"  # older snapshots: the float16 vectors in one file (now in segments)


@dataclass
class SentenceIndex:
    chunk_ids: list[str]          # one per sentence
    starts: np.ndarray            # int32 offsets into the chunk text
    ends: np.ndarray
    vectors: np.ndarray | SegmentedVectors  # float16 (read-only memory maps once saved), unit-normalised, one row
                                  # per sentence; readers upcast only the rows they use (see `rows_float32`)
    terms: BM25Terms | None = None  # None only while an older snapshot is being loaded

    def __post_init__(self) -> None:
        # A chunk's rows lie together: found as runs of equal ids, a range per chunk instead of a
        # list of every row (1 s of each load and update at 1.26M sentences, evals/bench_scale.py).
        self._rows: dict[str, range | list[int]] = {}
        ids = self.chunk_ids
        if not ids:
            return
        named = np.asarray(ids, dtype=object)
        bounds = [0, *(np.flatnonzero(named[1:] != named[:-1]) + 1).tolist(), len(ids)]
        for lo, hi in zip(bounds, bounds[1:]):
            have = self._rows.get(ids[lo])
            self._rows[ids[lo]] = range(lo, hi) if have is None else [*have, *range(lo, hi)]

    def rows_for(self, chunk_id: str) -> list[int]:
        return list(self._rows.get(chunk_id, ()))

    def rows_float32(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """Some sentence vectors as float32 (a copy): the stored float16 is for memory, not arithmetic."""
        return np.asarray(self.vectors[rows], dtype=np.float32)

    def passage_vector(self, chunk_id: str) -> np.ndarray | None:
        """Normalised mean of the chunk's sentence vectors (None for an unknown chunk)."""
        rows = self.rows_for(chunk_id)
        if not rows:
            return None
        mean = self.rows_float32(rows).mean(axis=0)
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
    def build(cls, chunk_ids: list[str], starts: np.ndarray, ends: np.ndarray, vectors: np.ndarray | SegmentedVectors,
              terms: BM25Terms) -> SentenceIndex:
        """An index over given sentence rows (vectors kept as float16) and their terms."""
        if not isinstance(vectors, SegmentedVectors):
            vectors = np.asarray(vectors, dtype=np.float16)
        return cls(chunk_ids, starts, ends, vectors, terms)

    @classmethod
    def empty(cls, dimension: int) -> SentenceIndex:
        return cls([], np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros((0, dimension), np.float16),
                   BM25Terms.build([]))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if isinstance(self.vectors, SegmentedVectors):
            self.vectors.save(folder)
        else:
            np.save(folder / _VECTORS_FILE, np.asarray(self.vectors, dtype=np.float16), allow_pickle=False)
        # Each chunk id once (JSON, any characters) plus one int32 per sentence: a padded string per
        # sentence took more room than the vectors once long ids met many short sentences.
        names = list(dict.fromkeys(self.chunk_ids))
        position = {name: i for i, name in enumerate(names)}
        np.savez(folder / _ARRAYS_FILE, chunk_names=np.frombuffer(json.dumps(names).encode("utf-8"), np.uint8),
                 sentence_chunk=np.fromiter((position[c] for c in self.chunk_ids), np.int32, len(self.chunk_ids)),
                 starts=self.starts, ends=self.ends)
        if self.terms is not None:
            self.terms.save(folder, "sentence")

    @classmethod
    def load(cls, folder: Path) -> SentenceIndex | None:
        """The saved index (None when there is none); the vectors are memory-mapped, read from the
        page cache as rows are used. Snapshots written before the vectors had their own file keep
        them inside sentences.npz, which cannot be mapped: those are read into memory as float16."""
        path = folder / _ARRAYS_FILE
        if not path.exists():
            return None
        data = np.load(path, allow_pickle=False)
        vectors_path = folder / _VECTORS_FILE
        vectors: np.ndarray | SegmentedVectors | None = SegmentedVectors.load(folder)
        if vectors is None and vectors_path.exists():
            vectors = np.load(vectors_path, mmap_mode="r", allow_pickle=False)
        elif vectors is None:
            vectors = np.asarray(data["vectors"], dtype=np.float16)
        chunk_ids = _load_chunk_ids(data)
        if vectors.ndim != 2 or vectors.shape[0] != len(chunk_ids) or vectors.dtype != np.float16:
            raise ValueError(f"sentence vectors in {folder} are {vectors.dtype} {vectors.shape}, "
                             f"expected float16 with {len(chunk_ids)} rows")
        terms = BM25Terms.load(folder, "sentence")
        if terms is not None and terms.sentences != len(chunk_ids):
            raise ValueError(f"sentence terms in {folder} cover {terms.sentences} sentences, not {len(chunk_ids)}")
        return cls(chunk_ids, data["starts"], data["ends"], vectors, terms)


def _load_chunk_ids(data: np.lib.npyio.NpzFile) -> list[str]:
    """The chunk id of every sentence row; rows share one str per chunk. Older snapshots stored a
    padded string per sentence (`chunk_ids`)."""
    if "chunk_names" not in data.files:
        return [str(cid) for cid in data["chunk_ids"]]
    names = json.loads(data["chunk_names"].tobytes().decode("utf-8"))
    return [names[i] for i in data["sentence_chunk"].tolist()]
