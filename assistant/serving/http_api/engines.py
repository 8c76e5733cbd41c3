"""One engine per collection: the model name of a request picks the collection.

The served collection's engine is made (and warmed up) at start; others are made on their first
request and kept, sharing its embedding model and answer scorer, so a second collection costs
its index, not another model. Only collections already built are served: naming one never
builds it."""

from __future__ import annotations

import datetime as dt
import threading

from assistant.index.names import check_collection_name
from assistant.config import Settings
from assistant.engine import Assistant
from assistant.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from assistant.index.manifest import list_manifest_collections, read_manifest


def list_collections(settings: Settings) -> list[str]:
    """The collections with a manifest where `settings` keep them, `settings`' own collection first."""
    default = settings.store.collection
    found = []
    for folder_name in list_manifest_collections(settings):
        try:
            found.append(check_collection_name(folder_name))
        except ValueError:  # a stray folder (not made by the assistant): not a collection
            continue
    others = [name for name in found if name != default]
    return [default, *others] if default in found else others


class CollectionEngines:
    """Thread-safe map collection name -> Assistant over the same store."""

    def __init__(self, primary: Assistant) -> None:
        self.primary = primary
        self.settings = primary.settings
        self._engines: dict[str, Assistant] = {self.default: primary}
        self._lock = threading.Lock()

    @property
    def default(self) -> str:
        return self.settings.store.collection

    def names(self) -> list[str]:
        """The collections a request may name; the served one first (listed even while it builds)."""
        names = list_collections(self.settings)
        return names if self.default in names else [self.default, *names]

    def created(self, name: str) -> int:
        """When a collection's index was last written (its manifest's time, Unix seconds; 0 while the first build runs)."""
        try:
            manifest = read_manifest(self.settings.with_(store={"collection": name}))
        except (IndexCorruptError, IndexMismatchError):
            return 0  # listed all the same; asking it gives the error with its remedy
        if manifest is None or not manifest.updated:
            return 0
        return int(dt.datetime.fromisoformat(manifest.updated).timestamp())

    def get(self, name: str | None) -> Assistant:
        """The engine of collection `name` (None: the served one). IndexMissingError when it was never built."""
        name = self.default if name is None else name
        with self._lock:
            engine = self._engines.get(name)
            if engine is not None:
                return engine
        if name not in self.names():
            raise IndexMissingError(
                f"no collection named {name!r}: GET /v1/models lists the collections; build one with "
                f"assistant index --corpus PATH --collection {name}")
        settings = self.settings.with_(store={"collection": name})
        with self._lock:
            engine = self._engines.get(name)
            if engine is None:
                engine = Assistant(settings, embedder=self.primary.embedder, answer_scorer=self.primary.answer_scorer,
                                   auto_index=False)
                self._engines[name] = engine
            return engine
