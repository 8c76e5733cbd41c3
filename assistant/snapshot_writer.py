"""Writing snapshots: a new folder is filled under a temporary name, renamed into place, and only
then named by the manifest. Old snapshots are pruned after readers have had time to switch."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path

from assistant import atomic
from assistant.config import Settings
from assistant.index_view import CHUNKS_FILE, PASSAGE_BM25_DIR, chunk_rows, snapshots_dir
from assistant.keyword import KeywordIndex
from assistant.sentence_index import SentenceIndex
from assistant.types import Chunk

_KEEP_OLD = 1  # snapshots kept besides the current one, for readers still loading the previous


def build_passage_keyword_index(chunks: Sequence[Chunk]) -> KeywordIndex:
    """Passage BM25 over each chunk's text headed by its document's title: a chunk cut from the
    middle of a document still matches the words of what the document is about (+1.4 points of
    R@1 on SQuAD dev, see evals/results/tuning.json)."""
    return KeywordIndex.build([c.chunk_id for c in chunks], [f"{c.title}\n{c.text}" if c.title else c.text for c in chunks])


def write_snapshot(settings: Settings, chunks: Sequence[Chunk], sentences: SentenceIndex) -> str:
    """Write a complete snapshot folder and return its id (not yet named by the manifest)."""
    root = snapshots_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    snapshot_id = secrets.token_hex(6)
    staging = root / f".{snapshot_id}.tmp"
    try:
        staging.mkdir()
        atomic.write_text(staging / CHUNKS_FILE, json.dumps(chunk_rows(list(chunks)), ensure_ascii=False))
        build_passage_keyword_index(chunks).save(staging / PASSAGE_BM25_DIR)
        sentences.save(staging)
        atomic.publish_folder(staging, root / snapshot_id)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return snapshot_id


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
