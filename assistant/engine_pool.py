"""The one engine pool: answer engines keyed by collection and answerer, sharing one embedding model
and answer scorer, so a second collection or answerer costs its index, not another model.

`ask()`, `ChatSession()`, the CLI, the HTTP API and the page all take their engines from a pool: the
library's calls from the shared pool of their settings (`engine_for`), a server from the pool around
the engine it warmed up. It sits just above the engine, below the conversation layer that needs it
for a session's default engine. Indexing never blocks answering: writes run in background jobs and
every engine switches to the new snapshot on its next question."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant import documents
from assistant.config import Settings
from assistant.engine import AnswerEngine
from assistant.errors import IndexCorruptError, IndexMismatchError
from assistant.index.jobs import BackgroundJob
from assistant.index.manifest import (
    built_collections,
    read_manifest,
    unknown_collection,
)
from assistant.index.run import IndexReport
from assistant.index.status import collection_info
from assistant.ingest.uploads import UploadedDocument

_Key = tuple[str, str, bool]  # (collection, answerer, auto_index)


def list_collections(settings: Settings) -> list[str]:
    """The collections with a manifest where `settings` keep them, `settings`' own collection first."""
    default = settings.store.collection
    found = built_collections(settings)
    others = [name for name in found if name != default]
    return [default, *others] if default in found else others


class EnginePool:
    """Thread-safe map (collection, answerer) -> AnswerEngine over the primary engine's store. The
    primary answers the served collection with the configured answerer and owns its indexing."""

    def __init__(self, primary: AnswerEngine) -> None:
        self.primary = primary
        self.settings = primary.settings
        self._engines: dict[_Key, AnswerEngine] = {self._key(None, None, primary.auto_index): primary}
        self._lock = threading.Lock()

    def _key(self, collection: str | None, answerer: str | None, auto_index: bool) -> _Key:
        return (collection or self.served, answerer or self.settings.answer.answerer, auto_index)

    @property
    def served(self) -> str:
        """The collection the page's chat answers from (the primary's)."""
        return self.settings.store.collection

    def get(self, collection: str | None = None, answerer: str | None = None, *, auto_index: bool | None = None) -> AnswerEngine:
        """The engine of `collection` with `answerer` (None: the primary's). `auto_index` (default: the
        primary's) lets a never-built collection be built from the configured corpus on first use."""
        key = self._key(collection, answerer, self.primary.auto_index if auto_index is None else auto_index)
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                settings = self.settings.with_(store={"collection": key[0]}, answer={"answerer": key[1]})  # validates both
                engine = AnswerEngine(settings, embedder=self.primary.embedder, answer_scorer=self.primary.answer_scorer,
                                      span_reader=self.primary.short_answer_reader, auto_index=key[2])
                self._engines[key] = engine
            return engine

    # -- collections --------------------------------------------------------------------------------
    def collections(self) -> list[str]:
        """The collections a request may name; the served one first (listed even while it builds)."""
        names = list_collections(self.settings)
        return names if self.served in names else [self.served, *names]

    def collection(self, name: str | None) -> AnswerEngine:
        """The engine of collection `name` (None: the served one); IndexMissingError for one never built:
        naming a collection never builds it."""
        if name is None or name == self.served:
            return self.primary
        offered = self.collections()
        if name not in offered:  # the names GET /v1/models and the page's picker list
            raise unknown_collection(self.settings, name, existing=offered, say_where=False)
        return self.get(name, auto_index=False)

    def created(self, name: str) -> int:
        """When a collection's index was last written (its manifest's time, Unix seconds; 0 while the first build runs)."""
        try:
            manifest = read_manifest(self.settings.with_(store={"collection": name}))
        except (IndexCorruptError, IndexMismatchError):
            return 0  # listed all the same; asking it gives the error with its remedy
        if manifest is None or not manifest.updated:
            return 0
        return int(dt.datetime.fromisoformat(manifest.updated).timestamp())

    # -- documents, written in the background ------------------------------------------------------------
    def document_rows(self, collection: str | None) -> list[UploadedDocument]:
        """The collection's uploaded documents with the chunks its published index holds of each."""
        return documents.uploaded_documents(self.collection(collection))

    def add_files_in_background(self, files: Sequence[tuple[Path, str]],
                                collection: str | None = None) -> BackgroundJob[IndexReport]:
        """Index uploads (path, name) into a collection in a background thread; questions keep being answered
        meanwhile from the published snapshot, and every engine switches to the new one on its next question."""
        engine = self.collection(collection)
        paths = [path for path, _ in files]
        names = [name for _, name in files]
        return BackgroundJob(lambda progress: documents.add_files(engine, paths, names=names, progress=progress),
                             name="upload-index")

    def remove_in_background(self, names: Sequence[str], collection: str | None = None) -> BackgroundJob[IndexReport]:
        """Delete uploaded documents and their chunks (one crash-safe index run) in a background thread."""
        engine = self.collection(collection)
        wanted = list(names)
        return BackgroundJob(lambda progress: documents.remove_documents(engine, wanted, progress=progress),
                             name="upload-remove")

    # -- the served collection ------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        return collection_info(self.settings, self.primary.store)

    def documents(self) -> list[tuple[str, str, dt.date | None]]:
        """(source, title, date) of every indexed document."""
        seen: dict[str, tuple[str, str, dt.date | None]] = {}
        for chunk in self.primary.view().chunks.values():
            seen.setdefault(chunk.source, (chunk.source, chunk.title, chunk.date))
        return sorted(seen.values())


# The library's shared pools, one per settings apart from collection and answerer (those key the engines).
_pools: dict[str, EnginePool] = {}
_pools_lock = threading.Lock()


def _pool_key(settings: Settings) -> str:
    return settings.model_dump_json(exclude={"store": {"collection"}, "answer": {"answerer"}})


def shared_pool(settings: Settings) -> EnginePool:
    """The process-wide pool for `settings` (its primary engine is made lazily: nothing loads here)."""
    key = _pool_key(settings)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = EnginePool(AnswerEngine(settings))
        return pool


def share(engine: AnswerEngine) -> EnginePool:
    """Make `engine` the shared engine for its settings (one already loaded, e.g. a server's or a test's),
    so `ask()` and sessions with those settings answer from it instead of loading the index again."""
    pool = EnginePool(engine)
    with _pools_lock:
        _pools[_pool_key(engine.settings)] = pool
    return pool


def engine_for(settings: Settings, *, auto_index: bool = True) -> AnswerEngine:
    """The shared engine for these settings. `auto_index=False`: a collection that was never built
    raises IndexMissingError instead of being built from the configured corpus."""
    return shared_pool(settings).get(settings.store.collection, settings.answer.answerer, auto_index=auto_index)
