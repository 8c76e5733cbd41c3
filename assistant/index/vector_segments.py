"""Sentence vectors stored in segments: files of consecutive chunks' rows that snapshots share.

A one-document update used to copy and rewrite the whole float16 vector file (965 MB for the 1.26M
sentences of 100k chunks, evals/bench_scale.py). Now the rows are cut into segments of about
SEGMENT_CHUNKS chunks, and a new snapshot hard-links the previous snapshot's file of every segment
whose chunks it keeps as they were; only the segments that changed are written. A hard link is a
second name of an immutable file: pruning the old snapshot removes one name and the data stays
while a kept snapshot names it, and the old snapshot's folder never gains or loses a file."""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant import atomic

log = logging.getLogger(__name__)

SEGMENT_CHUNKS = 2048   # chunks per segment: an update of one document rewrites about this many chunks' vectors
SEGMENTS_FILE = "vector_segments.json"
SEGMENTS_DIR = "vectors"


@dataclass(frozen=True)
class VectorPart:
    rows: np.ndarray        # float16 (n, dimension), a memory map once saved or loaded
    name: str | None = None  # file stem in SEGMENTS_DIR; None until saved
    path: Path | None = None  # the file it is mapped from: a new snapshot links this one


class SegmentedVectors:
    """Read-only float16 rows over several segment arrays, indexed like one (n, dimension) array
    by a row number or a sequence of them."""

    def __init__(self, parts: Sequence[VectorPart], dimension: int) -> None:
        self.parts = list(parts)
        self.bounds = np.cumsum([0] + [len(p.rows) for p in self.parts]).astype(np.int64)
        self.shape = (int(self.bounds[-1]), dimension)
        self.dtype = np.dtype(np.float16)
        self.ndim = 2

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: int | Sequence[int] | np.ndarray | slice) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            row = int(key) + (len(self) if int(key) < 0 else 0)
            if not 0 <= row < len(self):
                raise IndexError(f"row {key} of {len(self)}")
            part = int(np.searchsorted(self.bounds, row, "right")) - 1
            return self.parts[part].rows[row - self.bounds[part]]
        rows = np.arange(*key.indices(len(self))) if isinstance(key, slice) else np.asarray(key, dtype=np.int64).reshape(-1)
        rows = np.where(rows < 0, rows + len(self), rows)
        if len(rows) and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"rows out of range for {len(self)} rows")
        owner = np.searchsorted(self.bounds, rows, "right") - 1
        out = np.empty((len(rows), self.shape[1]), np.float16)
        for part in np.unique(owner):
            mask = owner == part
            out[mask] = self.parts[part].rows[rows[mask] - self.bounds[part]]
        return out

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        whole = (np.concatenate([np.asarray(p.rows) for p in self.parts]) if self.parts
                 else np.zeros((0, self.shape[1]), np.float16))
        return whole if dtype is None else whole.astype(dtype)

    def save(self, folder: Path) -> None:
        """Link each part that has a file, write the others, then list them (the folder is a
        snapshot's staging folder, published whole by the caller)."""
        target = folder / SEGMENTS_DIR
        target.mkdir(parents=True, exist_ok=True)
        listing = []
        for part in self.parts:
            name = part.name or secrets.token_hex(8)
            path = target / f"{name}.npy"
            if part.path is None or not link_file(part.path, path):
                np.save(path, np.asarray(part.rows, dtype=np.float16), allow_pickle=False)
            listing.append([name, len(part.rows)])
        atomic.fsync_dir(target)  # the segments' names survive a crash along with the folder's rename
        (folder / SEGMENTS_FILE).write_text(json.dumps({"dimension": self.shape[1], "segments": listing}))

    @classmethod
    def load(cls, folder: Path) -> SegmentedVectors | None:
        """The segments the folder lists, memory-mapped (None for a snapshot with one vector file);
        ValueError when one is damaged, FileNotFoundError when one is missing."""
        listing_path = folder / SEGMENTS_FILE
        if not listing_path.exists():
            return None
        data = json.loads(listing_path.read_text())
        dimension = int(data["dimension"])
        parts = []
        for name, rows in data["segments"]:
            path = folder / SEGMENTS_DIR / f"{name}.npy"
            array = np.load(path, mmap_mode="r", allow_pickle=False)
            if array.dtype != np.float16 or array.shape != (int(rows), dimension):
                raise ValueError(f"vector segment {path} is {array.dtype} {array.shape}, expected float16 "
                                 f"({rows}, {dimension})")
            parts.append(VectorPart(array, str(name), path))
        return cls(parts, dimension)


