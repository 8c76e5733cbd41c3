"""How one chunk is laid out in a Chroma record, so that Chroma alone can rebuild every sidecar.

Metadata holds the document's facts (source, title, date, edition hash, origin, how many chunks the
edition has) and the chunk's sentences: their offsets and their MiniLM vectors as float16, base64
encoded (Chroma metadata values are scalars). A chunk of ~8 sentences adds ~8 KB to its record."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from assistant.types import Chunk

Origin = Literal["corpus", "upload"]


@dataclass(frozen=True)
class StoredChunk:
    chunk: Chunk
    doc_hash: str
    doc_chunks: int                # chunks in this edition of the document: a complete edition has all of them
    origin: Origin
    spans: np.ndarray              # int32 (n, 2): sentence start/end offsets in chunk.text
    vectors: np.ndarray            # float16 (n, dim): unit-normalised sentence vectors

    def passage_vector(self) -> np.ndarray:
        """Normalised mean of the sentence vectors: the vector Chroma searches."""
        mean = self.vectors.astype(np.float32).mean(axis=0)
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm > 0 else mean


def date_ordinal(value: dt.date | None) -> int:
    """YYYYMMDD as an int (0 when unknown): Chroma filters compare numbers, not dates."""
    return value.year * 10000 + value.month * 100 + value.day if value else 0


def _encode(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def record_metadata(record: StoredChunk) -> dict[str, Any]:
    chunk = record.chunk
    return {
        "source": chunk.source,
        "title": chunk.title,
        "date": chunk.date.isoformat() if chunk.date else "",
        "date_ord": date_ordinal(chunk.date),
        "chunk_index": chunk.index,
        "doc_hash": record.doc_hash,
        "doc_chunks": record.doc_chunks,
        "origin": record.origin,
        "sent_spans": _encode(record.spans.astype("<i4")),
        "sent_vecs": _encode(record.vectors.astype("<f2")),
        "sent_dim": int(record.vectors.shape[1]),
    }


def chunk_from_metadata(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    date = dt.date.fromisoformat(meta["date"]) if meta.get("date") else None
    return Chunk(chunk_id=chunk_id, source=meta["source"], title=meta.get("title", ""), date=date,
                 index=int(meta.get("chunk_index", 0)), text=text)


def stored_from_record(chunk_id: str, text: str, meta: dict[str, Any]) -> StoredChunk:
    dim = int(meta.get("sent_dim", 0))
    spans = np.frombuffer(base64.b64decode(meta.get("sent_spans", "")), dtype="<i4").reshape(-1, 2)
    vectors = np.frombuffer(base64.b64decode(meta.get("sent_vecs", "")), dtype="<f2")
    vectors = vectors.reshape(-1, dim) if dim else vectors.reshape(0, 0)
    return StoredChunk(chunk=chunk_from_metadata(chunk_id, text, meta), doc_hash=str(meta.get("doc_hash", "")),
                       doc_chunks=int(meta.get("doc_chunks", 0)), origin=meta.get("origin", "corpus"),
                       spans=spans.astype(np.int32), vectors=vectors.astype(np.float16))
