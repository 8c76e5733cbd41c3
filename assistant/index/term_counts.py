"""How many chunks hold each content term: the document frequencies the answerer weighs question
terms by. Counted when a snapshot is written and stored in it, so start-up reads one small file
instead of tokenising every chunk (1.8 s at 30k chunks, evals/bench_scale.py), and updated by the
changed chunks alone when a run keeps most of the previous snapshot."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant import atomic
from assistant.sentences import content_terms
from assistant.types import Chunk

TERM_COUNTS_FILE = "term_counts.json"


@dataclass(frozen=True)
class TermCounts:
    chunks: int                 # how many chunks were counted
    frequency: dict[str, int]   # content term -> chunks holding it

    @classmethod
    def of(cls, chunks: Iterable[Chunk]) -> TermCounts:
        return cls(0, {}).updated(removed=(), added=chunks)

    def updated(self, *, removed: Iterable[Chunk], added: Iterable[Chunk]) -> TermCounts:
        """The counts after some chunks left the collection and others joined it."""
        frequency = Counter(self.frequency)
        total = self.chunks
        for chunk in removed:
            frequency.subtract(set(content_terms(chunk.text)))
            total -= 1
        for chunk in added:
            frequency.update(set(content_terms(chunk.text)))
            total += 1
        return TermCounts(total, {term: n for term, n in frequency.items() if n > 0})

    def save(self, folder: Path) -> None:
        atomic.write_text(folder / TERM_COUNTS_FILE, json.dumps({"chunks": self.chunks, "frequency": self.frequency},
                                                                ensure_ascii=False))

    @classmethod
    def load(cls, folder: Path) -> TermCounts | None:
        """None for a snapshot written before the counts were stored; ValueError when damaged."""
        path = folder / TERM_COUNTS_FILE
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("frequency"), dict):
            raise ValueError(f"{path} is not a term count table")
        return cls(int(data["chunks"]), {str(k): int(v) for k, v in data["frequency"].items()})
