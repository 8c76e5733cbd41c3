"""`assistant index --check` and `--repair`: is every part of an index in step with Chroma, and
re-deriving the manifest and snapshot from Chroma alone (sentence vectors included: no embedding)."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.errors import (
    IndexCorruptError,
    IndexMissingError,
    SnapshotUnavailableError,
)
from assistant.index.locking import is_locked, writer_lock
from assistant.index.manifest import (
    DocumentEntry,
    Manifest,
    check_fingerprint,
    index_hash,
    read_manifest,
    write_manifest,
)
from assistant.index.records import StoredChunk
from assistant.index.run import Progress
from assistant.index.sentence_index import SentenceIndex
from assistant.index.snapshot_writer import (
    load_or_derive_view,
    prune_snapshots,
    write_snapshot,
)
from assistant.index.store import describe_location
from assistant.index.terms import BM25Terms
from assistant.index.vector_store import VectorStore

log = logging.getLogger(__name__)


@dataclass
class CheckResult:
    collection: str
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"collection": self.collection, "ok": self.ok, "counts": self.counts, "problems": self.problems,
                "notes": self.notes}


def check_index(settings: Settings, store: VectorStore) -> CheckResult:
    """Chroma count = manifest chunks = snapshot chunks = BM25 ids = chunks with sentence rows, and
    the manifest's sentence count = sentence rows."""
    name = settings.store.collection
    result = CheckResult(collection=name)
    manifest = read_manifest(settings)
    if manifest is None:
        result.problems.append(f"collection {name!r} has never been built; run: assistant index --corpus PATH --collection {name}")
        return result
    check_fingerprint(settings, manifest)
    if manifest.run is not None:
        where = "in progress" if is_locked(settings) else "interrupted; run `assistant index` to finish it"
        (result.notes if is_locked(settings) else result.problems).append(
            f"the {manifest.run.kind} run started {manifest.run.started} is {where}")
    if manifest.snapshot is None or manifest.physical is None:
        result.problems.append("no snapshot has been published yet")
        return result
    try:
        view = load_or_derive_view(settings, store, manifest, None)  # a replica derives it from the server
    except (FileNotFoundError, IndexCorruptError, SnapshotUnavailableError) as exc:
        remedy = "" if "--repair" in str(exc) else f"; run: assistant index --repair --collection {name}"
        result.problems.append(f"the snapshot can't be loaded: {exc}{remedy}")
        return result
    stored = store.open(manifest.physical, create=False).ids()
    snapshot = set(view.chunks)
    sentence_chunks = set(view.sentences.chunk_ids)
    result.counts = {"chroma": len(stored), "manifest_chunks": manifest.chunks, "snapshot_chunks": len(snapshot),
                     "bm25_ids": len(view.passage_terms.ids), "sentence_chunks": len(sentence_chunks),
                     "sentence_rows": len(view.sentences), "manifest_sentences": manifest.sentences}
    missing = snapshot - stored
    if missing:
        result.problems.append(f"{len(missing)} chunks of the snapshot are missing from Chroma (e.g. {sorted(missing)[0]!r}); "
                               f"re-index with: assistant index --collection {name}")
    extra = stored - snapshot
    if extra:
        target = result.notes if manifest.run is not None else result.problems
        target.append(f"Chroma holds {len(extra)} chunks the snapshot doesn't name (an unfinished run's work; "
                      "the next `assistant index` keeps or removes them)")
    if not manifest.chunks == len(snapshot) == len(set(view.passage_terms.ids)) == len(sentence_chunks):
        result.problems.append("manifest, snapshot, BM25 and sentence index disagree on the chunk count; "
                               f"run: assistant index --repair --collection {name}")
    if view.term_counts.chunks != len(snapshot):
        result.problems.append(f"the term counts cover {view.term_counts.chunks} chunks, the snapshot has {len(snapshot)}; "
                               f"run: assistant index --repair --collection {name}")
    if manifest.sentences != len(view.sentences):
        result.problems.append(f"the manifest counts {manifest.sentences} sentences, the sentence index has {len(view.sentences)}; "
                               f"run: assistant index --repair --collection {name}")
    return result


