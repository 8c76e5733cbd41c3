"""Sentence vectors for an index run: reused by text from the previous snapshot, embedded only when
new, and assembled into the new snapshot's sentence index."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from assistant.index.encoder import SentenceEncoder
from assistant.index.sentence_index import SentenceIndex
from assistant.index.terms import BM25Terms, merge_runs
from assistant.index.view import IndexView
from assistant.sentences import sentence_spans
from assistant.types import Chunk


def chunk_spans(text: str) -> np.ndarray:
    """Sentence offsets of a chunk; every chunk gets at least one row, so it has a passage vector."""
    spans = sentence_spans(text) or [(0, len(text))]
    return np.asarray(spans, dtype=np.int32).reshape(-1, 2)


class SentenceVectors:
    """Sentence vectors by text: reused from the previous snapshot, embedded only when new."""

    _KNOWN_LIMIT = 100_000  # this run's vectors kept for reuse: repeats sit close together (chunk overlap)

    def __init__(self, embedder: SentenceEncoder, previous: IndexView | None, show_progress: bool,
                 sources: Collection[str] = ()) -> None:
        """`sources`: the documents this run re-chunks; only their previous sentences are offered
        for reuse (an edited document keeps most of its sentences), so an update does not map
        every sentence of a large collection."""
        self._embedder = embedder
        self._show = show_progress
        self._known: dict[str, np.ndarray] = {}   # embedded by this run (bounded, see _KNOWN_LIMIT)
        # Previous sentences by text -> row: rows are read only when reused, so the previous
        # (memory-mapped) vectors are never all copied into small arrays.
        self._previous_rows: dict[str, int] = {}
        self._previous_vectors = previous.sentences.vectors if previous is not None else None
        self.embedded = 0
        if previous is not None:
            index = previous.sentences
            wanted = set(sources)
            for cid, chunk in previous.chunks.items():
                if chunk.source not in wanted:
                    continue
                for row in index.rows_for(cid):
                    self._previous_rows.setdefault(chunk.text[int(index.starts[row]):int(index.ends[row])], row)

    def _vector(self, text: str) -> np.ndarray:
        """The float16 vector of a known sentence text."""
        vector = self._known.get(text)
        if vector is not None:
            return vector
        assert self._previous_vectors is not None
        return np.asarray(self._previous_vectors[self._previous_rows[text]], dtype=np.float16)

    def for_chunks(self, chunks: Sequence[Chunk]) -> list[tuple[np.ndarray, np.ndarray]]:
        """(spans, float16 vectors) per chunk."""
        spans = [chunk_spans(c.text) for c in chunks]
        texts = [c.text[s:e] for c, rows in zip(chunks, spans) for s, e in rows]
        if len(self._known) > self._KNOWN_LIMIT:
            # bounded memory: a 100k-chunk build never holds all its vectors here. Cleared before
            # `missing` is worked out, so no sentence of this batch counts on a vector just dropped.
            self._known.clear()
        missing = list(dict.fromkeys(t for t in texts if t not in self._known and t not in self._previous_rows))
        if missing:
            vectors = self._embedder.embed_texts(missing, show_progress=self._show)
            self._known.update(zip(missing, vectors.astype(np.float16)))
            self.embedded += len(missing)
        out, position = [], 0
        for rows in spans:
            block = texts[position:position + len(rows)]
            position += len(rows)
            out.append((rows, np.stack([self._vector(t) for t in block])))
        return out


def snapshot_sentence_index(final: Sequence[Chunk], previous: IndexView | None,
                    pieces: dict[str, tuple[np.ndarray, np.ndarray]], dimension: int) -> SentenceIndex:
    """The snapshot's sentence index: rows of kept chunks come from the previous snapshot (their
    vectors and BM25 tokens), new ones from this run (embedded or recovered from Chroma; only
    their sentences are tokenised)."""
    chunk_ids: list[str] = []
    spans_of: list[np.ndarray] = []
    previous_rows: list[list[int] | None] = []  # per chunk: its rows in the previous snapshot (None: new)
    parts: list[tuple[str, np.ndarray | list[str]]] = []
    previous_terms = previous.sentences.terms if previous is not None else None
    for chunk in final:
        rows: list[int] | None = None
        if chunk.chunk_id in pieces:
            spans = pieces[chunk.chunk_id][0]
        else:
            assert previous is not None, f"chunk {chunk.chunk_id} is neither new nor in the previous snapshot"
            rows = previous.sentences.rows_for(chunk.chunk_id)
            spans = np.stack([previous.sentences.starts[rows], previous.sentences.ends[rows]], axis=1)
        if rows is not None and previous_terms is not None:
            parts.append(("previous", np.asarray(rows, np.int64)))
        else:  # new, or kept from an older snapshot without stored terms: tokenise
            parts.append(("new", [chunk.text[int(s):int(e)] for s, e in spans]))
        chunk_ids.extend([chunk.chunk_id] * len(spans))
        spans_of.append(spans)
        previous_rows.append(rows)
    if not chunk_ids:
        return SentenceIndex.empty(dimension)
    # One float16 array filled in place: no per-chunk copies concatenated into a second one.
    vectors = np.empty((len(chunk_ids), dimension), np.float16)
    row = 0
    for chunk, spans, rows in zip(final, spans_of, previous_rows):
        if rows is None:
            vectors[row:row + len(spans)] = pieces[chunk.chunk_id][1]
        else:
            assert previous is not None
            vectors[row:row + len(spans)] = previous.sentences.vectors[rows]
        row += len(spans)
    all_spans = np.concatenate(spans_of).astype(np.int32)
    terms = BM25Terms.assemble(previous_terms, merge_runs(parts))
    return SentenceIndex.build(chunk_ids, all_spans[:, 0].copy(), all_spans[:, 1].copy(), vectors, terms)

