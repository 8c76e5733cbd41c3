"""The read model of an index: the published snapshot that retrieval and answering read.

A snapshot is an immutable folder `collections/<name>/snapshots/<id>/` (chunk texts, passage BM25,
sentence index) named by the manifest. Writers publish a new folder and then switch the manifest,
so a reader always loads one complete snapshot, never a mix of two runs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import weakref
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings
from assistant.errors import IndexCorruptError
from assistant.index.chunk_segments import ChunkSegment, load_chunk_rows
from assistant.index.manifest import Manifest, collection_dir
from assistant.index.passage_terms import PassageTerms
from assistant.index.sentence_index import SentenceIndex
from assistant.index.term_counts import TermCounts
from assistant.index.terms import BM25Terms
from assistant.types import Chunk

CHUNKS_FILE = "chunks.json"  # the chunks of snapshots written before chunk segments (chunk_segments)
PASSAGE_BM25_DIR = "bm25"


@dataclass
class IndexView:
    """Everything retrieval reads, loaded once: chunk texts, passage BM25 terms, sentence index, term counts."""

    chunks: dict[str, Chunk]
    passage_terms: PassageTerms
    sentences: SentenceIndex
    manifest: Manifest
    term_counts: TermCounts
    # The chunk segment files the chunks were loaded from (none for a snapshot with one chunks.json):
    # the next snapshot links those it keeps.
    chunk_segments: list[ChunkSegment] = dataclasses.field(default_factory=list)

    @property
    def index_hash(self) -> str:
        return self.manifest.index_hash

    @property
    def physical(self) -> str:
        return self.manifest.physical or ""

    def chunk_before(self, chunk_id: str) -> Chunk | None:
        """The chunk before `chunk_id` in its document (ids are '<source>#<edition>:<index>'); None for
        a document's first chunk or an id this snapshot does not hold."""
        base, _, index = chunk_id.rpartition(":")
        if not base or not index.isdigit() or int(index) == 0:
            return None
        return self.chunks.get(f"{base}:{int(index) - 1}")


def snapshots_dir(settings: Settings) -> Path:
    return collection_dir(settings) / "snapshots"


def _chunks_from_rows(rows: list[list]) -> dict[str, Chunk]:
    return {row[0]: Chunk(chunk_id=row[0], source=row[1], title=row[2], date=dt.date.fromisoformat(row[3]) if row[3] else None,
                          index=row[4], text=row[5]) for row in rows}


# Views loaded by this process, while something (a serving engine) still holds them, keyed by their
# folder and its files' identities: an index run in the same process reuses the published view
# instead of loading it again (2.9 s at 100k chunks, evals/bench_scale.py).
_loaded: weakref.WeakValueDictionary[tuple, IndexView] = weakref.WeakValueDictionary()


def _files_stamp(folder: Path) -> tuple:
    """Every file of a snapshot folder with its inode, size and mtime: any rewrite changes it."""
    return tuple(sorted((str(p.relative_to(folder)), s.st_ino, s.st_size, s.st_mtime_ns)
                        for p in folder.rglob("*") if p.is_file() for s in (p.stat(),)))


def loaded_view(settings: Settings, manifest: Manifest) -> IndexView | None:
    """The snapshot `manifest` names as this process already holds it loaded, if it does and its
    files are unchanged since (snapshots are immutable; this guards against a repaired or damaged
    folder). For index runs; readers and checks load from disk."""
    if manifest.snapshot is None:
        return None
    folder = snapshots_dir(settings) / manifest.snapshot
    try:
        view = _loaded.get((str(folder), _files_stamp(folder)))
    except OSError:  # pruned or being removed: the caller loads (and reports) it
        return None
    return dataclasses.replace(view, manifest=manifest) if view is not None else None


def load_view(settings: Settings, manifest: Manifest) -> IndexView:
    """Load the snapshot the manifest names. FileNotFoundError when it was pruned meanwhile (the
    caller re-reads the manifest); IndexCorruptError when its files are damaged."""
    if manifest.snapshot is None:
        raise FileNotFoundError(f"collection {manifest.collection!r} has no published snapshot")
    folder = snapshots_dir(settings) / manifest.snapshot
    if not folder.is_dir():
        raise FileNotFoundError(folder)
    repair = f"run: assistant index --repair --collection {settings.store.collection}"
    try:
        stamp = _files_stamp(folder)  # before reading: a change meanwhile makes the stamp miss later, never match wrongly
        segmented = load_chunk_rows(folder)
        rows, chunk_segments = segmented if segmented is not None else (
            json.loads((folder / CHUNKS_FILE).read_text(encoding="utf-8")), [])  # older snapshots: one file
        chunks = _chunks_from_rows(rows)
        passage_terms = PassageTerms.load(folder / PASSAGE_BM25_DIR, chunks)
        sentences = SentenceIndex.load(folder)
        term_counts = TermCounts.load(folder) or TermCounts.of(chunks.values())  # older snapshots: count now
        if sentences is not None and sentences.terms is None:  # older snapshots: tokenise the sentences now
            sentences.terms = BM25Terms.build([chunks[cid].text[int(s):int(e)] for cid, s, e
                                                   in zip(sentences.chunk_ids, sentences.starts, sentences.ends)])
    except (OSError, ValueError, KeyError, IndexError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        if not folder.is_dir():
            raise FileNotFoundError(folder) from exc
        raise IndexCorruptError(f"snapshot {folder} is damaged ({type(exc).__name__}: {exc}); {repair}") from exc
    if passage_terms is None or sentences is None or set(passage_terms.ids) != set(chunks) or set(sentences.chunk_ids) != set(chunks):
        raise IndexCorruptError(f"snapshot {folder} is incomplete or out of step with itself; {repair}")
    view = IndexView(chunks=chunks, passage_terms=passage_terms, sentences=sentences, manifest=manifest,
                     term_counts=term_counts, chunk_segments=chunk_segments)
    _loaded[(str(folder), stamp)] = view
    return view
