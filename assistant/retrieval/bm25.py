"""BM25 at query time, from the terms a snapshot stores (`assistant.index.terms`).

Scores reproduce bm25s's Lucene variant (checked against bm25s in tests/retrieval/test_bm25_terms.py):
`row_scores` for a few hundred rows (sentences of the candidate passages), `all_scores` for every
row through postings built once per load (passage retrieval). `KeywordIndex` is the passage index
retrieval searches; `DocumentColumns` turns a source/date filter into one mask per question."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.index.passage_terms import PassageTerms
from assistant.index.sentence_index import SentenceIndex
from assistant.index.terms import BM25Terms, bm25_tokenize, row_positions

# bm25s's defaults (method "lucene"), which the passage index and the old sentence index use.
K1 = 1.5
B = 0.75


def _idf(n: int, df: np.ndarray | float) -> np.ndarray | float:
    return np.log(1.0 + (n - df + 0.5) / (df + 0.5))


def _length_norm(lengths: np.ndarray, average: float) -> np.ndarray:
    """K1 * (1 - B + B * length / average length), per row, in float64."""
    return K1 * ((1.0 - B) + B * lengths.astype(np.float64) / average)


def query_tokens(query: str) -> list[str]:
    """The query's BM25 tokens, by the analyzer that wrote the stored terms."""
    tokenized = bm25_tokenize([query])
    return tokenized[0] if tokenized else []


@dataclass(frozen=True)
class Postings:
    """For each token id, the rows holding it and how often: rows[starts[t]:starts[t + 1]]."""

    starts: np.ndarray  # int64, vocabulary + 1
    rows: np.ndarray    # int32
    counts: np.ndarray  # float32 term frequency
    norm: np.ndarray    # float32 per row: K1 * (1 - B + B * length / average length)

    @classmethod
    def of(cls, terms: BM25Terms) -> Postings:
        tokens, offsets, vocabulary = terms.tokens, terms.offsets, len(terms.vocab)
        n = len(offsets) - 1
        lengths = np.diff(offsets)
        average = max(len(tokens) / max(n, 1), 1e-9)
        norm = _length_norm(lengths, average).astype(np.float32)
        if not len(tokens):
            return cls(np.zeros(vocabulary + 1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32), norm)
        owner = np.repeat(np.arange(n, dtype=np.int64), lengths)
        # (token, row) keys sorted: runs of one key are one term frequency, runs of one token a posting list
        keys = np.sort(tokens.astype(np.int64) * max(n, 1) + owner)
        first = np.concatenate(([True], keys[1:] != keys[:-1]))
        unique = keys[first]
        counts = np.diff(np.concatenate((np.flatnonzero(first), [len(keys)]))).astype(np.float32)
        token_of = unique // max(n, 1)
        starts = np.searchsorted(token_of, np.arange(vocabulary + 1), side="left").astype(np.int64)
        return cls(starts, (unique % max(n, 1)).astype(np.int32), counts, norm)


def row_scores(terms: BM25Terms, tokens: Sequence[str], rows: np.ndarray) -> np.ndarray:
    """BM25 of the rows at `rows` for the query's tokens (a repeated token counts again, as in
    bm25s), with the statistics of all rows."""
    rows = np.asarray(rows, dtype=np.int64)
    out = np.zeros(len(rows), dtype=np.float32)
    ids = [terms.vocab[t] for t in tokens if t in terms.vocab]
    if not ids or not len(rows) or terms.sentences == 0:
        return out
    unique, repeats = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
    positions, lengths = row_positions(terms.offsets, rows)
    flat = terms.tokens[positions].astype(np.int64)
    owner = np.repeat(np.arange(len(rows)), lengths)
    slot = np.searchsorted(unique, flat)
    hit = (slot < len(unique)) & (unique[np.minimum(slot, len(unique) - 1)] == flat)
    tf = np.zeros((len(rows), len(unique)), dtype=np.float64)
    np.add.at(tf, (owner[hit], slot[hit]), 1.0)
    n = terms.sentences
    average = max(len(terms.tokens) / n, 1e-9)
    df = terms.doc_freq[unique].astype(np.float64)
    idf = _idf(n, df)
    norm = _length_norm(lengths, average)
    tfc = tf / (norm[:, None] + tf)
    return (tfc * idf * repeats).sum(axis=1).astype(np.float32)


