"""The Chroma vector store: a local PersistentClient or a server over HTTP.

Chroma is the source of truth of an index: each chunk record holds the passage vector, the text,
the metadata and the chunk's sentence spans and vectors, so every sidecar can be re-derived from it
without embedding anything again. A logical collection (what users name) lives in a physical Chroma
collection `<name>-<8 hex>`; a rebuild writes a new physical collection beside the old one and the
manifest switches between them, so readers never see a half-built collection.

Chroma never embeds anything itself here: vectors always come from our Embedder."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.config import StoreSettings
from assistant.errors import IndexMismatchError, StoreUnavailableError
from assistant.index.names import is_physical_name
from assistant.index.records import (
    StoredChunk,
    chunk_from_metadata,
    date_ordinal,
    record_metadata,
    stored_from_record,
)
from assistant.index.registry import server_client
from assistant.types import Passage

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
_GET_PAGE = 1000
_SOURCES_PER_GET = 100  # keeps one filtered read's $in list short
_WRITE_BATCH = 1000  # Chroma caps one call's batch; stay well under it


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


def make_client(settings: StoreSettings):
    """A chromadb client for the configured location; StoreUnavailableError if it can't be reached."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    if settings.chroma_url:
        return server_client(settings.chroma_url)
    try:
        settings.path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.path / "chroma"),
                                         settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False))
    except Exception as exc:
        raise StoreUnavailableError(f"cannot open the local index at {settings.path / 'chroma'}: {exc}") from exc


def describe_location(settings: StoreSettings) -> str:
    return f"Chroma server {settings.chroma_url}" if settings.chroma_url else f"local folder {settings.path / 'chroma'}"


def _not_found(exc: Exception) -> bool:
    """chromadb reports a missing collection with several exception types across versions."""
    return "does not exist" in str(exc) or type(exc).__name__ in ("NotFoundError", "InvalidCollectionException")


class ChromaStore:
    """The Chroma client for one Settings: opens physical collections for a logical name."""

    def __init__(self, settings: StoreSettings, fingerprint: dict[str, Any], *, client: Any | None = None) -> None:
        self.settings = settings
        self.fingerprint = fingerprint
        self._client = client if client is not None else make_client(settings)

    @property
    def name(self) -> str:
        return self.settings.collection

    def refresh(self) -> None:
        """See what other processes wrote since this client opened the local store.

        A local PersistentClient keeps each collection's vector index in memory and never re-reads
        it, so after another process published a snapshot, queries would miss its new chunks (and
        still return deleted ones). A new client built after clearing chromadb's per-path cache
        loads the store from disk again. Handles opened earlier keep working on the old state, so
        a writer in this process is not disturbed. A Chroma server needs none of this."""
        if self.settings.chroma_url:
            return
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
        self._client = make_client(self.settings)

    def _wrap(self, action: str, exc: Exception) -> StoreUnavailableError:
        return StoreUnavailableError(f"Chroma failed to {action} in {describe_location(self.settings)}: {exc}")

    def open(self, physical: str, *, create: bool, corpus: str = "") -> StoreCollection:
        """Open (or create) a physical collection and check it was built with the same fingerprint."""
        metadata = {"hnsw:space": "cosine", "schema_version": SCHEMA_VERSION, "logical": self.name, "corpus": corpus,
                    **{f"fp_{k}": str(v) for k, v in self.fingerprint.items()}}
        try:
            if create:
                collection = self._client.get_or_create_collection(physical, metadata=metadata, embedding_function=None)
            else:
                collection = self._client.get_collection(physical, embedding_function=None)
        except Exception as exc:  # chromadb has no common base error; all become StoreUnavailableError
            if _not_found(exc):
                raise CollectionGoneError(f"Chroma collection {physical!r} no longer exists in {describe_location(self.settings)}") from exc
            raise self._wrap(f"open collection {physical!r}", exc) from exc
        self.check_fingerprint(collection.metadata or {})
        return StoreCollection(self, collection)

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

    def physical_collections(self) -> list[tuple[str, dict[str, Any]]]:
        """(name, metadata) of every physical collection of this logical name."""
        try:
            collections = self._client.list_collections()
        except Exception as exc:  # see open()
            raise self._wrap("list collections", exc) from exc
        found = []
        for item in collections:
            name = item if isinstance(item, str) else item.name
            if is_physical_name(self.name, name):
                metadata = (self._client.get_collection(name).metadata if isinstance(item, str) else item.metadata) or {}
                if metadata.get("logical") == self.name:
                    found.append((name, dict(metadata)))
        return found

    def drop(self, physical: str) -> None:
        try:
            self._client.delete_collection(physical)
        except Exception as exc:  # see open()
            if not _not_found(exc):
                raise self._wrap(f"drop collection {physical!r}", exc) from exc