def link_file(source: Path, target: Path) -> bool:
    """Hard-link an unchanged segment (vectors or chunk texts) into the new snapshot; False where the
    filesystem has no hard links (or the source is gone), and the caller writes a copy instead."""
    try:
        os.link(source, target)
    except OSError as exc:
        log.debug("writing segment %s again instead of linking it: %s", source.name, exc)
        return False
    return True


def assemble_vectors(chunk_ids: Sequence[str], sources: Sequence[str], row_counts: Sequence[int],
                     previous: np.ndarray | SegmentedVectors | None, previous_row_chunks: Sequence[str],
                     fill: Callable[[int], np.ndarray], dimension: int) -> SegmentedVectors:
    """The vectors of a new snapshot whose chunks are `chunk_ids` in order (of documents `sources`,
    `row_counts` sentence rows each). A previous segment whose chunks appear unchanged and together
    is kept as it is (its file will be linked); the other chunks are copied by `fill(position)` into
    new segments, cut at document boundaries so that updating one document rewrites one segment.
    `previous_row_chunks`: the chunk id of each previous sentence row."""
    minimum = max(1, SEGMENT_CHUNKS // 4)
    reusable: dict[str, tuple[VectorPart, list[str]]] = {}   # a segment's first chunk id -> (segment, its chunk ids)
    if isinstance(previous, SegmentedVectors):
        for index, part in enumerate(previous.parts):
            start, end = int(previous.bounds[index]), int(previous.bounds[index + 1])
            ids = list(dict.fromkeys(previous_row_chunks[start:end]))
            if ids:
                reusable[ids[0]] = (part, ids)
    layout: list[VectorPart | list[int]] = []   # kept segments, and chunk positions of new ones
    pending: list[int] = []
    position = 0
    while position < len(chunk_ids):
        if pending and len(pending) >= SEGMENT_CHUNKS and sources[position] != sources[position - 1]:
            layout.append(pending)
            pending = []
        found = reusable.get(chunk_ids[position])
        if found is not None and list(chunk_ids[position:position + len(found[1])]) == found[1]:
            part, ids = found
            # A small segment, or a small run of changed chunks before it, is merged with it rather
            # than left as a small file of its own: updates never pile up tiny segments.
            if len(ids) < minimum or 0 < len(pending) < minimum:
                pending.extend(range(position, position + len(ids)))
            else:
                layout.extend([pending, part] if pending else [part])
                pending = []
            position += len(ids)
        else:
            pending.append(position)
            position += 1
    if pending and len(pending) < minimum and layout and isinstance(layout[-1], list):
        layout[-1].extend(pending)  # a short tail joins the new segment before it
    elif pending:
        layout.append(pending)
    return SegmentedVectors([item if isinstance(item, VectorPart) else _new_part(item, row_counts, fill, dimension)
                             for item in layout], dimension)


def _new_part(positions: list[int], row_counts: Sequence[int], fill: Callable[[int], np.ndarray],
              dimension: int) -> VectorPart:
    block = np.empty((sum(row_counts[i] for i in positions), dimension), np.float16)
    row = 0
    for i in positions:
        block[row:row + row_counts[i]] = fill(i)
        row += row_counts[i]
    return VectorPart(block)