def all_scores(terms: BM25Terms, tokens: Sequence[str], postings: Postings) -> np.ndarray:
    """BM25 of every row for the query's tokens (a repeated token counts again, as in bm25s);
    `postings` are these terms' (`Postings.of`, built once per load)."""
    out = np.zeros(terms.sentences, dtype=np.float32)
    ids = [terms.vocab[t] for t in tokens if t in terms.vocab]
    if not ids or terms.sentences == 0:
        return out
    n = terms.sentences
    unique, repeats = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
    for token, repeat in zip(unique.tolist(), repeats.tolist()):
        lo, hi = int(postings.starts[token]), int(postings.starts[token + 1])
        rows, tf = postings.rows[lo:hi], postings.counts[lo:hi]
        df = float(terms.doc_freq[token])
        idf = np.float32(_idf(n, df))
        out[rows] += idf * tf / (postings.norm[rows] + tf) * np.float32(repeat)
    return out


def sentence_bm25(sentences: SentenceIndex, query: str, rows: np.ndarray) -> np.ndarray:
    """BM25 of the sentences at `rows` among all sentences (zeros without terms)."""
    if sentences.terms is None or not len(rows):
        return np.zeros(len(rows), np.float32)
    return row_scores(sentences.terms, query_tokens(query), rows)


class KeywordIndex:
    """Passage BM25 over a snapshot's passage terms, addressed by chunk id; postings built once."""

    def __init__(self, passages: PassageTerms) -> None:
        self._passages = passages
        self._postings = Postings.of(passages.terms)

    @property
    def ids(self) -> list[str]:
        return self._passages.ids

    def position(self, doc_id: str) -> int | None:
        return self._passages.position(doc_id)

    def scores(self, query: str, weight_mask: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every indexed text, in `ids` order (zeros when nothing matches); a
        `weight_mask` (one weight per id, see `DocumentColumns.mask`) multiplies them."""
        scores = all_scores(self._passages.terms, query_tokens(query), self._postings)
        return scores if weight_mask is None else scores * weight_mask.astype(np.float32)

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


def _day(value: dt.date | None) -> int:
    """A date as a comparable int (0 when undated, below every real date's proleptic ordinal)."""
    return value.toordinal() if value is not None else 0


@dataclass(frozen=True)
class DocumentColumns:
    """Each indexed text's source and date as arrays in `KeywordIndex.ids` order, built once per
    snapshot, so a source/date filter becomes one vectorised mask per question."""

    source_codes: np.ndarray  # int32: position of the text's source in `sources`
    sources: dict[str, int]
    days: np.ndarray          # int64 `_day` of each text's date; 0 when undated (matches no date bound)

    @classmethod
    def build(cls, sources: Sequence[str], dates: Sequence[dt.date | None]) -> DocumentColumns:
        names, codes = np.unique(np.asarray(list(sources), dtype=str), return_inverse=True)
        days = np.fromiter((_day(d) for d in dates), dtype=np.int64, count=len(dates))
        return cls(codes.astype(np.int32).reshape(-1), {str(name): i for i, name in enumerate(names)}, days)

    def mask(self, sources: Collection[str] = (), date_from: dt.date | None = None,
             date_to: dt.date | None = None) -> np.ndarray:
        """float32 weights: 1 for texts from one of `sources` (any when empty) dated within the
        inclusive bounds (undated texts fail any bound), else 0."""
        keep = np.ones(len(self.source_codes), dtype=bool)
        if sources:
            keep &= np.isin(self.source_codes, [self.sources[s] for s in sources if s in self.sources])
        if date_from is not None:
            keep &= self.days >= _day(date_from)
        if date_to is not None:
            keep &= (self.days > 0) & (self.days <= _day(date_to))
        return keep.astype(np.float32)
