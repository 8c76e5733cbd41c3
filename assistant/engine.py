"""The answer engine: owns the embedder, the store and the loaded index for one Settings, and answers
one standalone question: embed -> retrieve (hybrid, reranked) -> answer -> validated Answer.

Conversation (small talk, follow-ups, clarification) happens above it, in assistant.conversation;
indexing and uploads beside it, in assistant.documents. Snapshots reload as they are published
(assistant.snapshots)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from assistant._offline import apply_offline_env
from assistant.answer import AnswerDraft, AnswerRequest, make_answerer
from assistant.answer.base import Answerer
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.scorer import ScorerAndCalibration, load_answer_scorer
from assistant.answer.span_reader import SpanReader, make_span_reader
from assistant.collection_calibration import collection_threshold, probe_key
from assistant.config import Settings, load_settings
from assistant.index.run import ensure_built
from assistant.index.store import CollectionGoneError, SearchFilter
from assistant.index.vector_store import VectorCollection, VectorStore, make_store
from assistant.index.view import IndexView
from assistant.retrieval.embedding import Embedder, make_embedder
from assistant.retrieval.hybrid import HybridRetriever
from assistant.retrieval.rerank import make_reranker
from assistant.snapshots import LoadedSnapshot, SnapshotSource
from assistant.types import Answer, Passage, Turn
from assistant.validation import validate_question, validate_top_k


def final_answer(stream: Iterable[str | Answer]) -> Answer:
    """Drain an answer stream (text pieces, then the Answer) and return the Answer."""
    final: Answer | None = None
    for item in stream:
        if isinstance(item, Answer):
            final = item
    if final is None:
        raise RuntimeError("the answer stream ended without an Answer")
    return final


class Stopwatch:
    """Per-stage timings of one turn; the conversation layer times its own stages on the same watch."""

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
class Retrieval:
    """The passages found for one standalone question, and the snapshot that found them."""

    query: str
    query_vector: np.ndarray
    passages: tuple[Passage, ...]
    snapshot: LoadedSnapshot


class AnswerEngine:
    """Thread-safe for concurrent questions. `auto_index`: build the collection from the configured
    corpus when it has never been built (off when a caller named a collection but no corpus)."""

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None,
                 answer_scorer: ScorerAndCalibration | None = None, span_reader: SpanReader | None = None,
                 auto_index: bool = True) -> None:
        apply_offline_env()  # before any model or store loads: library callers get no entry point that sets it
        self.settings = settings or load_settings()
        self.auto_index = auto_index
        self._embedder = embedder
        self._answer_scorer = answer_scorer
        self._reader = span_reader
        self._store: VectorStore | None = None
        self._components_lock = threading.RLock()   # guards lazy creation of embedder and store
        self._snapshots = SnapshotSource(self.settings, lambda: self.store, self._assemble, self._ensure_built)

    # -- components -------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        with self._components_lock:
            if self._embedder is None:
                self._embedder = make_embedder(self.settings.embedding, self.settings.inference)
            return self._embedder

    @property
    def answer_scorer(self) -> ScorerAndCalibration | None:
        """The learned answer scorer and its calibration (None when settings choose the lexical score)."""
        if self.settings.answer.scorer != "learned":
            return None
        with self._components_lock:
            if self._answer_scorer is None:
                self._answer_scorer = load_answer_scorer(inference=self.settings.inference)
            return self._answer_scorer

    @property
    def short_answer_reader(self) -> SpanReader | None:
        """The learned short-answer reader (None when settings choose typed patterns)."""
        if self.settings.answer.short_answers != "learned":
            return None
        with self._components_lock:
            if self._reader is None:
                self._reader = make_span_reader(inference=self.settings.inference)
            return self._reader

    @property
    def store(self) -> VectorStore:
        with self._components_lock:
            if self._store is None:
                self._store = make_store(self.settings.store, self.settings.index_fingerprint())
            return self._store

    # -- the loaded snapshot ----------------------------------------------------------------------
    def snapshot(self) -> LoadedSnapshot:
        """The published snapshot answering questions now (first use builds a never-built collection
        when allowed, or finishes an interrupted first build)."""
        return self._snapshots.current()

    def view(self) -> IndexView:
        return self.snapshot().view

    def answerer(self) -> Answerer:
        """The answerer of the snapshot answering now."""
        return self.snapshot().answerer

    def refresh(self) -> None:
        """Make the next question re-read the manifest (called after this process wrote the index)."""
        self._snapshots.refresh()

    def stored_collection(self) -> VectorCollection:
        """The Chroma collection behind the snapshot answering now."""
        return self.snapshot().retriever.collection

    def _ensure_built(self) -> None:
        ensure_built(self.settings, self.embedder, self.store, allow_first_build=self.auto_index)

    def _assemble(self, view: IndexView, stamp: tuple[int, int, int] | None) -> LoadedSnapshot:
        self.store.refresh()  # the snapshot's chunks may have been written by another process
        collection = self.store.open(view.physical, create=False)
        reranker = make_reranker(self.settings.retrieval, view.sentences)
        retriever = HybridRetriever(self.settings.retrieval, collection, view, reranker)
        threshold = self._collection_threshold(view, retriever)
        answerer = make_answerer(self.settings, view, scorer=self.answer_scorer, reader=self.short_answer_reader,
                                 collection_threshold=threshold)
        return LoadedSnapshot(view, retriever, answerer, stamp)

    def _collection_threshold(self, view: IndexView, retriever: HybridRetriever) -> float | None:
        """The collection's own abstention threshold (learned path, none set in the settings)."""
        scorer = self.answer_scorer
        if scorer is None or scorer[1].per_collection is None or self.settings.answer.confidence_threshold is not None:
            return None
        top_k = self.settings.retrieval.top_k

        def search(question: str) -> tuple[tuple[Passage, ...], np.ndarray]:
            vector = self.embedder.embed_query(question)
            return tuple(retriever.retrieve(question, vector, top_k, None)), vector

        prober = ExtractiveAnswerer(self.settings.answer, view, scorer=scorer)
        key = probe_key(scorer[1], self.settings, view.manifest.corpus)
        return collection_threshold(self.settings, view, search, prober, scorer[1].per_collection, key)

    def answer_hash(self, view: IndexView | None = None) -> str:
        """Hash of the config and the index contents that produce answers (of `view`, default: now)."""
        view = view if view is not None else self.view()
        return hashlib.sha256(f"{self.settings.config_hash()}:{view.index_hash}".encode()).hexdigest()[:16]

    # -- retrieving -------------------------------------------------------------------------------
    def _retrieve(self, query: str, vector: np.ndarray, top_k: int, filters: SearchFilter | None) -> list[Passage]:
        """Retrieve; if a rebuild elsewhere dropped our physical collection, switch snapshots once."""
        try:
            return self.snapshot().retriever.retrieve(query, vector, top_k, filters)
        except CollectionGoneError:
            self.refresh()
            return self.snapshot().retriever.retrieve(query, vector, top_k, filters)

    def retrieve(self, query: str, *, top_k: int = 10, filters: SearchFilter | None = None) -> list[Passage]:
        query = validate_question(query, self.settings.answer.max_question_chars)
        top_k = validate_top_k(top_k)
        return self._retrieve(query, self.embedder.embed_query(query), top_k, filters)

    def search(self, query: str, *, top_k: int, filters: SearchFilter | None, clock: Stopwatch,
               said: str = "") -> Retrieval:
        """Embed and retrieve for one standalone question (timed as "embed" and "retrieve"). `said`: a rewritten
        follow-up's own words; with `retrieval.followup_blend` > 0 the passages are found by those words (BM25) and
        their vector blended with the rewrite's, while the answerer still reads the rewrite."""
        t = time.perf_counter()
        vector = self.embedder.embed_query(query)
        blend = self.settings.retrieval.followup_blend
        text, searched = query, vector
        if said and said != query and blend > 0:
            mixed = self.embedder.embed_query(said) + blend * vector
            text, searched = said, mixed / max(float(np.linalg.norm(mixed)), 1e-12)
        t = clock.lap("embed", t)
        passages = self._retrieve(text, searched, top_k, filters)
        clock.lap("retrieve", t)
        # A collection dropped under us switched snapshots inside _retrieve: answer from the newest.
        snapshot = self._snapshots.latest or self.snapshot()
        return Retrieval(query, vector, tuple(passages), snapshot)

    # -- answering --------------------------------------------------------------------------------
    def answer_stream(self, question: str, *, top_k: int | None = None,
                      filters: SearchFilter | None = None) -> Iterator[str | Answer]:
        """Answer one standalone question: text pieces as they are produced, then the validated Answer."""
        question = validate_question(question, self.settings.answer.max_question_chars)
        top_k = validate_top_k(top_k) if top_k is not None else self.settings.retrieval.top_k
        clock = Stopwatch()
        t = time.perf_counter()
        self.snapshot()
        clock.lap("load", t)
        found = self.search(question, top_k=top_k, filters=filters, clock=clock)
        yield from self.answer_found(found, question=question, history=(), clock=clock)

    def answer_found(self, found: Retrieval, *, question: str, history: Sequence[Turn],
                     clock: Stopwatch, asked: str = "") -> Iterator[str | Answer]:
        """Answer from passages already found; `question` is what the user said (`found.query` is its
        standalone form), `asked` it with its referent in natural words (AnswerRequest.asked) and
        `history` the turns before it."""
        answerer = found.snapshot.answerer
        request = AnswerRequest(question=found.query, query_vector=found.query_vector, passages=found.passages,
                                history=tuple(history), asked=asked)
        t = time.perf_counter()
        draft: AnswerDraft | None = None
        for piece in answerer.stream(request):
            if isinstance(piece, AnswerDraft):
                draft = piece
            else:
                yield piece
        clock.lap("answer", t)
        if draft is None:
            raise RuntimeError(f"the {answerer.name} answerer's stream ended without its draft")
        yield Answer(
            question=question, standalone_question=found.query, text=draft.text, citations=draft.citations,
            passages=found.passages + draft.context_passages, abstained=draft.abstained, unsupported=draft.unsupported, notes=draft.notes,
            short_answer=draft.short_answer, confidence=draft.confidence, answerer=answerer.name,
            timings=clock.finish(), config_hash=self.answer_hash(found.snapshot.view), usage=draft.usage,
        )
