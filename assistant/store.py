"""The Chroma vector store: a local PersistentClient or a server over HTTP, one collection per corpus.

Chroma never embeds anything itself here: vectors always come from our Embedder."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant.config import StoreSettings
from assistant.errors import IndexMismatchError, StoreUnavailableError
from assistant.types import Chunk, Passage

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_GET_PAGE = 1000


@dataclass(frozen=True)
class SearchFilter:
    """Restrict retrieval to some sources and/or a date range (inclusive)."""

    sources: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def is_empty(self) -> bool:
        return not self.sources and self.date_from is None and self.date_to is None

    def to_where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        if self.date_from is not None:
            clauses.append({"date_ord": {"$gte": date_ordinal(self.date_from)}})
        if self.date_to is not None:
            clauses.append({"date_ord": {"$lte": date_ordinal(self.date_to)}})
            if self.date_from is None:
                clauses.append({"date_ord": {"$gt": 0}})  # undated (0) documents match no date range
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def accepts(self, source: str, date: dt.date | None) -> bool:
        if self.sources and source not in self.sources:
            return False
        if self.date_from is not None and (date is None or date < self.date_from):
            return False
        if self.date_to is not None and (date is None or date > self.date_to):
            return False
        return True


def date_ordinal(value: dt.date | None) -> int:
    """YYYYMMDD as an int (0 when unknown): Chroma filters compare numbers, not dates."""
    return value.year * 10000 + value.month * 100 + value.day if value else 0


def _chunk_metadata(chunk: Chunk, doc_hash: str) -> dict[str, Any]:
    return {
        "source": chunk.source,
        "title": chunk.title,
        "date": chunk.date.isoformat() if chunk.date else "",
        "date_ord": date_ordinal(chunk.date),
        "chunk_index": chunk.index,
        "doc_hash": doc_hash,
    }


def _chunk_from_record(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    date = dt.date.fromisoformat(meta["date"]) if meta.get("date") else None
    return Chunk(chunk_id=chunk_id, source=meta["source"], title=meta.get("title", ""), date=date,
                 index=int(meta.get("chunk_index", 0)), text=text)


def make_client(settings: StoreSettings):
    """A chromadb client for the configured location; StoreUnavailableError if it can't be reached."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise StoreUnavailableError(f"ASSISTANT_CHROMA_URL={settings.chroma_url!r} is not an http(s)://host:port URL")
        port = url.port or (443 if url.scheme == "https" else 8000)
        try:
            client = chromadb.HttpClient(host=url.hostname, port=port, ssl=url.scheme == "https", settings=chroma_settings)
            client.heartbeat()
        except Exception as exc:  # chromadb raises several types for "not there"
            raise StoreUnavailableError(
                f"cannot reach the Chroma server at {settings.chroma_url} ({type(exc).__name__}); "
                "start it with `chroma run --path DIR --port N` or unset ASSISTANT_CHROMA_URL to use the local index"
            ) from exc
        return client
    try:
        settings.path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.path / "chroma"), settings=chroma_settings)
    except Exception as exc:
        raise StoreUnavailableError(f"cannot open the local index at {settings.path / 'chroma'}: {exc}") from exc


def describe_location(settings: StoreSettings) -> str:
    return f"Chroma server {settings.chroma_url}" if settings.chroma_url else f"local folder {settings.path / 'chroma'}"


