"""Passage BM25 terms as a snapshot stores them (folder `bm25/`): the chunk ids in order and each
chunk's BM25 terms. Retrieval builds its keyword index (`assistant.retrieval.bm25.KeywordIndex`)
from these once per load."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from assistant.index.terms import BM25Terms, merge_runs
from assistant.types import Chunk

_IDS_FILE = "ids.json"
_TERMS_STEM = "passage"


def passage_text(chunk: Chunk) -> str:
    """What passage BM25 reads: the chunk's text headed by its document's title, so a chunk cut from
    the middle of a document still matches the words of what the document is about (+1.4 points of
    R@1 on SQuAD dev, see evals/results/tuning.json)."""
    return f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text


class PassageTerms:
    """BM25 terms of a list of texts, addressed by string ids. An update keeps the tokens of the
    texts it keeps and tokenises only the new ones (`of_chunks`)."""

    def __init__(self, ids: Sequence[str], terms: BM25Terms) -> None:
        if len(ids) != terms.sentences:
            raise ValueError(f"{len(ids)} passage ids but BM25 terms for {terms.sentences} passages")
        self.ids = list(ids)
        self.terms = terms
        self._position = {doc_id: i for i, doc_id in enumerate(self.ids)}

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> PassageTerms:
        return cls(ids, BM25Terms.build(texts))

    @classmethod
    def of_chunks(cls, chunks: Sequence[Chunk], previous: PassageTerms | None,
                  previous_chunks: Mapping[str, Chunk]) -> PassageTerms:
        """The passage terms of `chunks`, in order; the tokens of the chunks that `previous` (the
        terms of `previous_chunks`) holds with the same title and text are reused, not re-tokenised."""
        if previous is None:
            return cls.build([c.chunk_id for c in chunks], [passage_text(c) for c in chunks])
        parts: list[tuple[str, np.ndarray | list[str]]] = []
        kept: list[int] = []  # previous rows of the current run of kept chunks: one array per run, not per chunk
        for chunk in chunks:
            row = previous.position(chunk.chunk_id)
            before = previous_chunks.get(chunk.chunk_id)
            if row is not None and before is not None and (before is chunk or passage_text(before) == passage_text(chunk)):
                kept.append(row)
                continue
            if kept:
                parts.append(("previous", np.asarray(kept, np.int64)))
                kept = []
            parts.append(("new", [passage_text(chunk)]))
        if kept:
            parts.append(("previous", np.asarray(kept, np.int64)))
        return cls([c.chunk_id for c in chunks], BM25Terms.assemble(previous.terms, merge_runs(parts)))

    def position(self, doc_id: str) -> int | None:
        return self._position.get(doc_id)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.terms.save(folder, _TERMS_STEM)
        (folder / _IDS_FILE).write_text(json.dumps(self.ids))

    @classmethod
    def load(cls, folder: Path, chunks: dict[str, Chunk]) -> PassageTerms | None:
        """None when the folder holds no terms; a snapshot written before passage terms were kept
        (a bm25s index) is tokenised again from `chunks`. ValueError when damaged."""
        ids_path = folder / _IDS_FILE
        if not ids_path.exists():
            return None
        ids = json.loads(ids_path.read_text())
        terms = BM25Terms.load(folder, _TERMS_STEM)
        if terms is None:
            return cls.build(ids, [passage_text(chunks[i]) for i in ids])
        return cls(ids, terms)
