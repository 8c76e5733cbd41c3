"""The Assistant engine: owns the embedder, the store and the loaded index for one Settings, and
runs question -> standalone query -> retrieve -> rerank -> answer -> Answer.

Readers never wait for writers: indexing (here or in another process) publishes a new snapshot,
and the next question notices the manifest changed and switches to it; until then questions are
answered from the snapshot already loaded."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.answer import AnswerDraft, AnswerRequest, make_answerer
from assistant.answer.base import Answerer
from assistant.answer.clarify import (
    ClarifyRule,
    clarification,
    features,
    resolve_reply,
    should_clarify,
)
from assistant.answer.scorer import ScorerAndCalibration, load_answer_scorer
from assistant.answer.span_reader import SpanReader, make_span_reader
from assistant.config import Settings, load_settings
from assistant.config_sources import config_file_in_use
from assistant.retrieval.embedding import Embedder, make_embedder
from assistant.errors import (
    DocumentNotFoundError,
    IndexCorruptError,
    SnapshotUnavailableError,
    UploadError,
)
from assistant.index.view import IndexView
from assistant.index.run import (
    IndexReport,
    Progress,
    add_documents,
    build_index,
    ensure_built,
    remove_from_index,
)
from assistant.ingest.loaders import LoadReport, record_file
from assistant.index.locking import describe_holder, is_locked
from assistant.index.manifest import (
    Manifest,
    check_fingerprint,
    manifest_stamp,
    read_manifest,
)
from assistant.retrieval.rerank import make_reranker
from assistant.retrieval.hybrid import HybridRetriever
from assistant.small_talk import SmallTalkKind, classify, reply
from assistant.index.snapshot_writer import load_or_derive_view
from assistant.index.store import (
    ChromaStore,
    CollectionGoneError,
    SearchFilter,
    StoreCollection,
    describe_location,
)
from assistant.types import Answer, Document, Passage, Turn
from assistant.uploads import (
    UPLOAD_SOURCE_PREFIX,
    UploadedDocument,
    UploadedFile,
    describe_uploads,
    discard_staged,
    list_uploads,
    load_uploads,
    publish_staged,
    quarantine_reasons,
    remove_upload,
    safe_name,
    stage_upload,
    upload_file_path,
    upload_source,
)
from assistant.validation import validate_question, validate_top_k

log = logging.getLogger(__name__)

_RELOAD_ATTEMPTS = 3  # a snapshot pruned between reading the manifest and loading it: read again


def final_answer(stream: Iterable[str | Answer]) -> Answer:
    """Drain an answer stream (text pieces, then the Answer) and return the Answer."""
    final: Answer | None = None
    for item in stream:
        if isinstance(item, Answer):
            final = item
    if final is None:
        raise RuntimeError("the answer stream ended without an Answer")
    return final


class _Stopwatch:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._start = time.perf_counter()

    def lap(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + (now - since)
        return now

    def finish(self) -> dict[str, float]:
        self.timings["total"] = time.perf_counter() - self._start
        return {k: round(v, 6) for k, v in self.timings.items()}


@dataclass(frozen=True)
class _Loaded:
    """One published snapshot, ready to answer from."""

    view: IndexView
    retriever: HybridRetriever
    answerer: Answerer
    stamp: tuple[int, int, int] | None


class Assistant:
    """Thread-safe for concurrent asks. `auto_index`: build the collection from the configured
    corpus when it has never been built (off when a caller named a collection but no corpus)."""

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None,
                 answer_scorer: ScorerAndCalibration | None = None, auto_index: bool = True) -> None:
        self.settings = settings or load_settings()
        self.auto_index = auto_index
        self._embedder = embedder
        self._answer_scorer = answer_scorer
        self._reader: SpanReader | None = None
        self._store: ChromaStore | None = None
        self._loaded: _Loaded | None = None
        self._components_lock = threading.RLock()   # guards lazy creation of embedder and store
        self._reload_lock = threading.Lock()        # one thread loads a new snapshot; others keep answering

    # -- components -------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        with self._components_lock:
            if self._embedder is None:
                self._embedder = make_embedder(self.settings.embedding)
            return self._embedder

    @property
    def answer_scorer(self) -> ScorerAndCalibration | None:
        """The learned answer scorer and its calibration (None when settings choose the lexical score)."""
        if self.settings.answer.scorer != "learned":
            return None
        with self._components_lock:
            if self._answer_scorer is None:
                self._answer_scorer = load_answer_scorer()
            return self._answer_scorer

    @property
    def short_answer_reader(self) -> SpanReader | None:
        """The learned short-answer reader (None when settings choose typed patterns)."""
        if self.settings.answer.short_answers != "learned":
            return None
        with self._components_lock:
            if self._reader is None:
                self._reader = make_span_reader()
            return self._reader

    @property
    def store(self) -> ChromaStore:
        with self._components_lock:
            if self._store is None:
                self._store = ChromaStore(self.settings.store, self.settings.index_fingerprint())
            return self._store

    # -- indexing (never holds a lock that questions wait on) --------------------------------
    def index(self, corpus: Path | str | None = None, *, rebuild: bool = False, show_progress: bool = False,
              progress: Progress | None = None) -> IndexReport:
        corpus_path = Path(corpus).expanduser() if corpus is not None else None
        report = build_index(self.settings, self.embedder, self.store, corpus=corpus_path, rebuild=rebuild,
                             show_progress=show_progress, progress=progress)
        self._refresh()
        return report

    def add_files(self, paths: Sequence[Path | str], *, names: Sequence[str] | None = None,
                  progress: Progress | None = None) -> IndexReport:
        """Index some files (uploads) next to what is already there. Each is loaded before it is
        stored: one that cannot be loaded is refused (in `report.skipped`) and leaves nothing behind;
        the others are kept in the collection's uploads folder under their names (default: the
        file's own), so a rebuild re-reads them. Nothing indexed is lost."""
        files = [Path(p).expanduser() for p in paths]
        names = list(names) if names is not None else [p.name for p in files]
        if len(names) != len(files):
            raise ValueError(f"add_files got {len(files)} paths but {len(names)} names; pass one name per path")
        documents: list[Document] = []
        skipped: list[tuple[str, str]] = []
        for path, name in zip(files, names):
            try:
                loaded = self._store_loadable(path, name)
            except UploadError as err:
                skipped.append((upload_source(safe_name(name)), str(err)))
                continue
            documents.extend(loaded.documents)
            skipped.extend(loaded.skipped)  # records of a .json/.jsonl file that had no text
        report = add_documents(self.settings, self.embedder, self.store, documents, skipped=skipped, progress=progress)
        self._refresh()
        return report

    def _store_loadable(self, path: Path, name: str) -> LoadReport:
        """Stage one upload, load it there, and store it only when it yields documents."""
        staged = stage_upload(self.settings, path, name)
        loaded = load_uploads([staged], self.settings)
        if not loaded.documents:
            discard_staged(staged)
            reason = loaded.skipped[0][1] if loaded.skipped else "no text to index"
            raise UploadError(reason)  # callers name the file
        publish_staged(self.settings, staged)
        return loaded

    def uploaded_files(self) -> list[UploadedFile]:
        """The collection's uploaded files (stored and quarantined)."""
        return list_uploads(self.settings)

    def uploaded_documents(self) -> list[UploadedDocument]:
        """The uploaded files with the chunks the published index holds of each (from the manifest alone:
        listing another collection's uploads does not load its index)."""
        manifest = read_manifest(self.settings)
        return describe_uploads(list_uploads(self.settings), manifest.documents if manifest else {})

    def uploaded_file_path(self, name: str) -> Path:
        """Where an uploaded file lies (to download it); DocumentNotFoundError when there is none."""
        path = upload_file_path(self.settings, name)
        if path is None:
            available = [item.name for item in list_uploads(self.settings)]
            raise DocumentNotFoundError(self.settings.store.collection, [safe_name(name)], available)
        return path

    def remove_documents(self, names: Sequence[str], *, progress: Progress | None = None) -> IndexReport:
        """Delete uploaded documents: their files first, then their chunks in one index run (a kill
        between the two leaves files gone and chunks that the next run removes). Unknown names are
        refused before anything is deleted."""
        wanted = [safe_name(name) for name in names]
        known = {item.name for item in list_uploads(self.settings)}
        manifest = read_manifest(self.settings)
        indexed = {source.removeprefix(UPLOAD_SOURCE_PREFIX) for source, entry in (manifest.documents.items() if manifest else ())
                   if entry.origin == "upload"}
        missing = [name for name in wanted if name not in known | indexed]
        if not wanted or missing:
            raise DocumentNotFoundError(self.settings.store.collection, missing or ["(no name given)"], sorted(known | indexed))
        for name in wanted:
            remove_upload(self.settings, name)
        scope = {upload_source(name) for name in wanted}
        scope |= {source for source in (manifest.documents if manifest else ()) if record_file(source) in scope}
        if manifest is None or manifest.snapshot is None or not scope & set(manifest.documents):
            return IndexReport(collection=self.settings.store.collection)
        report = remove_from_index(self.settings, self.embedder, self.store, scope, progress=progress)
        self._refresh()
        return report

    def _refresh(self) -> None:
        """Drop the loaded snapshot's stamp so the next question re-reads the manifest."""
        loaded = self._loaded
        if loaded is not None:
            self._loaded = _Loaded(loaded.view, loaded.retriever, loaded.answerer, stamp=None)

    # -- the read side ------------------------------------------------------------------------
    def view(self) -> IndexView:
        """The published snapshot answering questions now (first use builds a never-built
        collection when allowed, or finishes an interrupted first build)."""
        return self._current().view

    def _current(self) -> _Loaded:
        loaded = self._loaded
        stamp = manifest_stamp(self.settings)
        if loaded is not None and stamp == loaded.stamp:
            return loaded
        with self._reload_lock:
            loaded = self._loaded
            if loaded is not None and manifest_stamp(self.settings) == loaded.stamp:
                return loaded
            self._loaded = self._load_latest(loaded)
            return self._loaded

    def _load_latest(self, loaded: _Loaded | None) -> _Loaded:
        for _ in range(_RELOAD_ATTEMPTS):
            stamp = manifest_stamp(self.settings)
            manifest = read_manifest(self.settings)
            if manifest is None or manifest.snapshot is None:
                if loaded is not None:
                    return loaded  # keep answering from what we have; the manifest will come back
                ensure_built(self.settings, self.embedder, self.store, allow_first_build=self.auto_index)
                continue
            check_fingerprint(self.settings, manifest)
            if loaded is not None and loaded.view.manifest.snapshot == manifest.snapshot:
                loaded.view.manifest = manifest  # same snapshot, newer run state
                return _Loaded(loaded.view, loaded.retriever, loaded.answerer, stamp)
            try:
                view = load_or_derive_view(self.settings, self.store, manifest, loaded.view if loaded else None)
            except (FileNotFoundError, SnapshotUnavailableError, CollectionGoneError):
                continue  # pruned or replaced by a writer after we read the manifest: read it again
            if manifest.run is not None and not is_locked(self.settings):
                log.warning("collection %r: an index run was interrupted; answering from the last complete "
                            "snapshot. Run `assistant index --collection %s` to finish it.",
                            self.settings.store.collection, self.settings.store.collection)
            return self._assemble(view, stamp)
        name = self.settings.store.collection
        raise IndexCorruptError(
            f"the snapshot that collection {name!r}'s manifest names can't be found; re-derive it from Chroma with: "
            f"assistant index --repair --collection {name}")

    def _assemble(self, view: IndexView, stamp: tuple[int, int, int] | None) -> _Loaded:
        self.store.refresh()  # the snapshot's chunks may have been written by another process
        collection = self.store.open(view.physical, create=False)
        reranker = make_reranker(self.settings.retrieval, view.sentences)
        retriever = HybridRetriever(self.settings.retrieval, collection, view, reranker)
        return _Loaded(view, retriever, make_answerer(self.settings, view, scorer=self.answer_scorer, reader=self.short_answer_reader), stamp)

    def stored_collection(self) -> StoreCollection:
        """The Chroma collection behind the snapshot answering now."""
        return self._current().retriever.collection

    def _retrieve(self, query: str, vector: Any, top_k: int, filters: SearchFilter | None) -> list[Passage]:
        """Retrieve; if a rebuild elsewhere dropped our physical collection, switch snapshots once."""
        try:
            return self._current().retriever.retrieve(query, vector, top_k, filters)
        except CollectionGoneError:
            self._refresh()
            return self._current().retriever.retrieve(query, vector, top_k, filters)

    # -- querying ---------------------------------------------------------------------------
    def retrieve(self, query: str, *, top_k: int = 10, filters: SearchFilter | None = None) -> list[Passage]:
        query = validate_question(query, self.settings.answer.max_question_chars)
        top_k = validate_top_k(top_k)
        return self._retrieve(query, self.embedder.embed_query(query), top_k, filters)

    def standalone_question(self, question: str, history: Sequence[Turn]) -> str:
        return self._current().answerer.rewrite(question, tuple(history))

    def ask(self, question: str, *, top_k: int | None = None, history: Sequence[Turn] = (),
            filters: SearchFilter | None = None) -> Answer:
        return final_answer(self.ask_stream(question, top_k=top_k, history=history, filters=filters))

    def ask_stream(self, question: str, *, top_k: int | None = None, history: Sequence[Turn] = (),
                   filters: SearchFilter | None = None) -> Iterator[str | Answer]:
        """Yield answer text as it is produced, then the final validated Answer."""
        question = validate_question(question, self.settings.answer.max_question_chars)
        top_k = validate_top_k(top_k) if top_k is not None else self.settings.retrieval.top_k
        clock = _Stopwatch()
        t = time.perf_counter()
        loaded = self._current()
        t = clock.lap("load", t)
        small_talk = classify(question)
        if small_talk is not None:
            yield from self._small_talk(question, small_talk, loaded, clock)
            return
        # Small-talk turns carry nothing a follow-up could refer back to ("thanks" -> "who heads it?").
        history = [turn for turn in history if classify(turn.question) is None]
        # A reply to a clarifying question ("the first one") stands for the clarified question.
        resolved = resolve_reply(question, history)
        standalone = resolved or self.standalone_question(question, history)
        t = clock.lap("rewrite", t)
        query_vector = self.embedder.embed_query(standalone)
        t = clock.lap("embed", t)
        passages = self._retrieve(standalone, query_vector, top_k, filters)
        t = clock.lap("retrieve", t)
        loaded = self._loaded or loaded
        request = AnswerRequest(question=standalone, query_vector=query_vector, passages=tuple(passages), history=tuple(history))
        # Only a turn that may need a clarifying question holds its text back until the confidence is known.
        rule = ClarifyRule()
        before_answer = (features(question, passages, 0.0, rule.top_passages)
                         if self.settings.answer.clarify and resolved is None else None)
        # Features of a turn that may need one: all known but the answer's confidence.
        unsure = before_answer if before_answer is not None and should_clarify(before_answer, rule) else None
        draft: AnswerDraft | None = None
        held: list[str] = []
        for piece in loaded.answerer.stream(request):
            if isinstance(piece, AnswerDraft):
                draft = piece
            elif unsure is not None:
                held.append(piece)
            else:
                yield piece
        clock.lap("answer", t)
        assert draft is not None
        if unsure is not None:
            found = dataclasses.replace(unsure, confidence=draft.confidence or 0.0)
            if should_clarify(found, rule):
                asked = clarification(passages, found, rule)
                yield asked.text
                yield Answer(question=question, standalone_question=standalone, text=asked.text, citations=asked.citations,
                             passages=tuple(passages), kind="clarification", confidence=draft.confidence,
                             answerer="clarify", timings=clock.finish(), config_hash=self._answer_hash(loaded.view))
                return
            yield from held
        yield Answer(
            question=question, standalone_question=standalone, text=draft.text, citations=draft.citations,
            passages=tuple(passages), abstained=draft.abstained, unsupported=draft.unsupported, notes=draft.notes,
            short_answer=draft.short_answer, confidence=draft.confidence, answerer=loaded.answerer.name, timings=clock.finish(), config_hash=self._answer_hash(loaded.view),
        )

    def _small_talk(self, question: str, kind: SmallTalkKind, loaded: _Loaded, clock: _Stopwatch) -> Iterator[str | Answer]:
        """Reply to a greeting, thanks or meta question without retrieval. The inventory comes from the
        loaded snapshot's manifest (already in memory). Confidence stays None: the reply makes no claim
        about the documents, so there is nothing for the calibrated scorer to be confident about."""
        documents = loaded.view.manifest.documents
        titles = [entry.title or source for source, entry in documents.items()]
        text = reply(kind, collection=self.settings.store.collection, titles=titles)
        yield text
        yield Answer(question=question, standalone_question=question, text=text, kind="small_talk",
                     answerer="small_talk", timings=clock.finish(), config_hash=self._answer_hash(loaded.view))

    def _answer_hash(self, view: IndexView) -> str:
        """Hash of the config and the index contents that produced an answer."""
        return hashlib.sha256(f"{self.settings.config_hash()}:{view.index_hash}".encode()).hexdigest()[:16]

    def answer_hash(self) -> str:
        return self._answer_hash(self.view())

    def info(self) -> dict[str, Any]:
        """What is indexed, read from the manifest and checked against the store (a Chroma server's
        own count, or its connection error)."""
        store = self.store  # connects first: against a server, info reports its state or why it can't
        manifest = read_manifest(self.settings)
        config_file = config_file_in_use()
        store_chunks = None
        if manifest is not None and manifest.physical:
            store_chunks = store.open(manifest.physical, create=False).count()
        return {
            "collection": self.settings.store.collection,
            "status": index_status(self.settings, manifest, orphaned=manifest is None and bool(store.physical_collections())),
            "store": describe_location(self.settings.store),
            "corpus": manifest.corpus if manifest else str(self.settings.corpus.path),
            "documents": len(manifest.documents) if manifest else 0,
            "uploads": sum(1 for d in manifest.documents.values() if d.origin == "upload") if manifest else 0,
            "quarantined": quarantine_reasons(self.settings),
            "chunks": manifest.chunks if manifest else 0,
            "store_chunks": store_chunks,
            "sentences": manifest.sentences if manifest else 0,
            "embedding_model": self.settings.embedding.model,
            "chunking": {"chunk_size": self.settings.chunking.chunk_size, "chunk_overlap": self.settings.chunking.chunk_overlap},
            "answerer": self.settings.answer.answerer,
            "updated": manifest.updated if manifest else None,
            "index_hash": manifest.index_hash if manifest else None,
            "config_hash": self.settings.config_hash(),
            "config_file": str(config_file) if config_file else None,  # never one skipped as untrusted
        }


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
