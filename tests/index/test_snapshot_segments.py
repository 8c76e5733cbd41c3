"""Snapshots share unchanged sentence-vector segments by hard link: an update writes only the
segments that changed, the loaded view equals a full rebuild's, pruning keeps shared files alive and
a killed update leaves the published snapshot loadable. Real Chroma and MiniLM."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.config import Settings
from assistant.index import vector_segments
from assistant.index.manifest import read_manifest
from assistant.index.vector_segments import (
    SEGMENTS_DIR,
    SegmentedVectors,
    VectorPart,
    assemble_vectors,
)
from assistant.index.view import IndexView, load_view, loaded_view, snapshots_dir
from tests.conftest import make_settings, unique_collection
from tests.index.test_durability import ask_manager, cli, manager, write_corpus


def _segment_files(settings: Settings) -> dict[str, os.stat_result]:
    folder = snapshots_dir(settings) / str(read_manifest(settings).snapshot) / SEGMENTS_DIR
    return {p.name: p.stat() for p in folder.iterdir()}


def _rows(view: IndexView) -> list[tuple[str, int, int, list[str]]]:
    """Every sentence row as (chunk id, start, end, its BM25 tokens): comparable across vocabularies."""
    index, terms = view.sentences, view.sentences.terms
    assert terms is not None
    words = {i: w for w, i in terms.vocab.items()}
    return [(cid, int(s), int(e), [words[int(t)] for t in terms.tokens[terms.offsets[row]:terms.offsets[row + 1]]])
            for row, (cid, s, e) in enumerate(zip(index.chunk_ids, index.starts, index.ends))]


def test_segmented_vectors_index_like_one_array_and_keep_unchanged_segments(monkeypatch: pytest.MonkeyPatch,
                                                                           tmp_path: Path) -> None:
    monkeypatch.setattr(vector_segments, "SEGMENT_CHUNKS", 4)
    rng = np.random.default_rng(0)
    ids = [f"c{i:02d}" for i in range(20)]
    vectors = {c: rng.standard_normal((int(rng.integers(1, 4)), 3)).astype(np.float16) for c in ids}
    first = assemble_vectors(ids, ids, [len(vectors[c]) for c in ids], None, [], lambda i: vectors[ids[i]], 3)
    whole = np.concatenate([vectors[c] for c in ids])
    assert np.array_equal(np.asarray(first), whole) and np.array_equal(first[[0, 5, -1]], whole[[0, 5, -1]])
    assert np.array_equal(first[7], whole[7]) and np.array_equal(first[2:9], whole[2:9])
    first.save(tmp_path / "a")
    loaded = SegmentedVectors.load(tmp_path / "a")
    assert loaded is not None and len(loaded.parts) == len(first.parts) > 2

    row_chunks = [c for c in ids for _ in range(len(vectors[c]))]
    vectors["c09"] = np.ones((2, 3), np.float16)
    changed = ids[:9] + ["c09-new"] + ids[10:]
    vectors["c09-new"] = vectors["c09"]
    second = assemble_vectors(changed, changed, [len(vectors[c]) for c in changed], loaded, row_chunks,
                              lambda i: vectors[changed[i]], 3)
    assert np.array_equal(np.asarray(second), np.concatenate([vectors[c] for c in changed]))
    kept = [p for p in second.parts if p.name is not None]
    assert len(kept) == len(loaded.parts) - 1  # only the segment holding c09 is written anew
    second.save(tmp_path / "b")
    linked = [p for p in (tmp_path / "b" / SEGMENTS_DIR).iterdir() if p.stat().st_nlink == 2]
    assert len(linked) == len(kept)
    with pytest.raises(IndexError):
        SegmentedVectors([VectorPart(whole)], 3)[[len(whole)]]


def test_an_update_links_unchanged_segments_and_equals_a_rebuild(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                embedder) -> None:
    monkeypatch.setattr(vector_segments, "SEGMENT_CHUNKS", 8)
    corpus = write_corpus(tmp_path / "bulletins", 16)
    settings = make_settings(tmp_path / "store", corpus=corpus, store={"collection": unique_collection("segments")})
    engine = Assistant(settings, embedder=embedder)
    engine.index()
    before = _segment_files(settings)
    assert len(before) > 3

    (corpus / "bulletin_007.txt").write_text((corpus / "bulletin_007.txt").read_text() + "A late note: the depot closed.\n")
    report = engine.index()
    assert report.changed == ["bulletin_007.txt"]
    after = _segment_files(settings)
    shared = {name for name, st in after.items() if name in before and st.st_ino == before[name].st_ino}
    assert len(shared) == len(before) - 1 == len(after) - 1  # only the changed document's segment is new
    updated = load_view(settings, read_manifest(settings))

    rebuilt = Assistant(settings, embedder=embedder)
    rebuilt.index(rebuild=True)
    fresh = load_view(settings, read_manifest(settings))
    assert updated.chunks == fresh.chunks and _rows(updated) == _rows(fresh)
    assert np.allclose(np.asarray(updated.sentences.vectors, np.float32), np.asarray(fresh.sentences.vectors, np.float32),
                       atol=2e-3)
    assert updated.passage_terms.ids == fresh.passage_terms.ids
    assert updated.term_counts == fresh.term_counts


def test_pruning_keeps_segments_a_kept_snapshot_links(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, embedder) -> None:
    monkeypatch.setattr(vector_segments, "SEGMENT_CHUNKS", 8)
    corpus = write_corpus(tmp_path / "bulletins", 16)
    settings = make_settings(tmp_path / "store", corpus=corpus, store={"collection": unique_collection("prune")})
    engine = Assistant(settings, embedder=embedder)
    engine.index()
    first = read_manifest(settings).snapshot
    for number in (3, 12, 5):  # three updates: the first snapshot is pruned, its segments live on in the later ones
        path = corpus / f"bulletin_{number:03d}.txt"
        path.write_text(path.read_text() + f"Revision {number}.\n")
        engine.index()
    assert not (snapshots_dir(settings) / str(first)).exists()
    assert len([p for p in snapshots_dir(settings).iterdir()]) == 2
    view = load_view(settings, read_manifest(settings))  # every segment it names is still there
    assert isinstance(view.sentences.vectors, SegmentedVectors) and len(np.asarray(view.sentences.vectors)) == len(view.sentences)
    assert manager(9, "first").split()[1] in Assistant(settings, embedder=embedder, auto_index=False).ask(ask_manager(9)).text


def test_an_index_run_reuses_the_view_this_process_serves(tmp_path: Path, embedder) -> None:
    corpus = write_corpus(tmp_path / "bulletins", 4)
    settings = make_settings(tmp_path / "store", corpus=corpus, store={"collection": unique_collection("reuse")})
    engine = Assistant(settings, embedder=embedder)
    engine.index()
    manifest = read_manifest(settings)
    held = load_view(settings, manifest)
    again = loaded_view(settings, manifest)
    assert again is not None and again.chunks is held.chunks and again.sentences is held.sentences
    listing = snapshots_dir(settings) / str(manifest.snapshot) / "chunk_segments.json"
    listing.write_text(listing.read_text())  # rewritten (a repair, damage): never reused
    assert loaded_view(settings, manifest) is None


@pytest.mark.slow
def test_a_killed_update_leaves_the_segmented_snapshot_loadable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                               embedder) -> None:
    monkeypatch.setattr(vector_segments, "SEGMENT_CHUNKS", 8)
    store = tmp_path / "index"
    corpus = write_corpus(tmp_path / "bulletins", 12)
    name = unique_collection("segkill")
    settings = make_settings(store, corpus=corpus, store={"collection": name})
    Assistant(settings, embedder=embedder).index()
    published = read_manifest(settings)
    write_corpus(corpus, 3, edition="second")
    assert cli(store, "index", "--collection", name, kill_on="publishing a snapshot").killed
    manifest = read_manifest(settings)
    view = load_view(settings, manifest)  # the old snapshot, or the new one if the kill came after its switch
    assert manifest.snapshot in (published.snapshot, *[p.name for p in snapshots_dir(settings).iterdir()])
    assert len(view.sentences) == len(np.asarray(view.sentences.vectors))
    resumed = cli(store, "index", "--collection", name)
    assert resumed.code == 0, resumed.stderr
    fresh = Assistant(settings, embedder=embedder, auto_index=False)
    assert manager(1, "second").split()[1] in fresh.ask(ask_manager(1)).text
    leftovers = [p for p in snapshots_dir(settings).iterdir() if p.name.startswith(".")]
    assert not leftovers
