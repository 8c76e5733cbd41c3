"""Chunk texts live in segment files cut at document ends the documents choose: an update rewrites
only the segments holding changed documents and links the rest, and a snapshot written before
segments (one chunks.json) still loads and is updated."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.config import Settings
from assistant.index import chunk_segments
from assistant.index.chunk_segments import (
    LISTING_FILE,
    SEGMENTS_DIR,
    chunk_rows,
    cut_segments,
)
from assistant.index.manifest import read_manifest
from assistant.index.view import CHUNKS_FILE, load_view, snapshots_dir
from assistant.types import Chunk
from tests.conftest import make_settings, unique_collection
from tests.index.test_durability import write_corpus


def _chunks(counts: dict[str, int]) -> list[Chunk]:
    return [Chunk(chunk_id=f"{source}#e:{i}", source=source, title=source, date=None, index=i, text=f"{source} {i}")
            for source in sorted(counts) for i in range(counts[source])]


def test_cuts_fall_at_document_ends_and_do_not_move_when_an_earlier_document_changes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunk_segments, "SEGMENT_CHUNKS", 6)
    counts = {f"doc{i:03d}": 1 + i % 4 for i in range(60)}
    groups = cut_segments(_chunks(counts))
    assert len(groups) > 5 and sum(map(len, groups)) == sum(counts.values())
    assert all(g[-1].index == counts[g[-1].source] - 1 for g in groups)  # never inside a document
    edited = dict(counts, doc005=9)  # the document grew: only the segment holding it changes
    del edited["doc002"]
    before = [[c.chunk_id for c in g] for g in groups]
    after = [[c.chunk_id for c in g] for g in cut_segments(_chunks(edited))]
    changed = [g for g in after if g not in before]
    assert len(changed) <= 2 and len(after) - len(changed) >= len(before) - 2


def _segment_files(settings: Settings) -> dict[str, int]:
    folder = snapshots_dir(settings) / str(read_manifest(settings).snapshot) / SEGMENTS_DIR
    return {p.name: p.stat().st_ino for p in folder.iterdir()}


@pytest.mark.slow
def test_an_update_links_unchanged_chunk_segments(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, embedder) -> None:
    monkeypatch.setattr(chunk_segments, "SEGMENT_CHUNKS", 2)
    corpus = write_corpus(tmp_path / "bulletins", 16)
    settings = make_settings(tmp_path / "store", corpus=corpus, store={"collection": unique_collection("chunkseg")})
    engine = Assistant(settings, embedder=embedder)
    engine.index()
    before = _segment_files(settings)
    assert len(before) > 3

    (corpus / "bulletin_007.txt").write_text((corpus / "bulletin_007.txt").read_text() + "A late note: the depot closed.\n")
    assert engine.index().changed == ["bulletin_007.txt"]
    after = _segment_files(settings)
    shared = {name for name, inode in after.items() if before.get(name) == inode}
    assert len(shared) >= len(after) - 2 and len(after) - len(shared) >= 1  # the changed document's segment is new
    view = load_view(settings, read_manifest(settings))
    assert any("the depot closed" in c.text for c in view.chunks.values())


@pytest.mark.slow
def test_a_snapshot_with_one_chunks_file_loads_and_updates(tmp_path: Path, embedder) -> None:
    corpus = write_corpus(tmp_path / "bulletins", 6)
    settings = make_settings(tmp_path / "store", corpus=corpus, store={"collection": unique_collection("oldchunks")})
    Assistant(settings, embedder=embedder).index()
    manifest = read_manifest(settings)
    folder = snapshots_dir(settings) / str(manifest.snapshot)
    segmented = load_view(settings, manifest).chunks
    # The layout earlier versions wrote: every chunk in one chunks.json.
    (folder / CHUNKS_FILE).write_text(json.dumps(chunk_rows(list(segmented.values())), ensure_ascii=False))
    (folder / LISTING_FILE).unlink()
    shutil.rmtree(folder / SEGMENTS_DIR)
    old = load_view(settings, manifest)
    assert old.chunks == segmented and not old.chunk_segments

    (corpus / "bulletin_002.txt").write_text((corpus / "bulletin_002.txt").read_text() + "The ferry now stops at Hel.\n")
    engine = Assistant(settings, embedder=embedder)
    assert engine.index().changed == ["bulletin_002.txt"]
    new = load_view(settings, read_manifest(settings))
    assert new.chunk_segments and any("stops at Hel" in c.text for c in new.chunks.values())
