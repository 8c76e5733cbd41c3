"""The index manifest: what a collection was built with and from, kept beside its sidecar indexes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import IndexMismatchError

MANIFEST_VERSION = 1


def collection_dir(settings: Settings) -> Path:
    """Where a collection's manifest, BM25 and sentence index live (also for a Chroma server)."""
    return settings.store.path / "collections" / settings.store.collection


def manifest_path(settings: Settings) -> Path:
    return collection_dir(settings) / "manifest.json"


def read_manifest(settings: Settings) -> dict[str, Any] | None:
    path = manifest_path(settings)
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None  # a torn manifest is rebuilt from the store on the next index run


def check_manifest(settings: Settings, manifest: dict[str, Any] | None) -> None:
    if not manifest:
        return
    built_with = manifest.get("fingerprint", {})
    wanted = settings.index_fingerprint()
    differences = [f"{key}: index has {built_with.get(key)!r}, config has {value!r}"
                   for key, value in wanted.items() if built_with.get(key) != value]
    if differences:
        raise IndexMismatchError(
            f"index {settings.store.collection!r} was built with other settings ({'; '.join(differences)}); "
            f"rebuild it with: assistant index --collection {settings.store.collection} --rebuild"
        )


def index_hash(documents: dict[str, dict[str, Any]]) -> str:
    blob = json.dumps(sorted((source, meta["hash"]) for source, meta in documents.items())).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def write_manifest(settings: Settings, *, corpus: Path, documents: dict[str, dict[str, Any]],
                   chunks: int, sentences: int) -> dict[str, Any]:
    manifest = {
        "version": MANIFEST_VERSION,
        "collection": settings.store.collection,
        "fingerprint": settings.index_fingerprint(),
        "corpus": str(corpus),
        "store": settings.store.chroma_url or str(settings.store.path / "chroma"),
        "documents": documents,
        "chunks": chunks,
        "sentences": sentences,
        "index_hash": index_hash(documents),
        "updated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    path = manifest_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    tmp.replace(path)  # atomic: a crash never leaves half a manifest
    return manifest
