"""What an index run starts from and will do, worked out before anything is written: the manifest
and snapshot it updates, the sources to mirror (corpus plus stored uploads), and the diff of their
documents against the published snapshot."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.config import ChunkingSettings, Settings
from assistant.errors import (
    CorpusChangedError,
    IndexCorruptError,
    IndexMismatchError,
    SnapshotUnavailableError,
)
from assistant.index.manifest import (
    DocumentEntry,
    Manifest,
    check_fingerprint,
    read_manifest,
)
from assistant.index.records import Origin, StoredChunk
from assistant.index.registry import load_stored_uploads
from assistant.index.snapshot_writer import load_or_derive_view
from assistant.index.store import describe_location
from assistant.index.vector_store import VectorStore
from assistant.index.view import IndexView, loaded_view
from assistant.ingest import chunk_documents_safely, load_corpus
from assistant.ingest.editions import KnownEdition, KnownEditions
from assistant.ingest.loaders import record_file
from assistant.types import Chunk, Document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceDocument:
    """One document the collection should hold: read (`document`), or an unchanged edition the
    loader did not read again (`document` None; its chunks come from the previous snapshot)."""

    source: str
    content_hash: str
    origin: Origin
    document: Document | None = None
    digest: str = ""  # of the input it was read from (ingest.editions); "" when none

    @classmethod
    def read(cls, document: Document, origin: Origin, digest: str = "") -> SourceDocument:
        return cls(document.source, document.content_hash, origin, document, digest)


def refuse_orphaned_data(settings: Settings, store: VectorStore) -> None:
    """Chroma holds this collection but its manifest is gone: building anew would drop that data."""
    if store.physical_collections():
        name = settings.store.collection
        raise IndexCorruptError(
            f"collection {name!r} has data in {describe_location(settings.store)} but its manifest is missing; "
            f"restore it from Chroma with: assistant index --repair --collection {name} (or replace it with --rebuild)")


def previous_view(settings: Settings, store: VectorStore, manifest: Manifest) -> IndexView:
    """The published snapshot a run updates (the loaded one, when this process serves it);
    IndexCorruptError (naming --repair) when it is gone."""
    reused = loaded_view(settings, manifest)
    if reused is not None:
        return reused
    try:
        return load_or_derive_view(settings, store, manifest, None)
    except (FileNotFoundError, SnapshotUnavailableError):
        name = settings.store.collection
        raise IndexCorruptError(f"the snapshot of collection {name!r} named by its manifest is missing; "
                                f"re-derive it from Chroma with: assistant index --repair --collection {name}") from None


def manifest_for_run(settings: Settings, rebuild: bool) -> Manifest | None:
    """The current manifest; a rebuild tolerates one written with other settings (it replaces it)."""
    if rebuild:
        try:
            return read_manifest(settings)
        except (IndexMismatchError, IndexCorruptError) as exc:
            log.warning("replacing an unusable manifest: %s", exc)
            return None
    manifest = read_manifest(settings)
    check_fingerprint(settings, manifest)
    return manifest


def resolve_corpus(settings: Settings, requested: Path | None, manifest: Manifest | None) -> Path:
    """The corpus a run mirrors: the one asked for, else the one the manifest records, else the configured one."""
    if requested is not None:
        return Path(requested).expanduser().resolve()
    return Path(manifest.corpus) if manifest is not None else Path(settings.corpus.path).expanduser()


def check_same_corpus(settings: Settings, corpus: Path, manifest: Manifest | None, *, rebuild: bool) -> None:
    """A different corpus than the recorded one needs --rebuild: a collection is never replaced silently."""
    recorded = Path(manifest.corpus) if manifest is not None else None
    if recorded is not None and not rebuild and corpus.resolve() != recorded.resolve():
        requested = corpus
        name = settings.store.collection
        raise CorpusChangedError(
            f"collection {name!r} mirrors {recorded}, not {requested}; to replace its contents run "
            f"`assistant index --corpus {requested} --collection {name} --rebuild`, or choose another --collection")


def known_editions(manifest: Manifest | None) -> dict[str, KnownEdition]:
    """The corpus inputs the published snapshot was read from (digest -> edition), which a run
    that updates that snapshot need not read again. Pass None for a run that builds anew."""
    if manifest is None or manifest.snapshot is None:
        return {}
    return {entry.digest: KnownEdition(source, entry.hash) for source, entry in manifest.documents.items()
            if entry.digest and entry.origin == "corpus"}


def load_sources(settings: Settings, corpus: Path, known: KnownEditions | None = None,
                 ) -> tuple[list[SourceDocument], list[tuple[str, str]]]:
    """The corpus's documents plus the collection's stored uploads (raises before anything is
    touched). Corpus inputs whose digest is in `known` (see known_editions) are not read again."""
    loaded = load_corpus(corpus, settings.corpus, known)
    uploads = load_stored_uploads(settings)
    documents = [SourceDocument.read(d, "corpus", loaded.digests.get(d.source, "")) for d in loaded.documents]
    documents += [SourceDocument(e.source, e.content_hash, "corpus", None, loaded.digests[e.source])
                  for e in loaded.unchanged]
    # Uploads are few and always read; no digest, as when add_documents indexes them (else a no-op
    # run after an upload would see a changed catalogue and write a snapshot).
    documents += [SourceDocument.read(d, "upload") for d in uploads.documents]
    return documents, list(loaded.skipped) + list(uploads.skipped)


@dataclass
class Plan:
    """The new snapshot's chunks, the new editions' chunks to write, the document catalogue, and
    what changed (for the run's report)."""

    final: list[Chunk] = field(default_factory=list)        # in (source, index) order
    fresh: list[StoredChunk] = field(default_factory=list)  # new editions' chunks, not yet embedded
    catalogue: dict[str, DocumentEntry] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # found while chunking, besides the loader's


def plan_run(documents: Sequence[SourceDocument], previous: IndexView | None, manifest: Manifest | None,
             scope: set[str] | None, load_skipped: Sequence[tuple[str, str]], chunking: ChunkingSettings) -> Plan:
    """Diff `documents` against the `previous` snapshot (that `manifest` names) and chunk the new
    editions. `scope`: the sources the run may touch (None: all). A file that exists but could not
    be read this time (`load_skipped`) keeps its indexed edition: a passing read error must not
    delete what was there. Public so that evals/bench_scale.py can time it."""
    plan = Plan()
    skipped = {source for source, _ in load_skipped}
    # A records file (.json/.jsonl) that could not be read this time keeps its records' editions too.
    unreadable = {source for source in (manifest.documents if manifest else ())
                  if source in skipped or record_file(source) in skipped}
    old_docs = dict(manifest.documents) if manifest is not None and previous is not None else {}
    old_chunks: dict[str, list[Chunk]] = {}
    for chunk in (previous.chunks.values() if previous is not None else ()):
        old_chunks.setdefault(chunk.source, []).append(chunk)
    incoming = {d.source: d for d in documents}
    to_chunk: list[SourceDocument] = []
    for source, entry in old_docs.items():
        in_scope = scope is None or source in scope
        if in_scope and source not in incoming and source not in unreadable:
            plan.removed.append(source)
        elif not in_scope or source in unreadable or entry.hash == incoming[source].content_hash:
            if in_scope and source not in unreadable and entry.digest != incoming[source].digest:
                entry = entry.model_copy(update={"digest": incoming[source].digest})  # the input read this time
            plan.catalogue[source] = entry
            plan.final.extend(old_chunks.get(source, ()))
            plan.unchanged += 1 if in_scope else 0
    for source, item in incoming.items():
        if source in plan.catalogue:
            continue
        (plan.changed if source in old_docs else plan.added).append(source)
        to_chunk.append(item)
    documents_to_chunk = [d.document for d in to_chunk if d.document is not None]
    if len(documents_to_chunk) != len(to_chunk):
        # Only the previous snapshot's editions are left unread (known_editions), and those are kept above.
        unread = next(d.source for d in to_chunk if d.document is None)
        raise RuntimeError(f"{unread!r} was not read but is not in the snapshot this run updates")
    by_source = {d.source: d for d in to_chunk}
    new_chunks, failed = chunk_documents_safely(documents_to_chunk, chunking)
    plan.skipped.extend(failed)  # a document the splitter fails on is skipped, the rest indexed
    failed_sources = {source for source, _ in failed}
    for source in failed_sources:
        if source in old_docs:  # its previous edition stays searchable
            plan.catalogue[source] = old_docs[source]
            plan.final.extend(old_chunks.get(source, ()))
            plan.changed.remove(source)
    per_doc: dict[str, int] = {}
    for chunk in new_chunks:
        per_doc[chunk.source] = per_doc.get(chunk.source, 0) + 1
    for chunk in new_chunks:
        empty = np.zeros((0, 2), np.int32)
        item = by_source[chunk.source]
        plan.fresh.append(StoredChunk(chunk=chunk, doc_hash=item.content_hash, doc_chunks=per_doc[chunk.source],
                                      origin=item.origin, spans=empty, vectors=np.zeros((0, 0), np.float16)))
    plan.final.extend(new_chunks)
    for doc, item in zip(documents_to_chunk, to_chunk):
        if per_doc.get(doc.source):
            plan.catalogue[doc.source] = DocumentEntry(hash=doc.content_hash, title=doc.title, chunks=per_doc[doc.source],
                                                       date=doc.date.isoformat() if doc.date else None, origin=item.origin,
                                                       digest=item.digest)
        elif doc.source not in failed_sources:
            plan.skipped.append((doc.source, "no text to index after splitting"))
    plan.final.sort(key=lambda c: (c.source, c.index))
    for names in (plan.added, plan.changed, plan.removed):
        names.sort()
    return plan