class CollectionGoneError(StoreUnavailableError):
    """The physical collection was dropped (by a rebuild in another process): reload the manifest."""


class StoreCollection:
    """One open physical collection: chunk records in, ids and records out, dense queries."""

    def __init__(self, store: ChromaStore, collection: Any) -> None:
        self._store = store
        self._collection = collection
        self.name: str = collection.name

    def _call(self, action: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # chromadb has no common base error; all become StoreUnavailableError
            if _not_found(exc):
                raise CollectionGoneError(f"Chroma collection {self.name!r} no longer exists") from exc
            raise self._store._wrap(action, exc) from exc

    def count(self) -> int:
        return int(self._call("count records", self._collection.count))

    def _pages(self, action: str, include: list[str], where: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every record (matching `where`) in pages of _GET_PAGE."""
        offset = 0
        while True:
            page = self._call(action, self._collection.get, where=where, include=include, limit=_GET_PAGE, offset=offset)
            if not page["ids"]:
                return
            yield page
            offset += len(page["ids"])

    def ids(self) -> set[str]:
        """Every record id, read in pages without texts or vectors."""
        return {cid for page in self._pages("read ids", []) for cid in page["ids"]}

    def existing(self, ids: Sequence[str]) -> set[str]:
        """Which of these ids Chroma holds (read in pages, without texts or vectors)."""
        wanted = list(ids)
        found: set[str] = set()
        for start in range(0, len(wanted), _GET_PAGE):
            found.update(self._call("read ids", self._collection.get, ids=wanted[start:start + _GET_PAGE], include=[])["ids"])
        return found

    def records(self, ids: Sequence[str] | None = None, *, sources: Sequence[str] | None = None) -> Iterator[StoredChunk]:
        """Full records (text, metadata, sentence spans and vectors): all of them, some ids, or
        those of some documents."""
        include = ["metadatas", "documents"]
        if sources is not None:
            wanted_sources = sorted(set(sources))
            for start in range(0, len(wanted_sources), _SOURCES_PER_GET):
                where = {"source": {"$in": wanted_sources[start:start + _SOURCES_PER_GET]}}
                for page in self._pages("read records", include, where):
                    yield from _stored_chunks(page)
            return
        if ids is not None:
            wanted = list(ids)
            for start in range(0, len(wanted), _GET_PAGE):
                page = self._call("read records", self._collection.get, ids=wanted[start:start + _GET_PAGE], include=include)
                yield from _stored_chunks(page)
            return
        for page in self._pages("read records", include):
            yield from _stored_chunks(page)

    def embeddings(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The passage vectors Chroma searches, by id."""
        got = self._call("read vectors", self._collection.get, ids=list(ids), include=["embeddings"])
        return {cid: np.asarray(vec, dtype=np.float32) for cid, vec in zip(got["ids"], got["embeddings"])}

    def upsert(self, records: Sequence[StoredChunk], passage_vectors: np.ndarray) -> None:
        """Write chunk records; Chroma commits each call, so a kill keeps every finished call."""
        for start in range(0, len(records), _WRITE_BATCH):
            part = records[start:start + _WRITE_BATCH]
            self._call("write chunks", self._collection.upsert,
                       ids=[r.chunk.chunk_id for r in part],
                       embeddings=passage_vectors[start:start + _WRITE_BATCH].tolist(),
                       documents=[r.chunk.text for r in part],
                       metadatas=[record_metadata(r) for r in part])

    def delete_ids(self, ids: Sequence[str]) -> None:
        wanted = list(ids)
        for start in range(0, len(wanted), _WRITE_BATCH):
            self._call("delete chunks", self._collection.delete, ids=wanted[start:start + _WRITE_BATCH])

    def query(self, vector: np.ndarray, n: int, search_filter: SearchFilter | None = None) -> list[Passage]:
        where = search_filter.to_where() if search_filter else None
        result = self._call("query", self._collection.query, query_embeddings=[vector.tolist()],
                            n_results=max(1, min(n, self.count() or 1)), where=where,
                            include=["documents", "metadatas", "distances"])
        passages = []
        for cid, text, meta, distance in zip(result["ids"][0], result["documents"][0], result["metadatas"][0], result["distances"][0]):
            if meta is None:  # deleted by another process's run between Chroma's search and its read: not a hit
                continue
            chunk = chunk_from_metadata(cid, text or "", meta)
            similarity = 1.0 - float(distance)  # cosine space: distance = 1 - cos
            passages.append(Passage.of(chunk, similarity, {"dense": similarity}))
        return passages


def _stored_chunks(page: dict[str, Any]) -> Iterator[StoredChunk]:
    texts = page.get("documents") or [""] * len(page["ids"])
    for cid, text, meta in zip(page["ids"], texts, page["metadatas"]):
        yield stored_from_record(cid, text or "", meta or {})
