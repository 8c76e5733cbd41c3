"""Chunk texts stored in segments that snapshots share, as the sentence vectors are (vector_segments).

One `chunks.json` held every chunk and a one-document update encoded and wrote it whole (87 MB at
100k chunks, most of the snapshot write, evals/bench_scale.py). Now the chunks, in snapshot order,
are cut into segment files at document ends that the documents choose themselves: a document
closes a segment with a chance proportional to its chunk count, drawn from a hash of its name. A
cut never depends on the chunks before it, so an update changes only the segments holding changed
documents (and a rebuild of the same corpus cuts the same segments). A new snapshot hard-links the
previous snapshot's file of each segment whose chunks it keeps exactly as they were and writes the
others; like the vector segments, the files are immutable and a pruned snapshot only drops names."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from assistant import atomic
from assistant.index.vector_segments import link_file
from assistant.types import Chunk

SEGMENT_CHUNKS = 2048   # chunks per segment on average: an update rewrites about this many chunks' texts
LISTING_FILE = "chunk_segments.json"
SEGMENTS_DIR = "chunks"


@dataclass(frozen=True)
class ChunkSegment:
    name: str       # file stem in SEGMENTS_DIR
    ids: str        # digest of its chunk ids, in order: how a new snapshot finds a segment to reuse
    count: int
    path: Path      # the file it was loaded from or written to


def chunk_rows(chunks: Sequence[Chunk]) -> list[list]:
    return [[c.chunk_id, c.source, c.title, c.date.isoformat() if c.date else None, c.index, c.text] for c in chunks]


def _closes_segment(source: str, chunks: int) -> bool:
    """Whether a document of `chunks` chunks ends a segment (by its name alone, see the docstring)."""
    draw = int.from_bytes(hashlib.blake2b(source.encode("utf-8", "surrogateescape"), digest_size=8).digest(), "little")
    return draw % SEGMENT_CHUNKS < chunks


def cut_segments(chunks: Sequence[Chunk]) -> list[list[Chunk]]:
    """`chunks` (in (source, index) order) cut into segments at document ends."""
    groups: list[list[Chunk]] = []
    current: list[Chunk] = []
    for source, document in groupby(chunks, key=lambda c: c.source):
        size = len(current)
        current.extend(document)
        if _closes_segment(source, len(current) - size):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def _ids_digest(chunks: Sequence[Chunk]) -> str:
    return hashlib.blake2b("\n".join(c.chunk_id for c in chunks).encode("utf-8", "surrogateescape"),
                           digest_size=16).hexdigest()


def _same(before: Chunk | None, now: Chunk) -> bool:
    return before is now or before == now


def save_chunks(folder: Path, chunks: Sequence[Chunk], previous: Sequence[ChunkSegment],
                previous_chunks: Mapping[str, Chunk]) -> None:
    """Write `chunks` as segments into a snapshot's staging folder (published whole by the caller):
    a segment of `previous` (the snapshot this one replaces, whose chunks are `previous_chunks`)
    holding exactly the same chunks is linked, the others written."""
    target = folder / SEGMENTS_DIR
    target.mkdir(parents=True, exist_ok=True)
    reusable = {segment.ids: segment for segment in previous}
    listing = []
    for group in cut_segments(chunks):
        ids = _ids_digest(group)
        old = reusable.get(ids)
        # Kept chunks are the previous snapshot's own objects: `is` settles all but a rare case.
        if old is not None and not all(_same(previous_chunks.get(c.chunk_id), c) for c in group):
            old = None
        name = old.name if old is not None else secrets.token_hex(8)
        path = target / f"{name}.json"
        if old is None or not link_file(old.path, path):
            path.write_text(json.dumps(chunk_rows(group), ensure_ascii=False), encoding="utf-8")
        listing.append([name, ids, len(group)])
    atomic.fsync_dir(target)  # the segments' names survive a crash along with the folder's rename
    (folder / LISTING_FILE).write_text(json.dumps({"segments": listing}), encoding="utf-8")


def load_chunk_rows(folder: Path) -> tuple[list[list], list[ChunkSegment]] | None:
    """Every chunk row of the segments the folder lists, in order, and the segments (None for a
    snapshot with one chunks file); ValueError when a segment does not hold what the listing says."""
    listing_path = folder / LISTING_FILE
    if not listing_path.exists():
        return None
    rows: list[list] = []
    segments: list[ChunkSegment] = []
    for name, ids, count in json.loads(listing_path.read_text(encoding="utf-8"))["segments"]:
        path = folder / SEGMENTS_DIR / f"{name}.json"
        part = json.loads(path.read_text(encoding="utf-8"))
        if len(part) != int(count):
            raise ValueError(f"chunk segment {path} holds {len(part)} chunks, its listing says {count}")
        rows.extend(part)
        segments.append(ChunkSegment(str(name), str(ids), int(count), path))
    return rows, segments
