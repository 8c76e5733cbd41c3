"""An update does not read unchanged inputs again (their editions come from the published
snapshot), reads every changed one, and publishes exactly what a full rebuild of the same corpus
publishes. Real Chroma and MiniLM."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.config import Settings
from assistant.index.manifest import read_manifest, write_manifest
from assistant.index.view import IndexView, load_view
from tests.conftest import make_settings, unique_collection
from tests.index.test_snapshot_segments import _rows
from tests.ingest.test_known_editions import count_cleaning

pytestmark = pytest.mark.slow


def _passage_rows(view: IndexView) -> list[tuple[str, list[str]]]:
    terms = view.passage_terms.terms
    words = {i: w for w, i in terms.vocab.items()}
    return [(cid, [words[int(t)] for t in terms.tokens[terms.offsets[row]:terms.offsets[row + 1]]])
            for row, cid in enumerate(view.passage_terms.ids)]


def _published(settings: Settings) -> IndexView:
    return load_view(settings, read_manifest(settings))


def _assert_same_snapshot(updated: Settings, rebuilt: Settings) -> None:
    a, b = _published(updated), _published(rebuilt)
    assert list(a.chunks) == list(b.chunks) and a.chunks == b.chunks
    assert _rows(a) == _rows(b) and _passage_rows(a) == _passage_rows(b)
    assert np.allclose(np.asarray(a.sentences.vectors, np.float32), np.asarray(b.sentences.vectors, np.float32), atol=2e-3)
    assert a.term_counts == b.term_counts
    assert a.manifest.documents == b.manifest.documents and a.manifest.index_hash == b.manifest.index_hash


def _record(i: int, extra: str = "") -> dict:
    return {"id": f"depot-{i}", "title": f"Depot_{i}",
            "text": f"Depot {i} in Gdynia opens at {i + 6} o'clock. It stores grain and timber for the port.{extra}"}


def _write(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def _settings(tmp_path: Path, name: str, corpus: Path) -> Settings:
    return make_settings(tmp_path / name, corpus=corpus, store={"collection": unique_collection("reads")})


def test_a_jsonl_update_reads_changed_lines_only_and_equals_a_rebuild(tmp_path: Path, embedder,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "depots.jsonl"
    _write(corpus, [_record(i) for i in range(8)])
    settings = _settings(tmp_path, "updated", corpus)
    engine = Assistant(settings, embedder=embedder)
    engine.index()

    records = [_record(i) for i in range(8)]
    records[3] = _record(3, " A fire closed it in 2031.")
    del records[5]
    records.append(_record(11))
    _write(corpus, records)
    cleaned = count_cleaning(monkeypatch)
    report = engine.index()
    assert (report.changed, report.added, report.removed) == (["depot-3"], ["depot-11"], ["depot-5"])
    assert len(cleaned) == 2 and report.unchanged == 6  # the unchanged lines were not cleaned again
    assert "A fire closed it in 2031." in engine.view().chunks[next(c for c in engine.view().chunks if c.startswith("depot-3#"))].text

    rebuilt = _settings(tmp_path, "rebuilt", corpus)
    Assistant(rebuilt, embedder=embedder).index()
    _assert_same_snapshot(settings, rebuilt)

    noop = engine.index()
    assert (noop.changed, noop.added, noop.removed, noop.chunks_embedded) == ([], [], [], 0)


def test_a_folder_update_reads_changed_files_only_and_equals_a_rebuild(tmp_path: Path, embedder,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "depots"
    corpus.mkdir()
    for i in range(6):
        (corpus / f"depot_{i}.md").write_text(f"# Depot {i}\n\n{_record(i)['text']}\n")
    (corpus / "ledger.jsonl").write_text(json.dumps(_record(20)) + "\n")  # a records file: always read
    settings = _settings(tmp_path, "updated", corpus)
    engine = Assistant(settings, embedder=embedder)
    engine.index()

    (corpus / "depot_2.md").write_text(f"# Depot 2\n\n{_record(2, ' It moved to Gdansk in 2032.')['text']}\n")
    (corpus / "depot_4.md").unlink()
    (corpus / "depot_9.md").write_text(f"# Depot 9\n\n{_record(9)['text']}\n")
    cleaned = count_cleaning(monkeypatch)
    report = engine.index()
    assert (report.changed, report.added, report.removed) == (["depot_2.md"], ["depot_9.md"], ["depot_4.md"])
    assert len(cleaned) == 3  # the two changed or new files and the records file
    assert any("It moved to Gdansk in 2032." in c.text for c in engine.view().chunks.values())

    rebuilt = _settings(tmp_path, "rebuilt", corpus)
    Assistant(rebuilt, embedder=embedder).index()
    _assert_same_snapshot(settings, rebuilt)


def test_a_rebuild_reads_every_input_again(tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "depots.jsonl"
    _write(corpus, [_record(i) for i in range(4)])
    engine = Assistant(_settings(tmp_path, "store", corpus), embedder=embedder)
    engine.index()
    cleaned = count_cleaning(monkeypatch)
    report = engine.index(rebuild=True)
    assert len(cleaned) == 4 and report.chunks_embedded == report.chunks


def test_a_manifest_without_digests_is_read_once_then_skipped(tmp_path: Path, embedder,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "depots.jsonl"
    _write(corpus, [_record(i) for i in range(4)])
    settings = _settings(tmp_path, "store", corpus)
    engine = Assistant(settings, embedder=embedder)
    engine.index()
    manifest = read_manifest(settings)
    assert manifest is not None and all(entry.digest for entry in manifest.documents.values())
    # As an earlier version wrote it: no digests.
    write_manifest(settings, manifest.with_(documents={source: entry.model_copy(update={"digest": ""})
                                                       for source, entry in manifest.documents.items()}))
    cleaned = count_cleaning(monkeypatch)
    first = engine.index()
    assert len(cleaned) == 4 and first.unchanged == 4 and first.chunks_embedded == 0
    again = engine.index()
    assert len(cleaned) == 4 and again.unchanged == 4  # the digests were recorded: nothing read this time
    assert read_manifest(settings).documents == manifest.documents
