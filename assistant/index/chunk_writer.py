"""Step 2 of an index run: embed the new editions' sentences and commit their chunk records to the
store in batches, so that a killed run keeps every finished batch (the next run goes on from there)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.config import Settings
from assistant.index.disk_space import check_free_space
from assistant.index.encoder import SentenceEncoder
from assistant.index.records import StoredChunk
from assistant.index.sentence_vectors import SentenceVectors
from assistant.index.vector_store import VectorCollection
from assistant.index.view import IndexView


@dataclass
class Written:
    """Sentence spans and vectors of the chunks committed, by chunk id, and how much was embedded."""

    pieces: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    chunks_embedded: int = 0
    sentences_embedded: int = 0


def write_chunks(settings: Settings, collection: VectorCollection, todo: Sequence[StoredChunk],
                 encoder: SentenceEncoder, previous: IndexView | None, *, show_progress: bool,
                 say: Callable[[str], None]) -> Written:
    """Embed and commit the missing chunks in batches of `store.batch_chunks`."""
    written = Written()
    if not todo:
        return written
    vectors = SentenceVectors(encoder, previous, show_progress, sources={r.chunk.source for r in todo})
    size = settings.store.batch_chunks
    batches = (len(todo) + size - 1) // size
    for number, start in enumerate(range(0, len(todo), size), start=1):
        check_free_space(settings, f"the index run stopped after committing {written.chunks_embedded} of "
                                   f"{len(todo)} chunks (kept; the next run goes on from there)")
        batch = todo[start:start + size]
        records = [StoredChunk(chunk=r.chunk, doc_hash=r.doc_hash, doc_chunks=r.doc_chunks, origin=r.origin,
                               spans=spans, vectors=vecs)
                   for r, (spans, vecs) in zip(batch, vectors.for_chunks([r.chunk for r in batch]))]
        collection.upsert(records, np.stack([r.passage_vector() for r in records]))
        written.pieces.update({r.chunk.chunk_id: (r.spans, r.vectors) for r in records})
        written.chunks_embedded += len(records)
        say(f"committed batch {number}/{batches} ({written.chunks_embedded}/{len(todo)} chunks)")
    written.sentences_embedded = vectors.embedded
    return written
