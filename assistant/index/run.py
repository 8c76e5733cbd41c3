"""Index runs: make a collection mirror its corpus (plus stored uploads), crash-safely.

Order of a run, so that a kill -9 at any moment loses nothing and repeats no committed work:
1. take the collection's writer lock and record the run in the manifest (with its corpus);
2. write each new document edition into Chroma in committed batches; chunk ids carry the edition,
   so new chunks never overwrite the old edition that readers are still using;
3. publish a new snapshot (chunk texts, BM25, sentence index) and switch the manifest to it;
4. delete from Chroma every record the new snapshot doesn't name (old editions, removed
   documents, leftovers of killed runs) and mark the run finished.
A re-run after a kill finds the new editions already in Chroma (with their sentence vectors) and
embeds only what is missing."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.index.disk_space import check_free_space
from assistant.retrieval.embedding import Embedder
from assistant.errors import (
    CorpusChangedError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    SnapshotUnavailableError,
)
from assistant.index.view import IndexView
from assistant.ingest import chunk_documents_safely, load_corpus
from assistant.ingest.loaders import record_file
from assistant.index.locking import writer_lock
from assistant.index.manifest import (
    DocumentEntry,
    Manifest,
    check_fingerprint,
    index_hash,
    new_run,
    read_manifest,
    write_manifest,
)
from assistant.index.sentence_vectors import SentenceVectors, snapshot_sentence_index
from assistant.index.snapshot_writer import (
    load_or_derive_view,
    prune_snapshots,
    write_snapshot,
)
from assistant.index.store import (
    ChromaStore,
    StoreCollection,
    describe_location,
    new_physical_name,
)
from assistant.index.records import Origin, StoredChunk
from assistant.types import Chunk, Document
from assistant.uploads import load_stored_uploads

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class IndexReport:
    collection: str
    documents: int = 0
    chunks: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    chunks_embedded: int = 0
    sentences_embedded: int = 0
    chunks_recovered: int = 0      # written by an interrupted run, found in Chroma, not embedded again
    skipped: list[tuple[str, str]] = field(default_factory=list)
    finished_interrupted_run: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"{self.collection}: {self.documents} documents, {self.chunks} chunks "
                f"(+{len(self.added)} new, ~{len(self.changed)} changed, -{len(self.removed)} removed, "
                f"{self.unchanged} unchanged; embedded {self.chunks_embedded} chunks, "
                f"{self.sentences_embedded} sentences) in {self.seconds:.1f}s"
                + (f"; kept {self.chunks_recovered} chunks from the interrupted run" if self.chunks_recovered else "")
                + (f"; skipped {len(self.skipped)} file(s)" if self.skipped else ""))


@dataclass(frozen=True)
class SourceDocument:
    document: Document
    origin: Origin


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


def load_sources(settings: Settings, corpus: Path) -> tuple[list[SourceDocument], list[tuple[str, str]]]:
    """The corpus's documents plus the collection's stored uploads (raises before anything is touched)."""
    loaded = load_corpus(corpus, settings.corpus)
    uploads = load_stored_uploads(settings)
    documents = [SourceDocument(d, "corpus") for d in loaded.documents]
    documents += [SourceDocument(d, "upload") for d in uploads.documents]
    return documents, list(loaded.skipped) + list(uploads.skipped)


def build_index(settings: Settings, embedder: Embedder, store: ChromaStore, *, corpus: Path | None = None,
                rebuild: bool = False, show_progress: bool = True, progress: Progress | None = None) -> IndexReport:
    """Make the collection mirror its corpus (and stored uploads): add new, re-embed changed, remove deleted."""
    say = progress or log.info
    with writer_lock(settings, on_wait=say):
        manifest = _manifest_for_run(settings, rebuild)
        if manifest is None and not rebuild:
            refuse_orphaned_data(settings, store)
        corpus_path = resolve_corpus(settings, corpus, manifest)
        documents, skipped = load_sources(settings, corpus_path)
        check_same_corpus(settings, corpus_path, manifest, rebuild=rebuild)
        resume_rebuild = manifest is not None and manifest.run is not None and manifest.run.kind == "rebuild"
        run = _Run(settings, embedder, store, manifest, show_progress=show_progress, say=say)
        return run.execute(documents, skipped=skipped, corpus=corpus_path, rebuild=rebuild or resume_rebuild,
                           scope=None)


def ensure_built(settings: Settings, embedder: Embedder, store: ChromaStore, *, allow_first_build: bool,
                 progress: Progress | None = None) -> IndexReport | None:
    """Build a never-built collection (when allowed) or finish one whose first build was
    interrupted, from the corpus its manifest records. Nothing happens when another process
    published a snapshot while we waited for the lock."""
    say = progress or log.info
    with writer_lock(settings, on_wait=say):
        manifest = read_manifest(settings)
        if manifest is not None and manifest.snapshot is not None:
            return None
        if manifest is None:
            refuse_orphaned_data(settings, store)
            name = settings.store.collection
            corpus = Path(settings.corpus.path).expanduser()
            if not allow_first_build:
                raise IndexMissingError(
                    f"collection {name!r} has never been built in {describe_location(settings.store)}; "
                    f"run: assistant index --corpus PATH --collection {name}")
            if not corpus.exists():
                raise IndexMissingError(
                    f"no index {name!r} in {describe_location(settings.store)} and no corpus at {corpus}; "
                    f"run: assistant index --corpus PATH --collection {name}")
        corpus_path = resolve_corpus(settings, None, manifest)
        documents, skipped = load_sources(settings, corpus_path)
        run = _Run(settings, embedder, store, manifest, show_progress=False, say=say)
        rebuild = manifest is not None and manifest.run is not None and manifest.run.kind == "rebuild"
        return run.execute(documents, skipped=skipped, corpus=corpus_path, rebuild=rebuild, scope=None)


def add_documents(settings: Settings, embedder: Embedder, store: ChromaStore, documents: Sequence[Document], *,
                  skipped: Sequence[tuple[str, str]] = (), show_progress: bool = False,
                  progress: Progress | None = None, scope: set[str] | None = None) -> IndexReport:
    """Add or update some uploaded documents and keep everything else already indexed. `scope`: the
    sources this run may touch (default: the documents'); one in scope and not given is removed."""
    say = progress or log.info
    with writer_lock(settings, on_wait=say):
        manifest = read_manifest(settings)
        if manifest is None or manifest.snapshot is None:
            name = settings.store.collection
            raise IndexMissingError(f"collection {name!r} has not been built yet; run: assistant index --corpus PATH --collection {name}")
        check_fingerprint(settings, manifest)
        run = _Run(settings, embedder, store, manifest, show_progress=show_progress, say=say)
        sources = [SourceDocument(d, "upload") for d in documents]
        return run.execute(sources, skipped=skipped, corpus=Path(manifest.corpus), rebuild=False,
                           scope=scope if scope is not None else {d.source for d in documents})


def remove_from_index(settings: Settings, embedder: Embedder, store: ChromaStore, sources: set[str], *,
                      progress: Progress | None = None) -> IndexReport:
    """Remove some documents' chunks in one crash-safe run; everything else stays as it is."""
    return add_documents(settings, embedder, store, [], scope=sources, progress=progress)


def refuse_orphaned_data(settings: Settings, store: ChromaStore) -> None:
    """Chroma holds this collection but its manifest is gone: building anew would drop that data."""
    if store.physical_collections():
        name = settings.store.collection
        raise IndexCorruptError(
            f"collection {name!r} has data in {describe_location(settings.store)} but its manifest is missing; "
            f"restore it from Chroma with: assistant index --repair --collection {name} (or replace it with --rebuild)")


def _previous_view(settings: Settings, store: ChromaStore, manifest: Manifest) -> IndexView:
    try:
        return load_or_derive_view(settings, store, manifest, None)
    except (FileNotFoundError, SnapshotUnavailableError):
        name = settings.store.collection
        raise IndexCorruptError(f"the snapshot of collection {name!r} named by its manifest is missing; "
                                f"re-derive it from Chroma with: assistant index --repair --collection {name}") from None


def _manifest_for_run(settings: Settings, rebuild: bool) -> Manifest | None:
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


class _Run:
    """One index run under the writer lock."""

    def __init__(self, settings: Settings, embedder: Embedder, store: ChromaStore, manifest: Manifest | None, *,
                 show_progress: bool, say: Progress) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.manifest = manifest
        self.show_progress = show_progress
        self.say = say

    def execute(self, documents: Sequence[SourceDocument], *, skipped: Sequence[tuple[str, str]], corpus: Path,
                rebuild: bool, scope: set[str] | None) -> IndexReport:
        started = time.perf_counter()
        settings, manifest = self.settings, self.manifest
        report = IndexReport(collection=settings.store.collection, skipped=list(skipped),
                             finished_interrupted_run=manifest is not None and manifest.run is not None)
        target = self._target(rebuild)
        kind = "add" if scope is not None else ("rebuild" if rebuild else "index")
        base = manifest or Manifest(collection=settings.store.collection, fingerprint=settings.index_fingerprint(),
                                    corpus=str(corpus), store=describe_location(settings.store))
        # Everything that can refuse the run does so before the run is recorded.
        previous = None if rebuild or base.snapshot is None else _previous_view(settings, self.store, base)
        final, fresh, catalogue = self._plan(documents, previous, scope, report)
        if (previous is not None and base.run is None and not fresh and catalogue == base.documents
                and target == base.physical and str(corpus) == base.corpus):
            # Nothing to write: the published snapshot already mirrors the corpus. Rewriting it would
            # cost the full BM25 builds (16 s at 30k chunks, evals/bench_scale.py) for no change.
            report.documents, report.chunks = len(catalogue), len(final)
            report.seconds = time.perf_counter() - started
            log.info(report.summary())
            return report
        check_free_space(settings, "the index run stopped before writing anything")
        collection = self.store.open(target, create=True, corpus=str(corpus))
        manifest = write_manifest(settings, base.with_(run=new_run(kind, corpus, target), corpus=str(corpus),
                                                       fingerprint=settings.index_fingerprint()))

        # After a finished run the collection holds exactly the previous snapshot's chunks, so only
        # this run's own ids need looking up; listing every id cost 8.7 s at 100k chunks
        # (evals/bench_scale.py). After a killed run or for a rebuild, list them all.
        in_step = previous is not None and base.run is None and target == base.physical
        present = collection.existing([f.chunk.chunk_id for f in fresh]) if in_step else collection.ids()
        pieces = self._write(collection, [f for f in fresh if f.chunk.chunk_id not in present], previous, report)
        recovered = [f.chunk.chunk_id for f in fresh if f.chunk.chunk_id in present]
        pieces.update({r.chunk.chunk_id: (r.spans, r.vectors) for r in collection.records(recovered)})
        report.chunks_recovered = len(recovered)

        sentences = snapshot_sentence_index(final, previous, pieces, self.embedder.dimension)
        self.say(f"publishing a snapshot of {len(final)} chunks")
        snapshot = write_snapshot(settings, final, sentences, previous=previous)
        old_physical = manifest.physical
        manifest = write_manifest(settings, manifest.with_(
            physical=target, snapshot=snapshot, documents=catalogue, chunks=len(final), sentences=len(sentences),
            index_hash=index_hash(catalogue), run=manifest.run.model_copy(update={"phase": "cleanup"})))

        kept = {c.chunk_id for c in final}
        stray = (set(previous.chunks) if in_step and previous is not None else collection.ids()) - kept
        if stray:
            self.say(f"removing {len(stray)} superseded chunks")
            collection.delete_ids(sorted(stray))
        self._drop_other_physical(keep=target, also=old_physical)
        manifest = write_manifest(settings, manifest.with_(run=None))
        prune_snapshots(settings, snapshot)
        report.documents, report.chunks = len(catalogue), len(final)
        report.seconds = time.perf_counter() - started
        log.info(report.summary())
        return report

    def _target(self, rebuild: bool) -> str:
        """The physical collection to write: the published one, or a fresh one for a rebuild (the
        one an interrupted run was writing, when there is one, so its work is kept)."""
        manifest = self.manifest
        if manifest is not None and manifest.run is not None and (rebuild == (manifest.run.kind == "rebuild")):
            return manifest.run.target
        if not rebuild and manifest is not None and manifest.physical:
            return manifest.physical
        return new_physical_name(self.settings.store.collection)

    def _plan(self, documents: Sequence[SourceDocument], previous: IndexView | None, scope: set[str] | None,
              report: IndexReport) -> tuple[list[Chunk], list[StoredChunk], dict[str, DocumentEntry]]:
        """The new snapshot's chunks, the new editions' chunks to write, and the document catalogue.
        A file that exists but could not be read this time keeps its indexed edition: a passing
        read error must not delete what was there."""
        skipped = {source for source, _ in report.skipped}
        # A records file (.json/.jsonl) that could not be read this time keeps its records' editions too.
        unreadable = {source for source in (self.manifest.documents if self.manifest else ())
                      if source in skipped or record_file(source) in skipped}
        old_docs = dict(self.manifest.documents) if self.manifest is not None and previous is not None else {}
        old_chunks: dict[str, list[Chunk]] = {}
        for chunk in (previous.chunks.values() if previous is not None else ()):
            old_chunks.setdefault(chunk.source, []).append(chunk)
        incoming = {d.document.source: d for d in documents}
        catalogue: dict[str, DocumentEntry] = {}
        final: list[Chunk] = []
        to_chunk: list[SourceDocument] = []
        for source, entry in old_docs.items():
            in_scope = scope is None or source in scope
            if in_scope and source not in incoming and source not in unreadable:
                report.removed.append(source)
            elif not in_scope or source in unreadable or entry.hash == incoming[source].document.content_hash:
                catalogue[source] = entry
                final.extend(old_chunks.get(source, ()))
                report.unchanged += 1 if in_scope else 0
        for source, item in incoming.items():
            if source in catalogue:
                continue
            (report.changed if source in old_docs else report.added).append(source)
            to_chunk.append(item)
        fresh: list[StoredChunk] = []
        origin_of = {d.document.source: d.origin for d in to_chunk}
        hash_of = {d.document.source: d.document.content_hash for d in to_chunk}
        new_chunks, failed = chunk_documents_safely([d.document for d in to_chunk], self.settings.chunking)
        report.skipped.extend(failed)  # a document the splitter fails on is skipped, the rest indexed
        failed_sources = {source for source, _ in failed}
        for source in failed_sources:
            if source in old_docs:  # its previous edition stays searchable
                catalogue[source] = old_docs[source]
                final.extend(old_chunks.get(source, ()))
                report.changed.remove(source)
        per_doc: dict[str, int] = {}
        for chunk in new_chunks:
            per_doc[chunk.source] = per_doc.get(chunk.source, 0) + 1
        for chunk in new_chunks:
            empty = np.zeros((0, 2), np.int32)
            fresh.append(StoredChunk(chunk=chunk, doc_hash=hash_of[chunk.source], doc_chunks=per_doc[chunk.source],
                                     origin=origin_of[chunk.source], spans=empty, vectors=np.zeros((0, 0), np.float16)))
        final.extend(new_chunks)
        for item in to_chunk:
            doc = item.document
            if per_doc.get(doc.source):
                catalogue[doc.source] = DocumentEntry(hash=doc.content_hash, title=doc.title, chunks=per_doc[doc.source],
                                                      date=doc.date.isoformat() if doc.date else None, origin=item.origin)
            elif doc.source not in failed_sources:
                report.skipped.append((doc.source, "no text to index after splitting"))
        final.sort(key=lambda c: (c.source, c.index))
        for names in (report.added, report.changed, report.removed):
            names.sort()
        return final, fresh, catalogue

    def _write(self, collection: StoreCollection, todo: Sequence[StoredChunk], previous: IndexView | None,
               report: IndexReport) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Embed and commit the missing chunks in batches; returns their sentence spans and vectors."""
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if not todo:
            return out
        vectors = SentenceVectors(self.embedder, previous, self.show_progress, sources={r.chunk.source for r in todo})
        size = self.settings.store.batch_chunks
        batches = (len(todo) + size - 1) // size
        for number, start in enumerate(range(0, len(todo), size), start=1):
            check_free_space(self.settings, f"the index run stopped after committing {report.chunks_embedded} of "
                                            f"{len(todo)} chunks (kept; the next run goes on from there)")
            batch = todo[start:start + size]
            records = [StoredChunk(chunk=r.chunk, doc_hash=r.doc_hash, doc_chunks=r.doc_chunks, origin=r.origin,
                                   spans=spans, vectors=vecs)
                       for r, (spans, vecs) in zip(batch, vectors.for_chunks([r.chunk for r in batch]))]
            collection.upsert(records, np.stack([r.passage_vector() for r in records]))
            out.update({r.chunk.chunk_id: (r.spans, r.vectors) for r in records})
            report.chunks_embedded += len(records)
            self.say(f"committed batch {number}/{batches} ({report.chunks_embedded}/{len(todo)} chunks)")
        report.sentences_embedded = vectors.embedded
        return out

    def _drop_other_physical(self, *, keep: str, also: str | None) -> None:
        """After a rebuild is published, drop the collection it replaced and leftovers of killed rebuilds."""
        names = {name for name, _ in self.store.physical_collections()}
        if also:
            names.add(also)
        for name in sorted(names - {keep}):
            self.say(f"dropping the replaced Chroma collection {name}")
            self.store.drop(name)
