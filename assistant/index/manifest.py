"""The index manifest: which published snapshot readers should load, what it holds, what built it,
and whether a run is in progress. Written atomically; a typed model, never a raw dict."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import socket
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant import atomic
from assistant.config import Settings
from assistant.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from assistant.index.registry import server_registry
from assistant.index.store import describe_location
from assistant.names import check_collection_name

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
    # Digest of the input (file or corpus line) this edition was read from (ingest.editions): an
    # update does not read an input of the same digest again. "" when not recorded.
    digest: str = ""


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


class ManifestStore(Protocol):
    """Where a collection's manifest is kept: a local file, or a record on the shared Chroma server."""

    where: str

    def read_text(self) -> str | None:
        """The manifest's JSON text, None when there is none; IndexCorruptError when it can't be read."""

    def write_text(self, text: str) -> None:
        """Replace the manifest whole (atomically)."""

    def stamp(self) -> Hashable:
        """Cheap value that changes whenever the manifest does (None when there is none)."""


class FileManifests:
    def __init__(self, settings: Settings) -> None:
        self.path = manifest_path(settings)
        self.where = str(self.path)

    def read_text(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise IndexCorruptError(f"cannot read {self.path} ({exc.strerror or exc})") from exc

    def write_text(self, text: str) -> None:
        atomic.write_text(self.path, text)

    def stamp(self) -> Hashable:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)  # atomic renames give a new inode


def manifest_key(collection: str) -> str:
    return f"manifest/{collection}"


class ServerManifests:
    """The manifest as a registry record, so replicas on one Chroma server need share no folder.
    A manifest file an earlier version left in the local folder for this same server is moved to
    the server once; one written for a local store is ignored (its chunks are not on the server)."""

    def __init__(self, settings: Settings) -> None:
        self._registry = server_registry(settings.store)
        self._collection = settings.store.collection
        self._legacy = FileManifests(settings)
        self._store = describe_location(settings.store)
        self.where = f"the manifest of {self._collection!r} on the Chroma server {settings.store.chroma_url}"

    def read_text(self) -> str | None:
        record = self._registry.read(manifest_key(self._collection))
        if record is not None:
            return record.text
        legacy = self._legacy.read_text()
        if legacy is None or not self._describes_this_server(legacy):
            return None  # e.g. a local-store manifest: its chunks are not on this server
        self.write_text(legacy)
        return legacy

    def _describes_this_server(self, text: str) -> bool:
        """Only a manifest an earlier version wrote for this same server is moved to it."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return False
        return isinstance(data, dict) and data.get("store") == self._store

    def write_text(self, text: str) -> None:
        self._registry.write(manifest_key(self._collection), text, {"kind": "manifest", "collection": self._collection})

    def stamp(self) -> Hashable:
        record = self._registry.read(manifest_key(self._collection))
        return None if record is None else hashlib.sha256(record.text.encode()).hexdigest()


def manifest_store(settings: Settings) -> ManifestStore:
    return ServerManifests(settings) if settings.store.chroma_url else FileManifests(settings)


def manifest_stamp(settings: Settings) -> Hashable:
    return manifest_store(settings).stamp()


def list_manifest_collections(settings: Settings) -> list[str]:
    """Every collection that has a manifest where `settings` keep them."""
    if settings.store.chroma_url:
        records = server_registry(settings.store).find({"kind": "manifest"})
        return sorted(str(r.metadata.get("collection", "")) for r in records if r.metadata.get("collection"))
    root = collections_root(settings)
    return sorted(folder.name for folder in root.iterdir() if (folder / MANIFEST_FILE).is_file()) if root.is_dir() else []


def built_collections(settings: Settings) -> list[str]:
    """The collection names with a manifest where `settings` keep them, sorted; a stray folder whose
    name no collection could have (not made by the assistant) is left out."""
    found = []
    for folder_name in list_manifest_collections(settings):
        try:
            found.append(check_collection_name(folder_name))
        except ValueError:
            continue
    return found


def unknown_collection(settings: Settings, name: str, *, existing: Sequence[str] | None = None,
                       say_where: bool = True) -> IndexMissingError:
    """The one error for naming a collection that was never built (CLI, library, API and page), naming
    those that exist so a typo shows at once. `existing`: the names a server offers (default: those with
    a manifest). `say_where`: name the store searched (a wrong ASSISTANT_INDEX_DIR looks just like a
    typo); not said to HTTP clients, who need no server paths."""
    if existing is None:
        existing = built_collections(settings)
    where = f" in {describe_location(settings.store)}" if say_where else ""
    found = f"existing: {', '.join(existing)}" if existing else "no collection is built there yet"
    try:
        check_collection_name(name)
    except ValueError as err:  # no collection can have this name: building it is no fix to offer
        return IndexMissingError(f"no collection named {name!r}{where}; {found}; {err}")
    return IndexMissingError(f"no collection named {name!r}{where}; {found}; "
                             f"build it with: assistant index --corpus PATH --collection {name}")


def read_manifest(settings: Settings) -> Manifest | None:
    """The manifest, None when the collection has never been started, IndexMismatchError for an
    index written by an older layout, IndexCorruptError when the file can't be parsed."""
    source = manifest_store(settings)
    raw = source.read_text()
    if raw is None:
        return None
    path = source.where
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
    manifest_store(settings).write_text(manifest.model_dump_json(indent=1))
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
