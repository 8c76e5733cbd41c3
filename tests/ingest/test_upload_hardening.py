"""Uploads a hostile user can send: refused before they are stored, quarantined when a stored one stops
loading, named safely, and removable. Real files, a real Chroma store, the real embedder and CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from servers import clean_env

from assistant import Assistant
from assistant.config import PROJECT_ROOT
from assistant.errors import (
    DocumentNotFoundError,
    IndexMissingError,
    InvalidQuestionError,
    UploadError,
)
from assistant.ingest.uploads import (
    UPLOAD_NAME_MAX_BYTES,
    check_upload_name,
    list_uploads,
    quarantine_dir,
    safe_name,
    upload_dir,
)
from assistant.validation import validate_question

KILN = """ date 2024-03-01 The Brattvik kiln

The Brattvik kiln was built by the potter Ylva Strand in 1911 and fires stoneware at 1280 degrees.
It is fed with birch wood for thirty hours before each opening.
"""
FERRY = """ date 2024-05-12 The Oddholm ferry

The Oddholm ferry carries forty cars between the islands every hour. Its captain, Tor Lindqvist, has sailed the route since 2009.
"""
# The stdlib mail parser raises AttributeError on these address headers (not an email.errors type).
POISONED_TO_HEADERS = ("a:b:c;d", "a@[")


def poisoned_eml(to_header: str) -> bytes:
    return (f"From: someone@example.org\r\nTo: {to_header}\r\nSubject: Quarterly kiln report\r\n"
            "Date: Tue, 04 Jun 2024 09:30:00 +0000\r\n\r\nThe kiln was fired twice this quarter.\r\n").encode()


@pytest.fixture
def small_engine(engine_factory, tmp_path: Path) -> Assistant:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kiln.md").write_text(KILN, encoding="utf-8")
    engine = engine_factory(corpus=corpus)
    engine.index()
    return engine


# -- pure logic: names ---------------------------------------------------------------------------------------
def test_names_are_nfc_without_bidi_or_control_characters() -> None:
    composed, decomposed = unicodedata.normalize("NFC", "café.md"), unicodedata.normalize("NFD", "café.md")
    assert composed != decomposed and safe_name(composed) == safe_name(decomposed) == composed
    assert safe_name("invoice\u202egpj.md") == "invoicegpj.md"         # a right-to-left override would make the name lie
    assert safe_name("zero\u200bwidth\x07.md") == "zerowidth.md"
    assert safe_name("../../etc/passwd.md") == "passwd.md"
    assert safe_name("..\\..\\boot.ini.txt") == "boot.ini.txt"
    assert safe_name("\u202e") == "upload"
    assert safe_name("...txt") == safe_name(".txt") == "upload.txt"  # all extension: it keeps it, and a stem


@pytest.mark.parametrize("name", ["é" * 199 + ".md", "\U0001F600" * 120 + ".md"])
def test_a_name_too_long_for_the_file_system_is_refused_in_one_line(name: str) -> None:
    with pytest.raises(UploadError, match=rf"over the {UPLOAD_NAME_MAX_BYTES}-byte limit; rename the file") as caught:
        check_upload_name(safe_name(name))
    assert "\n" not in str(caught.value)
    check_upload_name("é" * 90 + ".md")  # 184 bytes: fits


def test_a_question_with_a_lone_surrogate_is_a_one_line_error() -> None:
    with pytest.raises(InvalidQuestionError, match=r"not valid Unicode \(U\+D800, a lone surrogate, at position 4\)"):
        validate_question("Who \ud800 built the kiln?", 2000)


# -- the library: refused before stored, quarantine, removal ------------------------------------------------
def test_adding_to_a_collection_never_built_stores_no_file(engine_factory, tmp_path: Path) -> None:
    ferry = tmp_path / "ferry.md"
    ferry.write_text(FERRY, encoding="utf-8")
    engine = engine_factory(corpus=tmp_path / "no-corpus-yet")
    with pytest.raises(IndexMissingError, match="no collection named"):
        engine.add_files([ferry])
    assert list_uploads(engine.settings) == []  # a later `assistant index` does not pick up the refused file
    assert ferry.read_text(encoding="utf-8") == FERRY


@pytest.mark.slow
@pytest.mark.parametrize("to_header", POISONED_TO_HEADERS)
def test_an_unloadable_upload_is_refused_before_it_is_stored(small_engine: Assistant, tmp_path: Path, to_header: str) -> None:
    bad, good = tmp_path / "bad.eml", tmp_path / "ferry.md"
    bad.write_bytes(poisoned_eml(to_header))
    good.write_text(FERRY, encoding="utf-8")
    report = small_engine.add_files([bad, good])
    assert report.added == ["upload:ferry.md"]
    reasons = dict(report.skipped)
    assert "upload:bad.eml" in reasons and "AttributeError" in reasons["upload:bad.eml"]
    assert "\n" not in reasons["upload:bad.eml"]
    assert [f.name for f in list_uploads(small_engine.settings)] == ["ferry.md"]
    assert not list((upload_dir(small_engine.settings) / ".incoming").iterdir())
    # The next full run reads only what was stored, and the kiln and the ferry both answer.
    again = small_engine.index()
    assert not again.skipped and again.documents == 2
    assert small_engine.ask("Who captains the Oddholm ferry?").citations[0].source == "upload:ferry.md"


@pytest.mark.slow
def test_names_sent_twice_in_nfc_and_nfd_are_one_document(small_engine: Assistant, tmp_path: Path) -> None:
    for form in ("NFC", "NFD"):
        path = tmp_path / form / "ferry.md"
        path.parent.mkdir()
        path.write_text(FERRY, encoding="utf-8")
        small_engine.add_files([path], names=[unicodedata.normalize(form, "färja.md")])
    assert [f.name for f in list_uploads(small_engine.settings)] == [unicodedata.normalize("NFC", "färja.md")]


@pytest.mark.slow
def test_a_stored_upload_that_stops_loading_is_quarantined_and_kept_answerable(small_engine: Assistant, tmp_path: Path) -> None:
    records = tmp_path / "ferries.json"
    records.write_text(json.dumps([{"id": "oddholm", "title": "The Oddholm ferry", "text": FERRY}]), encoding="utf-8")
    small_engine.add_files([records])
    stored = upload_dir(small_engine.settings) / "ferries.json"
    stored.write_text("{ this is no longer JSON", encoding="utf-8")  # e.g. damaged on disk after it was indexed

    report = small_engine.index()
    assert "upload:ferries.json" in dict(report.skipped)
    assert not stored.exists() and (quarantine_dir(small_engine.settings) / "ferries.json").is_file()
    info = small_engine.info()
    assert list(info["quarantined"]) == ["ferries.json"] and "not valid JSON" in info["quarantined"]["ferries.json"]
    # Its earlier edition keeps answering; the next run does not read the file again.
    assert small_engine.ask("Who captains the Oddholm ferry?").citations[0].source == "upload:ferries.json#oddholm"
    second = dict(small_engine.index().skipped)
    assert second["upload:ferries.json"].startswith("quarantined (")

    removed = small_engine.remove_documents(["ferries.json"])
    assert removed.removed == ["upload:ferries.json#oddholm"]
    assert not list_uploads(small_engine.settings) and small_engine.info()["quarantined"] == {}
    assert all(c.source == "kiln.md" for c in small_engine.ask("Who captains the Oddholm ferry?").citations)


@pytest.mark.slow
def test_removing_an_upload_drops_its_chunks_and_keeps_the_rest(small_engine: Assistant, tmp_path: Path) -> None:
    ferry = tmp_path / "ferry.md"
    ferry.write_text(FERRY, encoding="utf-8")
    small_engine.add_files([ferry])
    before = small_engine.view().manifest.chunks
    with pytest.raises(DocumentNotFoundError, match=r"no uploaded document named ferri\.md; its uploaded documents are: ferry\.md"):
        small_engine.remove_documents(["ferri.md"])
    assert small_engine.view().manifest.chunks == before  # a typo deletes nothing
    report = small_engine.remove_documents(["ferry.md"])
    assert report.removed == ["upload:ferry.md"] and report.chunks < before
    assert not (upload_dir(small_engine.settings) / "ferry.md").exists()
    assert "upload:ferry.md" not in small_engine.view().manifest.documents
    assert "Ylva Strand" in small_engine.ask("Who built the Brattvik kiln?").text


# -- the real CLI ---------------------------------------------------------------------------------------------
def run_cli(*args: str, store: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=cwd, env=clean_env(store), capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_cli_add_documents_and_remove(tmp_path: Path) -> None:
    corpus, store = tmp_path / "corpus", tmp_path / "store"
    corpus.mkdir()
    (corpus / "kiln.md").write_text(KILN, encoding="utf-8")
    (tmp_path / "bad.eml").write_bytes(poisoned_eml(POISONED_TO_HEADERS[0]))
    (tmp_path / "ferry.md").write_text(FERRY, encoding="utf-8")
    assert run_cli("index", "--corpus", str(corpus), "--collection", "pottery", "--quiet", store=store, cwd=PROJECT_ROOT).returncode == 0

    added = run_cli("add", "bad.eml", "ferry.md", "--collection", "pottery", store=store, cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert "warning: skipped upload:bad.eml:" in added.stderr and "+1 new" in added.stdout
    junk = tmp_path / "scan.pdf"
    junk.write_bytes(b"\x00\x01 not a pdf " * 20)
    refused = run_cli("add", "scan.pdf", "--collection", "pottery", store=store, cwd=tmp_path)
    lines = [line for line in refused.stderr.splitlines() if "scan.pdf" in line or "pdf" in line.lower()]
    assert refused.returncode == 2 and len(lines) == 1, refused.stderr  # said once, no parser's own warnings
    assert lines[0].startswith("warning: skipped upload:scan.pdf: is not a readable PDF")
    listed = run_cli("documents", "--collection", "pottery", store=store, cwd=tmp_path)
    assert listed.stdout.startswith("ferry.md  (") and "bad.eml" not in listed.stdout
    index = run_cli("index", "--collection", "pottery", "--quiet", store=store, cwd=tmp_path)
    assert index.returncode == 0 and "skipped" not in index.stdout + index.stderr

    typo = run_cli("remove", "fery.md", "--collection", "pottery", store=store, cwd=tmp_path)
    assert typo.returncode == 2
    assert typo.stderr.strip() == ("error: collection 'pottery' has no uploaded document named fery.md; "
                                   "its uploaded documents are: ferry.md")
    removed = run_cli("remove", "ferry.md", "--collection", "pottery", store=store, cwd=tmp_path)
    assert removed.returncode == 0 and "-1 removed" in removed.stdout
    assert "no uploaded documents" in run_cli("documents", "--collection", "pottery", store=store, cwd=tmp_path).stdout
