"""Hot reload of published snapshots: the engine answers from one loaded snapshot and switches to a
newer one when the manifest changes.

Readers never wait for writers: indexing (here or in another process) publishes a new snapshot,
and the next question notices the manifest changed and switches to it; until then questions are
answered from the snapshot already loaded."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from assistant.answer.base import Answerer
from assistant.config import Settings
from assistant.errors import IndexCorruptError, SnapshotUnavailableError
from assistant.index.locking import is_locked
from assistant.index.manifest import check_fingerprint, manifest_stamp, read_manifest
from assistant.index.snapshot_writer import load_or_derive_view
from assistant.index.store import CollectionGoneError
from assistant.index.vector_store import VectorStore
from assistant.index.view import IndexView
from assistant.retrieval.hybrid import HybridRetriever

log = logging.getLogger(__name__)

_RELOAD_ATTEMPTS = 3  # a snapshot pruned between reading the manifest and loading it: read again


@dataclass(frozen=True)
class LoadedSnapshot:
    """One published snapshot, ready to answer from."""

    view: IndexView
    retriever: HybridRetriever
    answerer: Answerer
    stamp: tuple[int, int, int] | None


# Builds the retriever and answerer over a freshly loaded view (the engine owns the components).
Assemble = Callable[[IndexView, "tuple[int, int, int] | None"], LoadedSnapshot]
# Builds a never-built collection (or finishes an interrupted first build) before loading it.
EnsureBuilt = Callable[[], None]


class SnapshotSource:
    """The snapshot answering now, reloaded when the manifest's stamp changes. Thread-safe: one thread
    loads a new snapshot while the others keep answering from the old one."""

    def __init__(self, settings: Settings, store: Callable[[], VectorStore], assemble: Assemble,
                 ensure_built: EnsureBuilt) -> None:
        self._settings = settings
        self._store = store
        self._assemble = assemble
        self._ensure_built = ensure_built
        self._loaded: LoadedSnapshot | None = None
        self._reload_lock = threading.Lock()

    @property
    def latest(self) -> LoadedSnapshot | None:
        """The snapshot loaded last, without checking the manifest (None before the first load)."""
        return self._loaded

    def current(self) -> LoadedSnapshot:
        loaded = self._loaded
        if loaded is not None and manifest_stamp(self._settings) == loaded.stamp:
            return loaded
        # Another thread is loading the newer snapshot (which can take seconds: the collection's
        # threshold probe runs then): answer from the loaded one meanwhile instead of queueing behind it.
        if not self._reload_lock.acquire(blocking=loaded is None):
            return loaded  # type: ignore[return-value]  (blocking only when nothing is loaded)
        try:
            loaded = self._loaded
            if loaded is not None and manifest_stamp(self._settings) == loaded.stamp:
                return loaded
            self._loaded = self._load_latest(loaded)
            return self._loaded
        finally:
            self._reload_lock.release()

    def refresh(self) -> None:
        """Drop the loaded snapshot's stamp so the next question re-reads the manifest."""
        loaded = self._loaded
        if loaded is not None:
            self._loaded = LoadedSnapshot(loaded.view, loaded.retriever, loaded.answerer, stamp=None)

    def _load_latest(self, loaded: LoadedSnapshot | None) -> LoadedSnapshot:
        for _ in range(_RELOAD_ATTEMPTS):
            stamp = manifest_stamp(self._settings)
            manifest = read_manifest(self._settings)
            if manifest is None or manifest.snapshot is None:
                if loaded is not None:
                    return loaded  # keep answering from what we have; the manifest will come back
                self._ensure_built()
                continue
            check_fingerprint(self._settings, manifest)
            if loaded is not None and loaded.view.manifest.snapshot == manifest.snapshot:
                loaded.view.manifest = manifest  # same snapshot, newer run state
                return LoadedSnapshot(loaded.view, loaded.retriever, loaded.answerer, stamp)
            try:
                view = load_or_derive_view(self._settings, self._store(), manifest, loaded.view if loaded else None)
            except (FileNotFoundError, SnapshotUnavailableError, CollectionGoneError):
                continue  # pruned or replaced by a writer after we read the manifest: read it again
            if manifest.run is not None and not is_locked(self._settings):
                log.warning("collection %r: an index run was interrupted; answering from the last complete "
                            "snapshot. Run `assistant index --collection %s` to finish it.",
                            self._settings.store.collection, self._settings.store.collection)
            try:
                return self._assemble(view, stamp)
            except CollectionGoneError:
                continue  # dropped by a rebuild while we assembled (the threshold probe queries it): read again
        name = self._settings.store.collection
        raise IndexCorruptError(
            f"the snapshot that collection {name!r}'s manifest names can't be found; re-derive it from Chroma with: "
            f"assistant index --repair --collection {name}")
