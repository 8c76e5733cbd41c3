"""The index manifest: which published snapshot readers should load, what it holds, what built it,
and whether a run is in progress. Written atomically; a typed model, never a raw dict."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import socket
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant import atomic
from assistant.config import Settings
from assistant.errors import IndexCorruptError, IndexMismatchError

MANIFEST_VERSION = 2
MANIFEST_FILE = "manifest.json"
Origin = Literal["corpus", "upload"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DocumentEntry(_Model):
    hash: str
    title: str = ""
    date: str | None = None
    chunks: int = 0
    origin: Origin = "corpus"


class RunState(_Model):
    """An index run that started and has not finished (or was killed)."""

    kind: Literal["index", "rebuild", "add"]
    phase: Literal["embedding", "cleanup"] = "embedding"
    corpus: str
    target: str = Field(description="Physical Chroma collection the run writes into.")
    started: str
    pid: int
    host: str


class Manifest(_Model):
    version: int = MANIFEST_VERSION
    collection: str
    fingerprint: dict[str, Any]
    corpus: str = Field(description="The corpus folder or JSONL file this collection mirrors.")
    store: str
    physical: str | None = Field(None, description="Chroma collection of the published snapshot.")
    snapshot: str | None = Field(None, description="Folder name of the published snapshot (None: never published).")
    documents: dict[str, DocumentEntry] = Field(default_factory=dict)
    chunks: int = 0
    sentences: int = 0
    index_hash: str = ""
    updated: str = ""
    run: RunState | None = None

    def with_(self, **changes: Any) -> Manifest:
        return self.model_copy(update=changes)

    @property
    def interrupted(self) -> bool:
        return self.run is not None


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def new_run(kind: Literal["index", "rebuild", "add"], corpus: Path | str, target: str) -> RunState:
    return RunState(kind=kind, corpus=str(corpus), target=target, started=now_iso(), pid=os.getpid(),
                    host=socket.gethostname())


def collections_root(settings: Settings) -> Path:
    return settings.store.path / "collections"


def collection_dir(settings: Settings) -> Path:
    """Where a collection's manifest and snapshots live (also for a Chroma server). The name was
    validated by Settings; the containment check makes a bad name fail before any file is touched."""
    root = collections_root(settings)
    folder = root / settings.store.collection
    if folder.resolve().parent != root.resolve():
        raise IndexCorruptError(f"collection name {settings.store.collection!r} points outside {root}; use a plain name")
    return folder


def manifest_path(settings: Settings) -> Path:
    return collection_dir(settings) / MANIFEST_FILE


def read_manifest(settings: Settings) -> Manifest | None:
    """The manifest, None when the collection has never been started, IndexMismatchError for an
    index written by an older layout, IndexCorruptError when the file can't be parsed."""
    path = manifest_path(settings)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexCorruptError(f"cannot read {path} ({exc.strerror or exc})") from exc
    name = settings.store.collection
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise IndexCorruptError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); run: assistant index --repair --collection {name}") from exc
    if not isinstance(data, dict):
        raise IndexCorruptError(f"{path} is damaged (a JSON {type(data).__name__}, not an object); "
                                f"run: assistant index --repair --collection {name}")
    if data.get("version") != MANIFEST_VERSION:
        raise IndexMismatchError(
            f"index {name!r} was written by an older version of the assistant; rebuild it with: "
            f"assistant index --collection {name} --rebuild")
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise IndexCorruptError(f"{path} is malformed ({exc.errors()[0]['msg']}); run: assistant index --repair --collection {name}") from exc


def write_manifest(settings: Settings, manifest: Manifest) -> Manifest:
    manifest = manifest.with_(updated=now_iso())
    atomic.write_text(manifest_path(settings), manifest.model_dump_json(indent=1))
    return manifest


def check_fingerprint(settings: Settings, manifest: Manifest | None) -> None:
    if manifest is None:
        return
    wanted = settings.index_fingerprint()
    differences = [f"{key}: index has {manifest.fingerprint.get(key)!r}, config has {value!r}"
                   for key, value in wanted.items() if manifest.fingerprint.get(key) != value]
    if differences:
        name = settings.store.collection
        raise IndexMismatchError(
            f"index {name!r} was built with other settings ({'; '.join(differences)}); "
            f"rebuild it with: assistant index --collection {name} --rebuild")


def index_hash(documents: dict[str, DocumentEntry]) -> str:
    blob = json.dumps(sorted((source, entry.hash) for source, entry in documents.items())).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
