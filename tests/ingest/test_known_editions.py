"""An input whose digest the caller knows is not read again; any change to it (or to the reader's
version) makes it read again."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.errors import JsonlFormatError
from assistant.ingest import cleaning, editions, load_corpus, loaders
from assistant.ingest.editions import KnownEdition
from assistant.ingest.loaders import LoadReport

SETTINGS = load_settings().corpus


def _known(report: LoadReport) -> dict[str, KnownEdition]:
    hashes = {d.source: d.content_hash for d in report.documents}
    hashes.update({e.source: e.content_hash for e in report.unchanged})
    return {digest: KnownEdition(source, hashes[source]) for source, digest in report.digests.items()}


def count_cleaning(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts `clean_text` is called on from now on (an unchanged input must not be among them)."""
    cleaned: list[str] = []
    original = cleaning.clean_text

    def counting(text: str) -> str:
        cleaned.append(text)
        return original(text)

    monkeypatch.setattr(cleaning, "clean_text", counting)
    return cleaned


def _write_lines(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


RECORDS = [{"id": f"r{i}", "title": f"Record_{i}", "text": f"Record {i} says the ferry leaves at {i} o'clock."}
           for i in range(5)]


def test_a_jsonl_corpus_reads_only_changed_and_new_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus.jsonl"
    _write_lines(corpus, RECORDS)
    first = load_corpus(corpus, SETTINGS)
    assert len(first.documents) == 5 and not first.unchanged and len(first.digests) == 5

    edited = [dict(r) for r in RECORDS]
    edited[2]["text"] += " It was revised."
    edited[4]["title"] = "Renamed"  # a title-only edit is a change too
    del edited[0]
    edited.append({"id": "r9", "text": "A new record about the harbour."})
    _write_lines(corpus, edited)
    cleaned = count_cleaning(monkeypatch)
    second = load_corpus(corpus, SETTINGS, _known(first))
    assert sorted(d.source for d in second.documents) == ["r2", "r4", "r9"]  # the changed lines ARE read
    assert "It was revised." in next(d.text for d in second.documents if d.source == "r2")
    assert len(cleaned) == 3  # ...and only they
    assert sorted(e.source for e in second.unchanged) == ["r1", "r3"]
    fresh = load_corpus(corpus, SETTINGS)
    fresh_hashes = {d.source: d.content_hash for d in fresh.documents}
    assert {e.source: e.content_hash for e in second.unchanged} == {s: fresh_hashes[s] for s in ("r1", "r3")}
    assert second.digests == fresh.digests  # the same digests a full read records


def test_a_known_line_still_counts_for_duplicate_ids(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    _write_lines(corpus, RECORDS[:2])
    known = _known(load_corpus(corpus, SETTINGS))
    _write_lines(corpus, RECORDS[:2] + [{"id": "r1", "text": "Another text under a used id."}])
    with pytest.raises(JsonlFormatError, match=r"corpus\.jsonl:3: duplicate id 'r1'"):
        load_corpus(corpus, SETTINGS, known)


def test_a_new_reader_version_reads_everything_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus.jsonl"
    _write_lines(corpus, RECORDS)
    known = _known(load_corpus(corpus, SETTINGS))
    assert len(load_corpus(corpus, SETTINGS, known).unchanged) == 5
    monkeypatch.setattr(editions, "READER_VERSION", editions.READER_VERSION + "-next")
    again = load_corpus(corpus, SETTINGS, known)
    assert not again.unchanged and len(again.documents) == 5


def test_a_folder_reads_only_changed_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for i in range(4):
        (folder / f"note_{i}.md").write_text(f"# Note {i}\n\nThe depot {i} opens at nine.\n")
    (folder / "table.jsonl").write_text(json.dumps({"id": "a", "text": "A record in a folder."}) + "\n")
    first = load_corpus(folder, SETTINGS)
    assert "table.jsonl#a" not in first.digests  # records files inside a folder are always read
    known = _known(first)

    # Same size, same mtime: only the bytes differ, and that is enough.
    stat = (folder / "note_1.md").stat()
    (folder / "note_1.md").write_text("# Note 1\n\nThe depot 1 opens at noon.\n")
    os.utime(folder / "note_1.md", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    (folder / "note_3.md").unlink()
    cleaned = count_cleaning(monkeypatch)
    second = load_corpus(folder, SETTINGS, known)
    assert sorted(d.source for d in second.documents) == ["note_1.md", "table.jsonl#a"]
    assert "noon" in next(d.text for d in second.documents if d.source == "note_1.md")
    assert len(cleaned) == 2
    assert sorted(e.source for e in second.unchanged) == ["note_0.md", "note_2.md"]
    assert second.digests == load_corpus(folder, SETTINGS).digests


def test_a_file_changed_while_read_or_with_a_repaired_name_gets_no_digest(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "steady.md").write_text("The depot opens at nine.\n")
    (folder / "moving.md").write_text("The depot opens at ten.\n")
    (folder / os.fsdecode(b"caf\xe9.md")).write_text("A name that is not UTF-8.\n")
    original = loaders._load_file

    def rewriting(path: Path, source: str, *args):
        documents = original(path, source, *args)
        if source == "moving.md":
            path.write_text("The depot opens at eleven.\n")  # written after its digest was taken
        return documents

    monkeypatch.setattr(loaders, "_load_file", rewriting)
    report = load_corpus(folder, SETTINGS)
    assert len(report.documents) == 3 and set(report.digests) == {"steady.md"}
