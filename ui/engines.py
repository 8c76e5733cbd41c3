"""The engines behind the page: one Assistant per answerer backend, sharing the embedder and the index.

The primary engine (the configured answerer) owns indexing. Uploads go through it in a background
thread; every engine notices the new published snapshot on its next question. Sessions ask the
pool for an engine at each question, never keep one."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.engine import Assistant
from assistant.indexer import IndexReport
from assistant.jobs import BackgroundJob

ANSWERERS: tuple[tuple[str, str], ...] = (
    ("Extractive (quotes, no model)", "extractive"),
    ("Local model (llama.cpp)", "llamacpp"),
    ("OpenAI-compatible server", "openai"),
)


class EnginePool:
    """Thread-safe map answerer name -> Assistant over the same store and collection."""

    def __init__(self, primary: Assistant) -> None:
        self.primary = primary
        self.settings = primary.settings
        self._engines: dict[str, Assistant] = {self.settings.answer.answerer: primary}
        self._lock = threading.Lock()

    def get(self, answerer: str | None) -> Assistant:
        name = answerer or self.settings.answer.answerer
        with self._lock:
            engine = self._engines.get(name)
            if engine is None:
                settings = self.settings.with_(answer={"answerer": name})  # validates the name
                engine = Assistant(settings, embedder=self.primary.embedder)
                self._engines[name] = engine
            return engine

    def add_files_in_background(self, files: Sequence[tuple[Path, str]]) -> BackgroundJob[IndexReport]:
        """Index uploads (path, name) in a background thread; questions keep being answered meanwhile
        from the published snapshot, and every engine switches to the new one on its next question."""
        paths = [path for path, _ in files]
        names = [name for _, name in files]
        return BackgroundJob(lambda progress: self.primary.add_files(paths, names=names, progress=progress),
                             name="upload-index")

    def info(self) -> dict[str, Any]:
        return self.primary.info()

    def documents(self) -> list[tuple[str, str, dt.date | None]]:
        """(source, title, date) of every indexed document."""
        seen: dict[str, tuple[str, str, dt.date | None]] = {}
        for chunk in self.primary.view().chunks.values():
            seen.setdefault(chunk.source, (chunk.source, chunk.title, chunk.date))
        return sorted(seen.values())
