"""The store seam: what the index run, check/repair, the read side and retrieval need of a vector
store, and the factory that makes one for the configured location.

`ChromaStore` (assistant.index.store) is the implementation, over a local PersistentClient or a
Chroma server (`store.chroma_url`); tests/index/test_vector_store.py is the contract both run."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from assistant.config import StoreSettings
from assistant.index.records import StoredChunk
from assistant.index.store import ChromaStore, SearchFilter
from assistant.types import Passage


class VectorCollection(Protocol):
    """One open physical collection: chunk records in, ids and records out, dense queries. A
    collection dropped meanwhile raises `CollectionGoneError`; any other failure `StoreUnavailableError`."""

    name: str

    def count(self) -> int: ...

    def ids(self) -> set[str]:
        """Every record id."""
        ...

    def existing(self, ids: Sequence[str]) -> set[str]:
        """Which of these ids the collection holds."""
        ...

    def records(self, ids: Sequence[str] | None = None, *,
                sources: Sequence[str] | None = None) -> Iterator[StoredChunk]:
        """Full records: all of them, some ids, or those of some documents."""
        ...

    def embeddings(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The passage vectors the store searches, by id."""
        ...

    def upsert(self, records: Sequence[StoredChunk], passage_vectors: np.ndarray) -> None:
        """Write chunk records; each call is committed before it returns."""
        ...

    def delete_ids(self, ids: Sequence[str]) -> None: ...

    def query(self, vector: np.ndarray, n: int, search_filter: SearchFilter | None = None) -> list[Passage]:
        """The n nearest passages (cosine similarity in `score` and `scores["dense"]`), filtered."""
        ...


class VectorStore(Protocol):
    """The store of one logical collection (`name`), holding its physical collections."""

    @property
    def name(self) -> str: ...

    def refresh(self) -> None:
        """See what other processes wrote since this store was opened."""
        ...

    def open(self, physical: str, *, create: bool, corpus: str = "") -> VectorCollection:
        """Open (or create) a physical collection; IndexMismatchError when it was built with
        another fingerprint, CollectionGoneError when it does not exist and `create` is off."""
        ...

    def physical_collections(self) -> list[tuple[str, dict[str, Any]]]:
        """(name, metadata) of every physical collection of this logical name."""
        ...

    def drop(self, physical: str) -> None:
        """Delete a physical collection (nothing happens when it is already gone)."""
        ...


def make_store(settings: StoreSettings, fingerprint: dict[str, Any]) -> VectorStore:
    """The store for the configured location: a local Chroma folder, or a Chroma server."""
    return ChromaStore(settings, fingerprint)
