"""The Assistant engine: owns the embedder, store and loaded index for one Settings, and runs
question -> standalone query -> retrieve -> rerank -> answer -> Answer."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from assistant.answer import AnswerDraft, AnswerRequest, make_answerer
from assistant.config import Settings, load_settings
from assistant.embedding import Embedder, make_embedder
from assistant.errors import IndexMissingError, InvalidQuestionError
from assistant.indexer import IndexReport, IndexView, add_documents, build_index, load_view
from assistant.manifest import read_manifest
from assistant.rerank import make_reranker
from assistant.retrieval import HybridRetriever
from assistant.rewrite import rewrite_followup
from assistant.store import ChromaStore, SearchFilter, describe_location
from assistant.types import Answer, Passage, Turn


def validate_question(question: Any, max_chars: int) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InvalidQuestionError("the question is empty: type a question about your documents")
    question = question.strip()
    if len(question) > max_chars:
        raise InvalidQuestionError(
            f"the question is {len(question)} characters long, over the {max_chars}-character limit; shorten it "
            "(or raise ASSISTANT_ANSWER__MAX_QUESTION_CHARS)"
        )
    return question


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


class Assistant:
    """Thread-safe for concurrent asks; indexing takes a lock and swaps the loaded view."""

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None) -> None:
        self.settings = settings or load_settings()
        self._embedder = embedder
        self._store: ChromaStore | None = None
        self._view: IndexView | None = None
        self._lock = threading.RLock()
        self._parts: tuple[HybridRetriever, Any] | None = None

    # -- components -------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = make_embedder(self.settings.embedding)
            return self._embedder

    @property
    def store(self) -> ChromaStore:
        with self._lock:
            if self._store is None:
                self._store = ChromaStore(self.settings.store, self.settings.index_fingerprint())
            return self._store

    # -- indexing ---------------------------------------------------------------------------
    def index(self, corpus: Path | str | None = None, *, rebuild: bool = False, show_progress: bool = False) -> IndexReport:
        with self._lock:
            report = build_index(self.settings, self.embedder, self.store,
                                 corpus=Path(corpus) if corpus else None, rebuild=rebuild, show_progress=show_progress)
            self._view = None
            self._parts = None
            return report

    def add_files(self, paths: Sequence[Path | str], *, prefix: str = "uploads") -> IndexReport:
        """Index some files (e.g. uploads) next to what is already there; unreadable ones are
        skipped and reported, and nothing already indexed is lost."""
        from assistant.ingest.loaders import load_files

        loaded = load_files([Path(p) for p in paths], self.settings.corpus, prefix=prefix)
        with self._lock:
            report = add_documents(self.settings, self.embedder, self.store, loaded.documents, skipped=loaded.skipped)
            self._view = None
            self._parts = None
            return report

    def view(self) -> IndexView:
        """The loaded index; builds it from the configured corpus on first use."""
        with self._lock:
            if self._view is None:
                self._view = load_view(self.settings, self.store)
                if self._view is None:
                    if read_manifest(self.settings) is None and not Path(self.settings.corpus.path).exists():
                        raise IndexMissingError(
                            f"no index {self.settings.store.collection!r} in {describe_location(self.settings.store)} and no corpus at "
                            f"{self.settings.corpus.path}; run: assistant index --corpus PATH"
                        )
                    self.index()
                    self._view = load_view(self.settings, self.store)
                    if self._view is None:
                        raise IndexMissingError(f"index {self.settings.store.collection!r} could not be loaded after building it")
            return self._view

    def _components(self) -> tuple[HybridRetriever, Any]:
        with self._lock:
            if self._parts is None:
                view = self.view()
                reranker = make_reranker(self.settings.retrieval, view.sentences)
                retriever = HybridRetriever(self.settings.retrieval, self.store, view, reranker)
                self._parts = (retriever, make_answerer(self.settings, view))
            return self._parts

    # -- querying ---------------------------------------------------------------------------
    def retrieve(self, query: str, *, top_k: int = 10, filters: SearchFilter | None = None) -> list[Passage]:
        query = validate_question(query, self.settings.answer.max_question_chars)
        retriever, _ = self._components()
        return retriever.retrieve(query, self.embedder.embed_query(query), top_k, filters)

    def standalone_question(self, question: str, history: Sequence[Turn]) -> str:
        _, answerer = self._components()
        rewrite = getattr(answerer, "rewrite", None)  # generative answerers let the model rewrite
        return rewrite(question, tuple(history)) if callable(rewrite) else rewrite_followup(question, history)

    def ask(self, question: str, *, top_k: int | None = None, history: Sequence[Turn] = (),
            filters: SearchFilter | None = None) -> Answer:
        return final_answer(self.ask_stream(question, top_k=top_k, history=history, filters=filters))

    def ask_stream(self, question: str, *, top_k: int | None = None, history: Sequence[Turn] = (),
                   filters: SearchFilter | None = None) -> Iterator[str | Answer]:
        """Yield answer text as it is produced, then the final validated Answer."""
        question = validate_question(question, self.settings.answer.max_question_chars)
        clock = _Stopwatch()
        t = time.perf_counter()
        retriever, answerer = self._components()
        t = clock.lap("load", t)
        standalone = self.standalone_question(question, history)
        t = clock.lap("rewrite", t)
        query_vector = self.embedder.embed_query(standalone)
        t = clock.lap("embed", t)
        passages = retriever.retrieve(standalone, query_vector, top_k or self.settings.retrieval.top_k, filters)
        t = clock.lap("retrieve", t)
        request = AnswerRequest(question=standalone, query_vector=query_vector, passages=tuple(passages), history=tuple(history))
        draft: AnswerDraft | None = None
        for piece in answerer.stream(request):
            if isinstance(piece, AnswerDraft):
                draft = piece
            else:
                yield piece
        clock.lap("answer", t)
        assert draft is not None
        yield Answer(
            question=question, standalone_question=standalone, text=draft.text, citations=draft.citations,
            passages=tuple(passages), abstained=draft.abstained, unsupported=draft.unsupported, notes=draft.notes,
            answerer=answerer.name, timings=clock.finish(), config_hash=self.answer_hash(),
        )

    def answer_hash(self) -> str:
        """Hash of the config and the index contents that produced an answer."""
        index_hash = self.view().index_hash
        return hashlib.sha256(f"{self.settings.config_hash()}:{index_hash}".encode()).hexdigest()[:16]

    def info(self) -> dict[str, Any]:
        manifest = read_manifest(self.settings) or {}
        return {
            "collection": self.settings.store.collection,
            "store": describe_location(self.settings.store),
            "corpus": manifest.get("corpus", str(self.settings.corpus.path)),
            "documents": len(manifest.get("documents", {})),
            "chunks": manifest.get("chunks", 0),
            "sentences": manifest.get("sentences", 0),
            "embedding_model": self.settings.embedding.model,
            "chunking": {"chunk_size": self.settings.chunking.chunk_size, "chunk_overlap": self.settings.chunking.chunk_overlap},
            "answerer": self.settings.answer.answerer,
            "updated": manifest.get("updated"),
            "index_hash": manifest.get("index_hash"),
            "config_hash": self.settings.config_hash(),
        }