class ChromaStore:
    """One collection, opened for a given index fingerprint (embedding model + chunking)."""

    def __init__(self, settings: StoreSettings, fingerprint: dict[str, Any], *, client: Any | None = None) -> None:
        self.settings = settings
        self.fingerprint = fingerprint
        self._client = client if client is not None else make_client(settings)
        self._collection = None

    @property
    def name(self) -> str:
        return self.settings.collection

    def exists(self) -> bool:
        try:
            self._client.get_collection(self.name)
            return True
        except Exception:
            return False

    def _wrap(self, action: str, exc: Exception) -> StoreUnavailableError:
        return StoreUnavailableError(f"Chroma failed to {action} in {describe_location(self.settings)}: {exc}")

    def open(self, *, create: bool) -> None:
        """Open (or create) the collection and check it was built with the same fingerprint."""
        metadata = {"hnsw:space": "cosine", "schema_version": SCHEMA_VERSION,
                    **{f"fp_{k}": str(v) for k, v in self.fingerprint.items()}}
        try:
            if create:
                self._collection = self._client.get_or_create_collection(self.name, metadata=metadata, embedding_function=None)
            else:
                self._collection = self._client.get_collection(self.name, embedding_function=None)
        except Exception as exc:
            raise self._wrap(f"open collection {self.name!r}", exc) from exc
        self.check_fingerprint(self._collection.metadata or {})

    def check_fingerprint(self, stored: dict[str, Any]) -> None:
        differences = [
            f"{key}: index has {stored.get(f'fp_{key}')!r}, config has {str(value)!r}"
            for key, value in self.fingerprint.items()
            if stored.get(f"fp_{key}") != str(value)
        ]
        if differences:
            raise IndexMismatchError(
                f"collection {self.name!r} was built with other settings ({'; '.join(differences)}); "
                f"rebuild it with: assistant index --collection {self.name} --rebuild"
            )

    @property
    def collection(self):
        if self._collection is None:
            self.open(create=False)
        return self._collection

    def drop(self) -> None:
        try:
            self._client.delete_collection(self.name)
        except Exception:
            pass  # nothing to drop
        self._collection = None

    def count(self) -> int:
        return int(self.collection.count())

    def document_hashes(self) -> dict[str, str]:
        """source -> doc_hash of every indexed document (read from the store itself)."""
        hashes: dict[str, str] = {}
        for _, _, meta in self._iter_records(include_text=False):
            hashes[meta["source"]] = meta.get("doc_hash", "")
        return hashes

    def all_chunks(self) -> list[Chunk]:
        chunks = [_chunk_from_record(cid, text, meta) for cid, text, meta in self._iter_records(include_text=True)]
        return sorted(chunks, key=lambda c: (c.source, c.index))

    def _iter_records(self, *, include_text: bool):
        include = ["metadatas", "documents"] if include_text else ["metadatas"]
        offset = 0
        while True:
            try:
                page = self.collection.get(include=include, limit=_GET_PAGE, offset=offset)
            except Exception as exc:
                raise self._wrap("read records", exc) from exc
            ids = page["ids"]
            if not ids:
                return
            texts = page.get("documents") or [""] * len(ids)
            for cid, text, meta in zip(ids, texts, page["metadatas"]):
                yield cid, text or "", meta
            offset += len(ids)

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray, doc_hashes: dict[str, str]) -> None:
        if not chunks:
            return
        try:
            # Chroma caps one batch; stay well under it.
            for start in range(0, len(chunks), 2000):
                part = chunks[start:start + 2000]
                self.collection.upsert(
                    ids=[c.chunk_id for c in part],
                    embeddings=vectors[start:start + 2000].tolist(),
                    documents=[c.text for c in part],
                    metadatas=[_chunk_metadata(c, doc_hashes[c.source]) for c in part],
                )
        except Exception as exc:
            raise self._wrap("write chunks", exc) from exc

    def delete_sources(self, sources: Sequence[str]) -> None:
        if not sources:
            return
        try:
            for start in range(0, len(sources), 500):
                self.collection.delete(where={"source": {"$in": list(sources[start:start + 500])}})
        except Exception as exc:
            raise self._wrap("delete chunks", exc) from exc

    def query(self, vector: np.ndarray, n: int, search_filter: SearchFilter | None = None) -> list[Passage]:
        where = search_filter.to_where() if search_filter else None
        try:
            result = self.collection.query(
                query_embeddings=[vector.tolist()], n_results=max(1, min(n, self.count() or 1)),
                where=where, include=["documents", "metadatas", "distances"],
            )
        except Exception as exc:
            raise self._wrap("query", exc) from exc
        passages = []
        for cid, text, meta, distance in zip(result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0]):
            chunk = _chunk_from_record(cid, text or "", meta)
            similarity = 1.0 - float(distance)  # cosine space: distance = 1 - cos
            passages.append(Passage(chunk_id=cid, source=chunk.source, title=chunk.title, date=chunk.date,
                                    text=chunk.text, score=similarity, scores={"dense": similarity}))
        return passages


def fetch_vectors(store: ChromaStore, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
    """Stored passage vectors by id (for candidates that came from the keyword side)."""
    if not chunk_ids:
        return {}
    try:
        got = store.collection.get(ids=list(chunk_ids), include=["embeddings"])
    except Exception as exc:
        raise store._wrap("read vectors", exc) from exc
    return {cid: np.asarray(vec, dtype=np.float32) for cid, vec in zip(got["ids"], got["embeddings"])}
