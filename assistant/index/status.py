"""A collection's state in words and numbers, for `assistant info`, the page and the API: read from
the manifest and checked against the store (a Chroma server's own count, or its connection error)."""

from __future__ import annotations

from typing import Any

from assistant.config import Settings
from assistant.config_sources import config_file_in_use
from assistant.index.locking import describe_holder, is_locked
from assistant.index.manifest import Manifest, read_manifest
from assistant.index.store import describe_location
from assistant.index.vector_store import VectorStore
from assistant.ingest.quarantine import quarantine_reasons


def index_status(settings: Settings, manifest: Manifest | None, *, orphaned: bool = False) -> str:
    """One line: ready, never built, manifest lost, being indexed, or interrupted (and what to run)."""
    name = settings.store.collection
    if manifest is None and orphaned:
        return f"manifest missing but Chroma has the data; run: assistant index --repair --collection {name}"
    if manifest is None:
        return f"never built; run: assistant index --corpus PATH --collection {name}"
    if manifest.run is None:
        return "ready"
    if is_locked(settings):
        return f"being indexed by {describe_holder(settings)} (questions use the last complete snapshot)"
    since = f"{manifest.run.kind} run started {manifest.run.started}"
    return f"interrupted ({since}); run: assistant index --collection {name} to finish it"


def collection_info(settings: Settings, store: VectorStore) -> dict[str, Any]:
    """What is indexed in `settings`' collection. `store` is connected first: against a server, this
    reports its state or why it can't be reached."""
    manifest = read_manifest(settings)
    config_file = config_file_in_use()
    store_chunks = None
    if manifest is not None and manifest.physical:
        store_chunks = store.open(manifest.physical, create=False).count()
    return {
        "collection": settings.store.collection,
        "status": index_status(settings, manifest, orphaned=manifest is None and bool(store.physical_collections())),
        "store": describe_location(settings.store),
        "corpus": manifest.corpus if manifest else str(settings.corpus.path),
        "documents": len(manifest.documents) if manifest else 0,
        "uploads": sum(1 for d in manifest.documents.values() if d.origin == "upload") if manifest else 0,
        "quarantined": quarantine_reasons(settings),
        "chunks": manifest.chunks if manifest else 0,
        "store_chunks": store_chunks,
        "sentences": manifest.sentences if manifest else 0,
        "embedding_model": settings.embedding.model,
        "chunking": {"chunk_size": settings.chunking.chunk_size, "chunk_overlap": settings.chunking.chunk_overlap},
        "answerer": settings.answer.answerer,
        "updated": manifest.updated if manifest else None,
        "index_hash": manifest.index_hash if manifest else None,
        "config_hash": settings.config_hash(),
        "config_file": str(config_file) if config_file else None,  # never one skipped as untrusted
    }
