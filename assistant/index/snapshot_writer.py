"""Writing snapshots: a new folder is filled under a temporary name, renamed into place, and only
then named by the manifest. Old snapshots are pruned after readers have had time to switch."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path

from assistant import atomic
from assistant.config import Settings
from assistant.errors import SnapshotUnavailableError
from assistant.index.chunk_segments import save_chunks
from assistant.index.disk_space import check_free_space
from assistant.index.manifest import Manifest
from assistant.index.passage_terms import PassageTerms
from assistant.index.records import StoredChunk
from assistant.index.sentence_index import SentenceIndex
from assistant.index.sentence_vectors import snapshot_sentence_index
from assistant.index.term_counts import TermCounts
from assistant.index.vector_store import VectorCollection, VectorStore
from assistant.index.view import (
    PASSAGE_BM25_DIR,
    IndexView,
    load_view,
    snapshots_dir,
)
from assistant.types import Chunk

_KEEP_OLD = 1  # snapshots kept besides the current one, for readers still loading the previous


def write_snapshot(settings: Settings, chunks: Sequence[Chunk], sentences: SentenceIndex, *,
                   previous: IndexView | None = None, snapshot_id: str | None = None) -> str:
    """Write a complete snapshot folder and return its id (not yet named by the manifest). Term
    counts are carried over from `previous` and updated by the chunks that changed. A replica
    deriving a snapshot another process published passes that snapshot's id."""
    check_free_space(settings, "stopped before writing a new snapshot (Chroma's records are kept; "
                               "the current snapshot stays published)")
    root = snapshots_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    snapshot_id = snapshot_id or secrets.token_hex(6)
    staging = root / f".{snapshot_id}.{secrets.token_hex(4)}.tmp"
    try:
        staging.mkdir()
        save_chunks(staging, chunks, previous.chunk_segments if previous is not None else [],
                    previous.chunks if previous is not None else {})
        passage_terms = PassageTerms.of_chunks(chunks, previous.passage_terms if previous is not None else None,
                                               previous.chunks if previous is not None else {})
        passage_terms.save(staging / PASSAGE_BM25_DIR)
        sentences.save(staging)
        term_counts(chunks, previous).save(staging)
        atomic.publish_folder(staging, root / snapshot_id)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if (root / snapshot_id).is_dir():  # another process in this folder derived the same snapshot first
            return snapshot_id
        raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return snapshot_id


def derive_snapshot(settings: Settings, collection: VectorCollection, manifest: Manifest,
                    previous: IndexView | None) -> None:
    """Write this process's copy of the snapshot `manifest` names, from the Chroma server's records
    (nothing is embedded): replicas sharing a server share no folder. Documents whose edition the
    `previous` snapshot already holds are taken from it, so a one-file change reads one file's
    records. SnapshotUnavailableError when the server no longer holds that edition (a newer run
    replaced it: read the manifest again)."""
    assert manifest.snapshot is not None
    if previous is not None and previous.physical != manifest.physical:
        previous = None  # a rebuild: nothing carries over
    kept_docs = {source for source, entry in manifest.documents.items()
                 if previous is not None and previous.manifest.documents.get(source) == entry}
    final = [c for c in (previous.chunks.values() if previous is not None else ()) if c.source in kept_docs]
    needed = [source for source in manifest.documents if source not in kept_docs]
    fetched = collection.records() if previous is None else collection.records(sources=needed)
    records = [r for r in fetched
               if r.chunk.source in manifest.documents and r.doc_hash == manifest.documents[r.chunk.source].hash]
    found: dict[str, int] = {}
    for record in records:
        found[record.chunk.source] = found.get(record.chunk.source, 0) + 1
    short = [s for s in needed if found.get(s, 0) != manifest.documents[s].chunks]
    if short:
        raise SnapshotUnavailableError(f"the Chroma server does not hold the indexed edition of {short[0]!r} "
                                       f"(of {len(short)} documents); a newer index run may have replaced it")
    final.extend(r.chunk for r in records)
    final.sort(key=lambda c: (c.source, c.index))
    pieces = {r.chunk.chunk_id: (r.spans, r.vectors) for r in records}
    sentences = snapshot_sentence_index(final, previous, pieces, _dimension(records, previous))
    write_snapshot(settings, final, sentences, previous=previous, snapshot_id=manifest.snapshot)


def load_or_derive_view(settings: Settings, store: VectorStore, manifest: Manifest,
                        previous: IndexView | None) -> IndexView:
    """The snapshot `manifest` names; with a Chroma server, one this process lacks is derived from
    the server first. FileNotFoundError (local store) or SnapshotUnavailableError when it is gone."""
    try:
        return load_view(settings, manifest)
    except FileNotFoundError:
        if not settings.store.chroma_url or manifest.physical is None:
            raise
    derive_snapshot(settings, store.open(manifest.physical, create=False), manifest, previous)
    view = load_view(settings, manifest)
    prune_snapshots(settings, manifest.snapshot)  # a reading replica never publishes, so it prunes here
    return view


def _dimension(records: Sequence[StoredChunk], previous: IndexView | None) -> int:
    if previous is not None:
        return int(previous.sentences.vectors.shape[1])
    return int(records[0].vectors.shape[1]) if records else 0


def term_counts(chunks: Sequence[Chunk], previous: IndexView | None) -> TermCounts:
    if previous is None:
        return TermCounts.of(chunks)
    kept = {c.chunk_id for c in chunks}
    removed = [c for cid, c in previous.chunks.items() if cid not in kept]
    added = [c for c in chunks if c.chunk_id not in previous.chunks]
    return previous.term_counts.updated(removed=removed, added=added)


def prune_snapshots(settings: Settings, current: str) -> None:
    """Remove all but the current and the most recent older snapshots, and any staging leftovers."""
    root = snapshots_dir(settings)
    if not root.is_dir():
        return
    folders = [p for p in root.iterdir() if p.is_dir() and p.name != current]
    leftovers = [p for p in folders if p.name.startswith(".")]
    finished = sorted((p for p in folders if not p.name.startswith(".")), key=lambda p: p.stat().st_mtime, reverse=True)
    for folder in leftovers + finished[_KEEP_OLD:]:
        _remove_inside(root, folder)


def _remove_inside(root: Path, folder: Path) -> None:
    """Delete a folder only if it really is inside `root` (never follow a link out of the index)."""
    if folder.is_symlink() or folder.resolve().parent != root.resolve():
        return
    shutil.rmtree(folder, ignore_errors=True)