def _pick_physical(settings: Settings, store: VectorStore, manifest: Manifest | None) -> tuple[str, str]:
    """(physical collection, corpus) to repair from: the manifest's, else the only one Chroma has."""
    candidates = store.physical_collections()
    if manifest is not None and manifest.physical and any(n == manifest.physical for n, _ in candidates):
        return manifest.physical, manifest.corpus
    if not candidates:
        raise IndexMissingError(f"Chroma has no collection for {store.name!r} in {describe_location(settings.store)}; "
                                f"build it with: assistant index --corpus PATH --collection {store.name}")
    if len(candidates) > 1:
        log.warning("several Chroma collections belong to %r; repairing from %s", store.name, candidates[-1][0])
    name, metadata = sorted(candidates)[-1]
    return name, (manifest.corpus if manifest is not None else str(metadata.get("corpus", "")))


def _complete_editions(records: list[StoredChunk], manifest: Manifest | None) -> list[StoredChunk]:
    """Per document, one complete edition: the manifest's when Chroma has all of it, else the
    complete one found (an unfinished edition is left for the next index run)."""
    editions: dict[str, dict[str, list[StoredChunk]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        editions[record.chunk.source][record.doc_hash].append(record)
    chosen: list[StoredChunk] = []
    for source, by_hash in editions.items():
        complete = {h: rs for h, rs in by_hash.items() if len(rs) == rs[0].doc_chunks}
        wanted = manifest.documents.get(source).hash if manifest is not None and source in manifest.documents else None
        if wanted in complete:
            chosen.extend(complete[wanted])
        elif complete:
            chosen.extend(complete[sorted(complete)[0]])
    return sorted(chosen, key=lambda r: (r.chunk.source, r.chunk.index))


def repair_index(settings: Settings, store: VectorStore, *, progress: Progress | None = None) -> CheckResult:
    """Re-derive the snapshot and the manifest from Chroma, embedding nothing."""
    say = progress or log.info
    with writer_lock(settings, on_wait=say):
        try:
            manifest = read_manifest(settings)
        except IndexCorruptError as exc:
            say(f"ignoring the damaged manifest: {exc}")
            manifest = None
        check_fingerprint(settings, manifest)
        physical, corpus = _pick_physical(settings, store, manifest)
        collection = store.open(physical, create=False)
        say(f"reading every record of {physical}")
        records = _complete_editions(list(collection.records()), manifest)
        chunks = [r.chunk for r in records]
        texts = [r.chunk.text[int(s):int(e)] for r in records for s, e in r.spans]
        chunk_ids = [r.chunk.chunk_id for r in records for _ in range(len(r.spans))]
        if not records:
            raise IndexMissingError(f"Chroma collection {physical!r} holds no complete document; rebuild it with: "
                                    f"assistant index --collection {settings.store.collection} --rebuild")
        spans = np.concatenate([r.spans for r in records])
        vectors = np.concatenate([r.vectors.astype(np.float32) for r in records])
        sentences = SentenceIndex.build(chunk_ids, spans[:, 0].copy(), spans[:, 1].copy(), vectors,
                                        BM25Terms.build(texts))
        catalogue: dict[str, DocumentEntry] = {}
        for record in records:
            chunk = record.chunk
            catalogue[chunk.source] = DocumentEntry(hash=record.doc_hash, title=chunk.title, chunks=record.doc_chunks,
                                                    date=chunk.date.isoformat() if chunk.date else None, origin=record.origin)
        snapshot = write_snapshot(settings, chunks, sentences)
        base = manifest or Manifest(collection=settings.store.collection, fingerprint=settings.index_fingerprint(),
                                    corpus=corpus, store=describe_location(settings.store))
        write_manifest(settings, base.with_(physical=physical, snapshot=snapshot, documents=catalogue, chunks=len(chunks),
                                            sentences=len(sentences), index_hash=index_hash(catalogue)))
        prune_snapshots(settings, snapshot)
        say(f"repaired {settings.store.collection!r} from Chroma: {len(catalogue)} documents, {len(chunks)} chunks, "
            f"{len(sentences)} sentences (nothing embedded)")
    return check_index(settings, store)
