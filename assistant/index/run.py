"""Index runs: make a collection mirror its corpus (plus stored uploads), crash-safely.

Order of a run, so that a kill -9 at any moment loses nothing and repeats no committed work:
1. take the collection's writer lock and record the run in the manifest (with its corpus);
2. write each new document edition into Chroma in committed batches; chunk ids carry the edition,
   so new chunks never overwrite the old edition that readers are still using;
3. publish a new snapshot (chunk texts, BM25, sentence index) and switch the manifest to it;
4. delete from Chroma every record the new snapshot doesn't name (old editions, removed
   documents, leftovers of killed runs) and mark the run finished.
A re-run after a kill finds the new editions already in Chroma (with their sentence vectors) and
embeds only what is missing.

This module holds the entry points and that order; the steps are `plan.py` (what the run starts
from and the diff it makes), `chunk_writer.py` (step 2) and `snapshot_writer.py` (step 3). Each
step's seconds go into `IndexReport.stages`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import Settings
from assistant.errors import IndexMissingError
from assistant.index.chunk_writer import write_chunks
from assistant.index.disk_space import check_free_space
from assistant.index.encoder import SentenceEncoder
from assistant.index.locking import writer_lock
from assistant.index.manifest import (
    Manifest,
    check_fingerprint,
    index_hash,
    new_run,
    read_manifest,
    unknown_collection,
    write_manifest,
)
from assistant.index.names import new_physical_name
from assistant.index.plan import (
    SourceDocument,
    check_same_corpus,
    known_editions,
    load_sources,
    manifest_for_run,
    plan_run,
    previous_view,
    refuse_orphaned_data,
    resolve_corpus,
)
from assistant.index.sentence_vectors import snapshot_sentence_index
from assistant.index.snapshot_writer import prune_snapshots, write_snapshot
from assistant.index.store import describe_location
from assistant.index.vector_store import VectorStore
from assistant.types import Document

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
    # Seconds per step of the run, in the order they ran: the public seam evals/bench_scale.py
    # reads for its update breakdown (it used to patch this module's privates).
    stages: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        return (f"{self.collection}: {self.documents} documents, {self.chunks} chunks "
                f"(+{len(self.added)} new, ~{len(self.changed)} changed, -{len(self.removed)} removed, "
                f"{self.unchanged} unchanged; embedded {self.chunks_embedded} chunks, "
                f"{self.sentences_embedded} sentences) in {self.seconds:.1f}s"
                + (f"; kept {self.chunks_recovered} chunks from the interrupted run" if self.chunks_recovered else "")
                + (f"; skipped {len(self.skipped)} file(s)" if self.skipped else ""))


def build_index(settings: Settings, embedder: SentenceEncoder, store: VectorStore, *, corpus: Path | None = None,
                rebuild: bool = False, show_progress: bool = True, progress: Progress | None = None) -> IndexReport:
    """Make the collection mirror its corpus (and stored uploads): add new, re-embed changed, remove deleted."""
    say = progress or log.info
    with writer_lock(settings, on_wait=say):
        manifest = manifest_for_run(settings, rebuild)
        if manifest is None and not rebuild:
            refuse_orphaned_data(settings, store)
        corpus_path = resolve_corpus(settings, corpus, manifest)
        run = _Run(settings, embedder, store, manifest, show_progress=show_progress, say=say)
        resume_rebuild = manifest is not None and manifest.run is not None and manifest.run.kind == "rebuild"
        rebuild = rebuild or resume_rebuild
        # An update keeps the published snapshot's editions of unchanged inputs without reading them.
        known = known_editions(None if rebuild else manifest)
        with run.stage(_READ):
            documents, skipped = load_sources(settings, corpus_path, known)
        check_same_corpus(settings, corpus_path, manifest, rebuild=rebuild)
        return run.execute(documents, skipped=skipped, corpus=corpus_path, rebuild=rebuild, scope=None)


def ensure_built(settings: Settings, embedder: SentenceEncoder, store: VectorStore, *, allow_first_build: bool,
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
                raise unknown_collection(settings, name)
            if not corpus.exists():
                raise IndexMissingError(
                    f"no index {name!r} in {describe_location(settings.store)} and no corpus at {corpus}; "
                    f"run: assistant index --corpus PATH --collection {name}")
        corpus_path = resolve_corpus(settings, None, manifest)
        run = _Run(settings, embedder, store, manifest, show_progress=False, say=say)
        with run.stage(_READ):
            documents, skipped = load_sources(settings, corpus_path)
        rebuild = manifest is not None and manifest.run is not None and manifest.run.kind == "rebuild"
        return run.execute(documents, skipped=skipped, corpus=corpus_path, rebuild=rebuild, scope=None)


def built_manifest(settings: Settings) -> Manifest:
    """The manifest of a collection that has a published index, or the error that says how to get one.
    Uploads check it before anything is stored, so adding to a typo'd collection leaves no file behind."""
    manifest = read_manifest(settings)
    if manifest is None:  # a typo'd name, most likely: say which collections exist
        raise unknown_collection(settings, settings.store.collection)
    if manifest.snapshot is None:
        name = settings.store.collection
        raise IndexMissingError(f"collection {name!r} has not been built yet; run: assistant index --corpus PATH --collection {name}")
    return manifest


