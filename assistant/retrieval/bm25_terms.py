"""BM25 from stored tokens: an index that an update extends instead of rebuilding.

A bm25s index bakes every (text, token) score into its matrix, so it cannot add or remove a text:
each change rebuilt it whole, tokenising every text again (at 100k chunks 23.5 s for the sentences
and 9 s for the passages of a one-file update, evals/bench_scale.py). Instead each text's BM25
tokens are kept as ids into one vocabulary, with the corpus statistics BM25 needs (how many texts
hold each token, how many tokens in all); an update tokenises only the new texts and slices the
kept ones. Scores reproduce bm25s's Lucene variant (checked against bm25s in
tests/retrieval/test_bm25_terms.py): `scores` for a few hundred rows (sentences of the candidate passages),
`all_scores` for every row through postings built once per load (passage retrieval)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


# bm25s's defaults (method "lucene"), which the passage index and the old sentence index use.
K1 = 1.5
B = 0.75


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def bm25_tokenize(texts: Sequence[str]) -> list[list[str]]:
    """BM25 tokens of each text (English stop words, Snowball), as bm25s tokenises them."""
    import bm25s

    return bm25s.tokenize(list(texts), stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


def merge_runs(parts: list[tuple[str, np.ndarray | list[str]]]) -> list[tuple[str, np.ndarray | list[str]]]:
    """Adjacent parts of one kind joined, so assembling takes a few large slices, not one per text."""
    merged: list[tuple[str, list]] = []
    for kind, items in parts:
        if merged and merged[-1][0] == kind:
            merged[-1][1].append(items)
        else:
            merged.append((kind, [items]))
    return [(kind, np.concatenate(items) if kind == "previous" else [t for block in items for t in block])
            for kind, items in merged]


def _idf(n: int, df: np.ndarray | float) -> np.ndarray | float:
    return np.log(1.0 + (n - df + 0.5) / (df + 0.5))


def _length_norm(lengths: np.ndarray, average: float) -> np.ndarray:
    """K1 * (1 - B + B * length / average length), per row, in float64."""
    return K1 * ((1.0 - B) + B * lengths.astype(np.float64) / average)


def _files(folder: Path, stem: str) -> tuple[Path, Path]:
    """(token arrays, vocabulary) of the terms saved under `stem` ("sentence", "passage")."""
    return folder / f"{stem}_terms.npz", folder / f"{stem}_vocab.json"


def _ranges(offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(flat positions of the rows' tokens in order, each row's length)."""
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64), lengths
    # positions = start of each row repeated, plus 0..len-1 within the row
    row_starts = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return row_starts + np.arange(total, dtype=np.int64), lengths


@dataclass(frozen=True)
class Postings:
    """For each token id, the rows holding it and how often: rows[starts[t]:starts[t + 1]]."""

    starts: np.ndarray  # int64, vocabulary + 1
    rows: np.ndarray    # int32
    counts: np.ndarray  # float32 term frequency
    norm: np.ndarray    # float32 per row: K1 * (1 - B + B * length / average length)

    @classmethod
    def of(cls, tokens: np.ndarray, offsets: np.ndarray, vocabulary: int) -> Postings:
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


