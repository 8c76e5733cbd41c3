"""Passage BM25 (English stop words, Snowball stemming), stored in each snapshot as BM25 terms."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.retrieval.bm25_terms import BM25Terms, bm25_tokenize, merge_runs
from assistant.index.records import date_ordinal
from assistant.types import Chunk

_IDS_FILE = "ids.json"
_TERMS_STEM = "passage"


def passage_text(chunk: Chunk) -> str:
    """What passage BM25 reads: the chunk's text headed by its document's title, so a chunk cut from
    the middle of a document still matches the words of what the document is about (+1.4 points of
    R@1 on SQuAD dev, see evals/results/tuning.json)."""
    return f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text


class KeywordIndex:
    """BM25 over a list of texts, addressed by string ids. An update keeps the tokens of the texts
    it keeps and tokenises only the new ones (`of_chunks`); postings are built once per load."""

    def __init__(self, ids: Sequence[str], terms: BM25Terms) -> None:
        if len(ids) != terms.sentences:
            raise ValueError(f"{len(ids)} passage ids but BM25 terms for {terms.sentences} passages")
        self.ids = list(ids)
        self.terms = terms
        self._postings = terms.postings()
        self._position = {doc_id: i for i, doc_id in enumerate(self.ids)}

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> KeywordIndex:
        return cls(ids, BM25Terms.build(texts))

    @classmethod
    def of_chunks(cls, chunks: Sequence[Chunk], previous: KeywordIndex | None,
                  previous_chunks: Mapping[str, Chunk]) -> KeywordIndex:
        """The passage index of `chunks`, in order; the tokens of the chunks that `previous` (the
        index of `previous_chunks`) holds with the same title and text are reused, not re-tokenised."""
        if previous is None:
            return cls.build([c.chunk_id for c in chunks], [passage_text(c) for c in chunks])
        parts: list[tuple[str, np.ndarray | list[str]]] = []
        for chunk in chunks:
            row = previous.position(chunk.chunk_id)
            before = previous_chunks.get(chunk.chunk_id)
            same = row is not None and before is not None and passage_text(before) == passage_text(chunk)
            parts.append(("previous", np.asarray([row], np.int64)) if same else ("new", [passage_text(chunk)]))
        return cls([c.chunk_id for c in chunks], BM25Terms.assemble(previous.terms, merge_runs(parts)))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.terms.save(folder, _TERMS_STEM)
        (folder / _IDS_FILE).write_text(json.dumps(self.ids))

    @classmethod
    def load(cls, folder: Path, chunks: dict[str, Chunk]) -> KeywordIndex | None:
        """None when the folder holds no index; a snapshot written before passage terms were kept
        (a bm25s index) is tokenised again from `chunks`. ValueError when damaged."""
        ids_path = folder / _IDS_FILE
        if not ids_path.exists():
            return None
        ids = json.loads(ids_path.read_text())
        terms = BM25Terms.load(folder, _TERMS_STEM)
        if terms is None:
            return cls.build(ids, [passage_text(chunks[i]) for i in ids])
        return cls(ids, terms)

    def query_tokens(self, query: str) -> list[str]:
        tokenized = bm25_tokenize([query])
        return tokenized[0] if tokenized else []

    def scores(self, query: str, weight_mask: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every indexed text, in `ids` order (zeros when nothing matches); a
        `weight_mask` (one weight per id, see `DocumentColumns.mask`) multiplies them."""
        scores = self.terms.all_scores(self.query_tokens(query), self._postings)
        return scores if weight_mask is None else scores * weight_mask.astype(np.float32)

    def scores_for(self, query: str, positions: np.ndarray) -> np.ndarray:
        """BM25 scores of the texts at some positions (in `ids` order)."""
        return self.terms.scores(self.query_tokens(query), np.asarray(positions, dtype=np.int64))

    def top(self, query: str, k: int, weight_mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        return self.top_from_scores(self.scores(query, weight_mask), k)

    def top_from_scores(self, scores: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The k best (id, score) with a positive score (a masked-out id scores 0, so never appears)."""
        k = min(k, len(self.ids))
        if k == 0:
            return []
        order = np.argpartition(-scores, k - 1)[:k]
        order = order[np.argsort(-scores[order], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in order if scores[i] > 0]

    def position(self, doc_id: str) -> int | None:
        return self._position.get(doc_id)


@dataclass(frozen=True)
class DocumentColumns:
    """Each indexed text's source and date as arrays in `KeywordIndex.ids` order, built once per
    snapshot, so a source/date filter becomes one vectorised mask per question."""

    source_codes: np.ndarray  # int32: position of the text's source in `sources`
    sources: dict[str, int]
    date_ordinals: np.ndarray  # int64 `store_records.date_ordinal` (YYYYMMDD); 0 when undated (matches no date bound)

    @classmethod
    def build(cls, sources: Sequence[str], dates: Sequence[dt.date | None]) -> DocumentColumns:
        names, codes = np.unique(np.asarray(list(sources), dtype=str), return_inverse=True)
        ordinals = np.fromiter((date_ordinal(d) for d in dates), dtype=np.int64, count=len(dates))
        return cls(codes.astype(np.int32).reshape(-1), {str(name): i for i, name in enumerate(names)}, ordinals)

    def mask(self, sources: Collection[str] = (), date_from: dt.date | None = None,
             date_to: dt.date | None = None) -> np.ndarray:
        """float32 weights: 1 for texts from one of `sources` (any when empty) dated within the
        inclusive bounds (undated texts fail any bound), else 0."""
        keep = np.ones(len(self.source_codes), dtype=bool)
        if sources:
            keep &= np.isin(self.source_codes, [self.sources[s] for s in sources if s in self.sources])
        if date_from is not None:
            keep &= self.date_ordinals >= date_ordinal(date_from)
        if date_to is not None:
            keep &= (self.date_ordinals > 0) & (self.date_ordinals <= date_ordinal(date_to))
        return keep.astype(np.float32)
