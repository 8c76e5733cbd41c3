"""Sentence vectors for an index run: reused by text from the previous snapshot, embedded only when
new, and assembled into the new snapshot's sentence index."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from assistant.index.encoder import SentenceEncoder
from assistant.index.sentence_index import SentenceIndex
from assistant.index.terms import BM25Terms, merge_runs
from assistant.index.vector_segments import assemble_vectors
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
    their sentences are tokenised). Kept chunks are taken in runs of consecutive previous rows: a
    few slices, not numpy calls for each of 100k chunks."""
    index = previous.sentences if previous is not None else None
    keep_terms = index is not None and index.terms is not None
    chunk_ids: list[str] = []
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    parts: list[tuple[str, np.ndarray | list[str]]] = []
    first_row: list[int] = []     # per chunk: its first row in the previous snapshot (-1: new)
    row_counts: list[int] = []
    run = [0, 0]                  # previous rows [lo, hi) kept in a row, not yet taken

    def take_run() -> None:
        lo, hi = run
        if hi == lo:
            return
        assert previous is not None and index is not None
        chunk_ids.extend(index.chunk_ids[lo:hi])
        starts.append(index.starts[lo:hi])
        ends.append(index.ends[lo:hi])
        if keep_terms:
            parts.append(("previous", np.arange(lo, hi, dtype=np.int64)))
        else:  # kept from an older snapshot without stored terms: tokenise
            parts.append(("new", [previous.chunks[c].text[int(a):int(b)] for c, a, b
                                  in zip(index.chunk_ids[lo:hi], index.starts[lo:hi], index.ends[lo:hi])]))
        run[0] = run[1] = 0

    for chunk in final:
        if chunk.chunk_id in pieces:
            take_run()
            spans = pieces[chunk.chunk_id][0]
            chunk_ids.extend([chunk.chunk_id] * len(spans))
            starts.append(spans[:, 0])
            ends.append(spans[:, 1])
            parts.append(("new", [chunk.text[int(a):int(b)] for a, b in spans]))
            first_row.append(-1)
            row_counts.append(len(spans))
            continue
        assert index is not None, f"chunk {chunk.chunk_id} is neither new nor in the previous snapshot"
        rows = index.rows_for(chunk.chunk_id)
        assert rows and rows[-1] - rows[0] + 1 == len(rows), f"chunk {chunk.chunk_id}: rows not in one run"
        if run[1] != rows[0] or run[1] == run[0]:
            take_run()
            run[0] = rows[0]
        run[1] = rows[0] + len(rows)
        first_row.append(rows[0])
        row_counts.append(len(rows))
    take_run()
    if not chunk_ids:
        return SentenceIndex.empty(dimension)

    def fill(position: int) -> np.ndarray:
        if first_row[position] < 0:
            return pieces[final[position].chunk_id][1]
        assert index is not None
        return index.vectors[first_row[position]:first_row[position] + row_counts[position]]

    # Unchanged segments of the previous vectors are kept whole (their files get linked, not
    # copied); only the segments with changes are filled.
    vectors = assemble_vectors([c.chunk_id for c in final], [c.source for c in final], row_counts,
                               index.vectors if index is not None else None,
                               index.chunk_ids if index is not None else [], fill, dimension)
    terms = BM25Terms.assemble(index.terms if keep_terms and index is not None else None, merge_runs(parts))
    return SentenceIndex.build(chunk_ids, np.concatenate(starts).astype(np.int32), np.concatenate(ends).astype(np.int32),
                               vectors, terms)