def add_documents(settings: Settings, embedder: SentenceEncoder, store: VectorStore, documents: Sequence[Document], *,
                  skipped: Sequence[tuple[str, str]] = (), show_progress: bool = False,
                  progress: Progress | None = None, scope: set[str] | None = None) -> IndexReport:
    """Add or update some uploaded documents and keep everything else already indexed. `scope`: the
    sources this run may touch (default: the documents'); one in scope and not given is removed."""
    say = progress or log.info
    with writer_lock(settings, on_wait=say):
        manifest = built_manifest(settings)
        check_fingerprint(settings, manifest)
        run = _Run(settings, embedder, store, manifest, show_progress=show_progress, say=say)
        sources = [SourceDocument.read(d, "upload") for d in documents]
        return run.execute(sources, skipped=skipped, corpus=Path(manifest.corpus), rebuild=False,
                           scope=scope if scope is not None else {d.source for d in documents})


def remove_from_index(settings: Settings, embedder: SentenceEncoder, store: VectorStore, sources: set[str], *,
                      progress: Progress | None = None) -> IndexReport:
    """Remove some documents' chunks in one crash-safe run; everything else stays as it is."""
    return add_documents(settings, embedder, store, [], scope=sources, progress=progress)


_READ = "read the corpus and uploads"


class _Run:
    """One index run under the writer lock, in the steps the module docstring lists."""

    def __init__(self, settings: Settings, embedder: SentenceEncoder, store: VectorStore, manifest: Manifest | None, *,
                 show_progress: bool, say: Progress) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.manifest = manifest
        self.show_progress = show_progress
        self.say = say
        self.stages: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - started

    def execute(self, documents: Sequence[SourceDocument], *, skipped: Sequence[tuple[str, str]], corpus: Path,
                rebuild: bool, scope: set[str] | None) -> IndexReport:
        started = time.perf_counter()
        settings, manifest = self.settings, self.manifest
        report = IndexReport(collection=settings.store.collection, skipped=list(skipped),
                             finished_interrupted_run=manifest is not None and manifest.run is not None,
                             stages=self.stages)
        target = self._target(rebuild)
        kind = "add" if scope is not None else ("rebuild" if rebuild else "index")
        base = manifest or Manifest(collection=settings.store.collection, fingerprint=settings.index_fingerprint(),
                                    corpus=str(corpus), store=describe_location(settings.store))
        # Everything that can refuse the run does so before the run is recorded.
        with self.stage("load the previous snapshot"):
            previous = None if rebuild or base.snapshot is None else previous_view(settings, self.store, base)
        with self.stage("diff documents + chunk changed ones (plan_run)"):
            plan = plan_run(documents, previous, manifest, scope, skipped, settings.chunking)
        report.added, report.changed, report.removed = plan.added, plan.changed, plan.removed
        report.unchanged = plan.unchanged
        report.skipped.extend(plan.skipped)
        final, fresh, catalogue = plan.final, plan.fresh, plan.catalogue
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
        with self.stage("look up the store's ids"):
            present = collection.existing([f.chunk.chunk_id for f in fresh]) if in_step else collection.ids()
        with self.stage("embed + write changed chunks (write_chunks)"):
            written = write_chunks(settings, collection, [f for f in fresh if f.chunk.chunk_id not in present],
                                   self.embedder, previous, show_progress=self.show_progress, say=self.say)
        report.chunks_embedded, report.sentences_embedded = written.chunks_embedded, written.sentences_embedded
        pieces = written.pieces
        recovered = [f.chunk.chunk_id for f in fresh if f.chunk.chunk_id in present]
        pieces.update({r.chunk.chunk_id: (r.spans, r.vectors) for r in collection.records(recovered)})
        report.chunks_recovered = len(recovered)

        with self.stage("assemble the sentence index (snapshot_sentence_index)"):
            sentences = snapshot_sentence_index(final, previous, pieces, self.embedder.dimension)
        self.say(f"publishing a snapshot of {len(final)} chunks")
        with self.stage("write the snapshot folder (write_snapshot)"):
            snapshot = write_snapshot(settings, final, sentences, previous=previous)
        old_physical = manifest.physical
        manifest = write_manifest(settings, manifest.with_(
            physical=target, snapshot=snapshot, documents=catalogue, chunks=len(final), sentences=len(sentences),
            index_hash=index_hash(catalogue), run=manifest.run.model_copy(update={"phase": "cleanup"})))

        with self.stage("clean up the store and old snapshots"):
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

    def _drop_other_physical(self, *, keep: str, also: str | None) -> None:
        """After a rebuild is published, drop the collection it replaced and leftovers of killed rebuilds."""
        names = {name for name, _ in self.store.physical_collections()}
        if also:
            names.add(also)
        for name in sorted(names - {keep}):
            self.say(f"dropping the replaced Chroma collection {name}")
            self.store.drop(name)
