"""Incremental indexing against a real Chroma store and the real MiniLM model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.errors import IndexMismatchError
from assistant.index.manifest import manifest_path
from tests.conftest import make_settings

pytestmark = pytest.mark.slow


def test_incremental_reindex(corpus_copy: Path, engine_factory):
    engine: Assistant = engine_factory(corpus=corpus_copy)
    first = engine.index()
    assert first.documents == 5 and first.chunks_embedded == first.chunks > 5
    assert first.sentences_embedded > first.chunks

    published = manifest_path(engine.settings).read_bytes()
    unchanged = engine.index()
    assert (unchanged.chunks_embedded, unchanged.sentences_embedded) == (0, 0)
    assert unchanged.unchanged == 5 and unchanged.chunks == first.chunks
    assert manifest_path(engine.settings).read_bytes() == published  # nothing changed, nothing republished

    target = corpus_copy / "003_e49305c45f08ffdc.txt"
    target.write_text(target.read_text() + "\n\nNATO opened a liaison office in Odesa in 2031.\n")
    changed = engine.index()
    assert changed.changed == ["003_e49305c45f08ffdc.txt"] and not changed.added and not changed.removed
    own_chunks = json.loads(manifest_path(engine.settings).read_text())["documents"]["003_e49305c45f08ffdc.txt"]["chunks"]
    assert changed.chunks_embedded == own_chunks  # only the changed file's chunks were embedded
    answer = engine.ask("Where did NATO open a liaison office in 2031?")
    assert "Odesa" in answer.text and answer.citations[0].source == "003_e49305c45f08ffdc.txt"

    (corpus_copy / "002_73f85231b0a38a8c.txt").unlink()
    removed = engine.index()
    assert removed.removed == ["002_73f85231b0a38a8c.txt"] and removed.chunks_embedded == 0
    sources = {r.chunk.source for r in engine.stored_collection().records()}
    assert "002_73f85231b0a38a8c.txt" not in sources and len(sources) == 4
    assert all(not cid.startswith("002_") for cid in engine.view().passage_terms.ids)          # BM25 in step
    assert all(not cid.startswith("002_") for cid in engine.view().sentences.chunk_ids)  # sentence index in step


def test_manifest_mismatch_names_rebuild_command(tmp_path: Path, embedder):
    settings = make_settings(tmp_path / "store")
    Assistant(settings, embedder=embedder).index()
    other = settings.with_(chunking={"chunk_size": 120, "chunk_overlap": 20})
    with pytest.raises(IndexMismatchError, match=rf"chunk_size.*assistant index --collection {settings.store.collection} --rebuild"):
        Assistant(other, embedder=embedder).ask("What is the JATEC center?")
    rebuilt = Assistant(other, embedder=embedder).index(rebuild=True)
    assert rebuilt.chunks_embedded == rebuilt.chunks > 0
    assert Assistant(other, embedder=embedder).ask("What is the JATEC center?").citations


def test_first_ask_builds_missing_index(engine_factory):
    engine = engine_factory()
    assert engine.info()["status"].startswith("never built")
    answer = engine.ask("In which city in Poland did the Ukrainian delegation meet NATO representatives?")
    assert "Bydgoszcz" in answer.text
    assert engine.info()["documents"] == 5


def test_uploads_added_without_losing_anything(engine_factory, tmp_path: Path):
    engine = engine_factory()
    engine.index()
    note = tmp_path / "harbour.md"
    note.write_text("# Harbour report\n\nThe new harbour crane in Gdynia lifts 90 tonnes.")
    bad = tmp_path / "image.txt"
    bad.write_bytes(b"\x00\x01\x02binary")
    report = engine.add_files([note, bad])
    assert report.added == ["upload:harbour.md"] and [s for s, _ in report.skipped] == ["upload:image.txt"]
    assert report.documents == 6
    assert "90 tonnes" in engine.ask("How much can the Gdynia harbour crane lift?").text
    again = engine.index()  # a corpus re-index keeps uploads
    assert not again.removed and again.documents == 6
