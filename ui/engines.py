"""The engines behind the page: one Assistant per answerer backend, sharing the embedder and the index,
plus one Assistant per other collection that uploads may go to.

The primary engine (the configured answerer) owns indexing of the served collection. Uploads and
deletes run in a background thread; every engine notices the new published snapshot on its next
question. Sessions ask the pool for an engine at each question, never keep one."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.engine import Assistant
from assistant.serving.http_api.engines import CollectionEngines
from assistant.index.run import IndexReport
from assistant.index.jobs import BackgroundJob
from assistant.uploads import UploadedDocument

ANSWERERS: tuple[tuple[str, str], ...] = (
    ("Extractive (quotes, no model)", "extractive"),
    ("Local model (llama.cpp)", "llamacpp"),
    ("OpenAI-compatible server", "openai"),
)


class EnginePool:
    """Thread-safe map answerer name -> Assistant over the same store and collection, and collection
    name -> Assistant for the document panel (the served collection's is the primary engine)."""

    def __init__(self, primary: Assistant) -> None:
        self.primary = primary
        self.settings = primary.settings
        self._engines: dict[str, Assistant] = {self.settings.answer.answerer: primary}
        self._lock = threading.Lock()
        self._collections = CollectionEngines(primary)  # never builds a collection, only opens built ones

    def get(self, answerer: str | None) -> Assistant:
        name = answerer or self.settings.answer.answerer
        with self._lock:
            engine = self._engines.get(name)
            if engine is None:
                settings = self.settings.with_(answer={"answerer": name})  # validates the name
                engine = Assistant(settings, embedder=self.primary.embedder)
                self._engines[name] = engine
            return engine

    # -- collections and their uploaded documents ----------------------------------------------------
    @property
    def served(self) -> str:
        """The collection the chat answers from."""
        return self.settings.store.collection

    def collections(self) -> list[str]:
        """The built collections an upload may go to, the served one first."""
        return self._collections.names()

    def collection(self, name: str | None) -> Assistant:
        """The engine of collection `name` (None: the served one); IndexMissingError for one never built."""
        return self._collections.get(name or self.served)

    def document_rows(self, collection: str | None) -> list[UploadedDocument]:
        """The collection's uploaded documents with the chunks its published index holds of each."""
        return self.collection(collection).uploaded_documents()

    def add_files_in_background(self, files: Sequence[tuple[Path, str]],
                                collection: str | None = None) -> BackgroundJob[IndexReport]:
        """Index uploads (path, name) into a collection in a background thread; questions keep being answered
        meanwhile from the published snapshot, and every engine switches to the new one on its next question."""
        engine = self.collection(collection)
        paths = [path for path, _ in files]
        names = [name for _, name in files]
        return BackgroundJob(lambda progress: engine.add_files(paths, names=names, progress=progress),
                             name="upload-index")

    def remove_in_background(self, names: Sequence[str], collection: str | None = None) -> BackgroundJob[IndexReport]:
        """Delete uploaded documents and their chunks (one crash-safe index run) in a background thread."""
        engine = self.collection(collection)
        wanted = list(names)
        return BackgroundJob(lambda progress: engine.remove_documents(wanted, progress=progress), name="upload-remove")

    # -- the served collection ------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        return self.primary.info()

    def documents(self) -> list[tuple[str, str, dt.date | None]]:
        """(source, title, date) of every indexed document."""
        seen: dict[str, tuple[str, str, dt.date | None]] = {}
        for chunk in self.primary.view().chunks.values():
            seen.setdefault(chunk.source, (chunk.source, chunk.title, chunk.date))
        return sorted(seen.values())
