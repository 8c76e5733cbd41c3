"""Sentence BM25 without a sentence BM25 index.

Sentence BM25 is only ever read for the sentences of a question's candidate passages, so a full
bm25s index over every sentence (rebuilt whole on each change) is not needed: at 100k chunks it
held 1.25M sentences, took 23.5 s of a one-file update and most of its memory
(evals/bench_scale.py). Instead each sentence's BM25 tokens are kept as ids into one vocabulary,
with the two corpus statistics BM25 needs (how many sentences hold each token, how many tokens in
all). Scoring a few hundred candidate rows reproduces bm25s's Lucene variant exactly (checked
against bm25s in tests/test_sentence_terms.py), and an update tokenises only the new sentences."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.keyword import bm25_tokenize

# bm25s's defaults (method "lucene"), which the passage index and the old sentence index use.
K1 = 1.5
B = 0.75
_TOKENS_FILE = "sentence_terms.npz"
_VOCAB_FILE = "sentence_vocab.json"


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
class SentenceTerms:
    vocab: dict[str, int]
    tokens: np.ndarray        # int32, every sentence's token ids, one after the other
    offsets: np.ndarray       # int64, n + 1: sentence i's tokens are tokens[offsets[i]:offsets[i + 1]]
    doc_freq: np.ndarray      # int64 per vocabulary id: sentences holding the token

    @property
    def sentences(self) -> int:
        return len(self.offsets) - 1

    @classmethod
    def build(cls, texts: Sequence[str]) -> SentenceTerms:
        return cls.assemble(None, [("new", list(texts))])

    @classmethod
    def assemble(cls, previous: SentenceTerms | None,
                 parts: Sequence[tuple[str, np.ndarray | list[str]]]) -> SentenceTerms:
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
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        norm = K1 * ((1.0 - B) + B * lengths.astype(np.float64) / average)
        tfc = tf / (norm[:, None] + tf)
        return (tfc * idf * repeats).sum(axis=1).astype(np.float32)

    def save(self, folder: Path) -> None:
        np.savez(folder / _TOKENS_FILE, tokens=self.tokens, offsets=self.offsets)
        vocab = sorted(self.vocab, key=self.vocab.__getitem__)
        (folder / _VOCAB_FILE).write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> SentenceTerms | None:
        """None for a snapshot written before sentence terms were kept; ValueError when damaged."""
        path = folder / _TOKENS_FILE
        if not path.exists():
            return None
        data = np.load(path, allow_pickle=False)
        words = json.loads((folder / _VOCAB_FILE).read_text(encoding="utf-8"))
        tokens, offsets = data["tokens"].astype(np.int32), data["offsets"].astype(np.int64)
        if (not isinstance(words, list) or len(offsets) == 0 or offsets[-1] != len(tokens)
                or (len(tokens) and int(tokens.max()) >= len(words))):
            raise ValueError(f"sentence terms in {folder} are out of step with themselves")
        vocab = {str(word): i for i, word in enumerate(words)}
        return cls(vocab, tokens, offsets, _doc_freq(tokens, offsets, len(vocab)))


def _doc_freq(tokens: np.ndarray, offsets: np.ndarray, vocabulary: int) -> np.ndarray:
    """Sentences holding each token (a token repeated in a sentence counts once)."""
    if not len(tokens):
        return np.zeros(vocabulary, dtype=np.int64)
    width = max(vocabulary, 1)
    owner = np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(offsets))
    # (sentence, token) pairs, sorted, each counted once. np.sort + a mask, not np.unique, which
    # took 9.7 s on the 7.5M pairs of 100k chunks where this takes 0.2 s.
    pairs = np.sort(owner * width + tokens.astype(np.int64))
    first = np.concatenate(([True], pairs[1:] != pairs[:-1]))
    return np.bincount(pairs[first] % width, minlength=vocabulary).astype(np.int64)
