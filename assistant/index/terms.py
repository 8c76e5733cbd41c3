"""BM25 terms as a snapshot stores them: each text's tokens as ids into one vocabulary, with the
corpus statistics BM25 needs (how many texts hold each token), so that an update extends them.

A bm25s index bakes every (text, token) score into its matrix, so it cannot add or remove a text:
each change rebuilt it whole, tokenising every text again (at 100k chunks 23.5 s for the sentences
and 9 s for the passages of a one-file update, evals/bench_scale.py). Here an update tokenises only
the new texts and slices the kept ones. The analyzer (`bm25_tokenize`) belongs to this stored
format: the token ids mean nothing under another one, so queries are tokenised by it too. Scoring
is query-time work and lives in `assistant.retrieval.bm25`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


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


def _files(folder: Path, stem: str) -> tuple[Path, Path]:
    """(token arrays, vocabulary) of the terms saved under `stem` ("sentence", "passage")."""
    return folder / f"{stem}_terms.npz", folder / f"{stem}_vocab.json"


def row_positions(offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
        kept: list[np.ndarray] = []      # previous rows taken
        fresh: list[np.ndarray] = []     # new rows' token ids
        for kind, items in parts:
            if kind == "previous":
                assert previous is not None, "rows of a previous index need that index"
                rows = np.asarray(items, dtype=np.int64)
                kept.append(rows)
                breaks = np.flatnonzero(np.diff(rows) != 1) + 1
                if len(breaks) < len(rows) // 64:
                    # long runs of consecutive rows (what an update keeps): slices, not a gather of every token
                    for run in np.split(rows, breaks):
                        lo, hi = int(run[0]), int(run[-1]) + 1
                        blocks.append(previous.tokens[previous.offsets[lo]:previous.offsets[hi]])
                        lengths.append(np.diff(previous.offsets[lo:hi + 1]))
                    continue
                positions, row_lengths = row_positions(previous.offsets, rows)
                blocks.append(previous.tokens[positions])
                lengths.append(row_lengths)
                continue
            for _ in items:
                ids = [vocab.setdefault(token, len(vocab)) for token in next(new_tokens)]
                blocks.append(np.asarray(ids, dtype=np.int32))
                fresh.append(blocks[-1])
                lengths.append(np.asarray([len(ids)], dtype=np.int64))
        tokens = np.concatenate(blocks).astype(np.int32) if blocks else np.zeros(0, np.int32)
        row_lengths = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
        offsets = np.concatenate(([0], np.cumsum(row_lengths))).astype(np.int64)
        doc_freq = _doc_freq_after(previous, kept, fresh, len(vocab)) if previous is not None else None
        return cls(vocab, tokens, offsets, doc_freq if doc_freq is not None else _doc_freq(tokens, offsets, len(vocab)))

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


def _doc_freq_after(previous: BM25Terms, kept: list[np.ndarray], fresh: list[np.ndarray],
                    vocabulary: int) -> np.ndarray | None:
    """The previous counts less the rows not kept plus the new rows: an update counts the rows that
    changed, not all (0.9 s at 100k chunks, evals/bench_scale.py). None when a previous row is
    taken twice (then everything is counted)."""
    uses = np.bincount(np.concatenate(kept), minlength=previous.sentences) if kept else np.zeros(previous.sentences, np.int64)
    if len(uses) > previous.sentences or (len(uses) and int(uses.max()) > 1):
        return None
    positions, dropped_lengths = row_positions(previous.offsets, np.flatnonzero(uses == 0))
    dropped = _doc_freq(previous.tokens[positions], np.concatenate(([0], np.cumsum(dropped_lengths))), vocabulary)
    added = _doc_freq(np.concatenate(fresh) if fresh else np.zeros(0, np.int32),
                      np.concatenate(([0], np.cumsum([len(f) for f in fresh], dtype=np.int64))), vocabulary)
    counts = np.zeros(vocabulary, np.int64)
    counts[:len(previous.doc_freq)] = previous.doc_freq
    return counts - dropped + added


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
