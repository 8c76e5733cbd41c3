"""`Assistant`: the public façade over one collection. It is the answer engine (assistant.engine) plus
what people call it for: questions with history (the conversation layer's turn pipeline), indexing,
uploaded documents, and what is indexed.

    assistant = Assistant(settings)
    assistant.index()
    assistant.ask("Who will head it?", history=[...])

The layers below never import it: the pool, sessions and servers hold plain AnswerEngines, and an
Assistant is one, so it can be handed to any of them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from assistant import documents
from assistant.collection_calibration import read_threshold
from assistant.conversation.turns import ask_turn, standalone_question, stream_turn
from assistant.engine import AnswerEngine
from assistant.index.run import IndexReport, Progress
from assistant.index.status import collection_info
from assistant.index.store import SearchFilter
from assistant.ingest.uploads import UploadedDocument, UploadedFile
from assistant.types import Answer, Turn


class Assistant(AnswerEngine):
    """Thread-safe for concurrent asks. `auto_index`: build the collection from the configured
    corpus when it has never been built (off when a caller named a collection but no corpus)."""

    # -- questions, in conversation --------------------------------------------------------------
    def ask(self, question: str, *, top_k: int | None = None, history: Sequence[Turn] = (),
            filters: SearchFilter | None = None) -> Answer:
        return ask_turn(self, question, top_k=top_k, history=history, filters=filters)

    def ask_stream(self, question: str, *, top_k: int | None = None, history: Sequence[Turn] = (),
                   filters: SearchFilter | None = None) -> Iterator[str | Answer]:
        """Yield answer text as it is produced, then the final validated Answer."""
        return stream_turn(self, question, top_k=top_k, history=history, filters=filters)

    def standalone_question(self, question: str, history: Sequence[Turn]) -> str:
        return standalone_question(self, question, history)

    # -- the collection's documents ---------------------------------------------------------------
    def index(self, corpus: Path | str | None = None, *, rebuild: bool = False, show_progress: bool = False,
              progress: Progress | None = None) -> IndexReport:
        return documents.index_corpus(self, corpus, rebuild=rebuild, show_progress=show_progress, progress=progress)

    def add_files(self, paths: Sequence[Path | str], *, names: Sequence[str] | None = None,
                  progress: Progress | None = None) -> IndexReport:
        """Index some files (uploads) next to what is already there (see documents.add_files)."""
        return documents.add_files(self, paths, names=names, progress=progress)

    def remove_documents(self, names: Sequence[str], *, progress: Progress | None = None) -> IndexReport:
        """Delete uploaded documents and their chunks (see documents.remove_documents)."""
        return documents.remove_documents(self, names, progress=progress)

    def collections(self) -> list[documents.CollectionSummary]:
        """The store's built collections with their counts, this one (the default) first."""
        return documents.collection_summaries(self.settings)

    def collection_documents(self) -> list[documents.DocumentRow]:
        """Every indexed document of this collection (title, date, source, chunks, the upload it came from);
        IndexMissingError naming the existing collections when this one was never built."""
        return documents.collection_documents(self.settings)

    def uploaded_files(self) -> list[UploadedFile]:
        return documents.uploaded_files(self)

    def uploaded_documents(self) -> list[UploadedDocument]:
        return documents.uploaded_documents(self)

    def uploaded_file_path(self, name: str) -> Path:
        return documents.uploaded_file_path(self, name)

    def info(self) -> dict[str, Any]:
        """What is indexed, read from the manifest and checked against the store, and the collection's
        own abstention threshold once it has been probed (None before, or when the settings set one or
        choose the lexical score)."""
        answer = self.settings.answer
        probed = read_threshold(self.settings) if answer.scorer == "learned" and answer.confidence_threshold is None else None
        return {**collection_info(self.settings, self.store),
                "abstention_threshold": round(probed.threshold, 4) if probed and probed.threshold is not None else None}