@dataclass(frozen=True)
class BM25Terms:
    vocab: dict[str, int]
    tokens: np.ndarray        # int32, every row's token ids, one after the other
    offsets: np.ndarray       # int64, n + 1: row i's tokens are tokens[offsets[i]:offsets[i + 1]]
    doc_freq: np.ndarray      # int64 per vocabulary id: rows holding the token

    @property
    def sentences(self) -> int:
        """Rows (texts): sentences of the sentence index, chunks of the passage index."""
        return len(self.offsets) - 1

    @classmethod
    def build(cls, texts: Sequence[str]) -> BM25Terms:
        return cls.assemble(None, [("new", list(texts))])

    @classmethod
    def assemble(cls, previous: BM25Terms | None,
                 parts: Sequence[tuple[str, np.ndarray | list[str]]]) -> BM25Terms:
        """Rows in order from parts ("previous", row numbers of `previous`) and ("new", texts);
        only the new texts are tokenised."""
        vocab = dict(previous.vocab) if previous is not None else {}
        new_texts = [text for kind, texts in parts if kind == "new" for text in texts]
        new_tokens = iter(bm25_tokenize(new_texts)) if new_texts else iter(())
        blocks: list[np.ndarray] = []
        lengths: list[np.ndarray] = []
        for kind, items in parts:
            if kind == "previous":
                assert previous is not None, "rows of a previous index need that index"
                rows = np.asarray(items, dtype=np.int64)
                positions, row_lengths = _ranges(previous.offsets, rows)
                blocks.append(previous.tokens[positions])
                lengths.append(row_lengths)
                continue
            for _ in items:
                ids = [vocab.setdefault(token, len(vocab)) for token in next(new_tokens)]
                blocks.append(np.asarray(ids, dtype=np.int32))
                lengths.append(np.asarray([len(ids)], dtype=np.int64))
        tokens = np.concatenate(blocks).astype(np.int32) if blocks else np.zeros(0, np.int32)
        row_lengths = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
        offsets = np.concatenate(([0], np.cumsum(row_lengths))).astype(np.int64)
        return cls(vocab, tokens, offsets, _doc_freq(tokens, offsets, len(vocab)))

    def scores(self, query_tokens: Sequence[str], rows: np.ndarray) -> np.ndarray:
        """BM25 of the sentences at `rows` for the query's tokens (a repeated token counts again,
        as in bm25s), with the statistics of all sentences."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros(len(rows), dtype=np.float32)
        ids = [self.vocab[t] for t in query_tokens if t in self.vocab]
        if not ids or not len(rows) or self.sentences == 0:
            return out
        unique, repeats = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
        positions, lengths = _ranges(self.offsets, rows)
        flat = self.tokens[positions].astype(np.int64)
        owner = np.repeat(np.arange(len(rows)), lengths)
        slot = np.searchsorted(unique, flat)
        hit = (slot < len(unique)) & (unique[np.minimum(slot, len(unique) - 1)] == flat)
        tf = np.zeros((len(rows), len(unique)), dtype=np.float64)
        np.add.at(tf, (owner[hit], slot[hit]), 1.0)
        n = self.sentences
        average = max(len(self.tokens) / n, 1e-9)
        df = self.doc_freq[unique].astype(np.float64)
        idf = _idf(n, df)
        norm = _length_norm(lengths, average)
        tfc = tf / (norm[:, None] + tf)
        return (tfc * idf * repeats).sum(axis=1).astype(np.float32)

    def postings(self) -> Postings:
        return Postings.of(self.tokens, self.offsets, len(self.vocab))

    def all_scores(self, query_tokens: Sequence[str], postings: Postings) -> np.ndarray:
        """BM25 of every row for the query's tokens (a repeated token counts again, as in bm25s);
        `postings` are this index's (`postings()`, built once per load)."""
        out = np.zeros(self.sentences, dtype=np.float32)
        ids = [self.vocab[t] for t in query_tokens if t in self.vocab]
        if not ids or self.sentences == 0:
            return out
        n = self.sentences
        unique, repeats = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
        for token, repeat in zip(unique.tolist(), repeats.tolist()):
            lo, hi = int(postings.starts[token]), int(postings.starts[token + 1])
            rows, tf = postings.rows[lo:hi], postings.counts[lo:hi]
            df = float(self.doc_freq[token])
            idf = np.float32(_idf(n, df))
            out[rows] += idf * tf / (postings.norm[rows] + tf) * np.float32(repeat)
        return out

    def save(self, folder: Path, stem: str) -> None:
        tokens_file, vocab_file = _files(folder, stem)
        np.savez(tokens_file, tokens=self.tokens, offsets=self.offsets)
        vocab = sorted(self.vocab, key=self.vocab.__getitem__)
        vocab_file.write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, stem: str) -> BM25Terms | None:
        """None for a snapshot written before these terms were kept; ValueError when damaged."""
        path, vocab_file = _files(folder, stem)
        if not path.exists():
            return None
        data = np.load(path, allow_pickle=False)
        words = json.loads(vocab_file.read_text(encoding="utf-8"))
        tokens, offsets = data["tokens"].astype(np.int32), data["offsets"].astype(np.int64)
        if (not isinstance(words, list) or len(offsets) == 0 or offsets[-1] != len(tokens)
                or (len(tokens) and int(tokens.max()) >= len(words))):
            raise ValueError(f"{stem} BM25 terms in {folder} are out of step with themselves")
        vocab = {str(word): i for i, word in enumerate(words)}
        return cls(vocab, tokens, offsets, _doc_freq(tokens, offsets, len(vocab)))


def _doc_freq(tokens: np.ndarray, offsets: np.ndarray, vocabulary: int) -> np.ndarray:
    """Rows holding each token (a token repeated in a row counts once)."""
    if not len(tokens):
        return np.zeros(vocabulary, dtype=np.int64)
    width = max(vocabulary, 1)
    owner = np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(offsets))
    # (sentence, token) pairs, sorted, each counted once. np.sort + a mask, not np.unique, which
    # took 9.7 s on the 7.5M pairs of 100k chunks where this takes 0.2 s.
    pairs = np.sort(owner * width + tokens.astype(np.int64))
    first = np.concatenate(([True], pairs[1:] != pairs[:-1]))
    return np.bincount(pairs[first] % width, minlength=vocabulary).astype(np.int64)
