"""The CLI: typed library errors become one line on stderr and exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_settings

from assistant import Assistant
from assistant.config import PROJECT_ROOT
from assistant.serving.cli import main


def run_cli(*args: str, env_store: Path) -> subprocess.CompletedProcess:
    env = {"ASSISTANT_INDEX_DIR": str(env_store), "PATH": "/usr/bin:/bin", "HOME": str(env_store)}
    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=600, env={**__import__("os").environ, **env})


def test_empty_question_is_one_line_exit_2(capsys: pytest.CaptureFixture, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path))
    assert main(["ask", "   "]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: the question is empty: type a question about your documents"


def test_missing_corpus_is_one_line_exit_2(capsys: pytest.CaptureFixture, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path))
    assert main(["index", "--corpus", str(tmp_path / "nowhere"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: corpus not found") and "--corpus" in err[0]


def test_bad_setting_is_one_line_exit_2(capsys: pytest.CaptureFixture, monkeypatch):
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__TOP_K", "lots")
    assert main(["info"]) == 2
    assert capsys.readouterr().err.strip().startswith("error: invalid setting retrieval.top_k")


def test_bad_date_flag_is_usage_error(tmp_path: Path):
    result = run_cli("ask", "What is the JATEC center?", "--date-from", "June 2024", env_store=tmp_path)
    assert result.returncode == 2 and "not a date like 2024-06-30" in result.stderr


@pytest.mark.slow
def test_index_ask_json_and_info(tmp_path: Path):
    index = run_cli("index", "--collection", "cli-test", env_store=tmp_path)
    assert index.returncode == 0, index.stderr
    assert "cli-test: 5 documents" in index.stdout
    assert "abstention threshold" in index.stderr, "index probes the collection so the first ask need not"
    assert "cli-test: 5 documents" in index.stdout.strip().splitlines()[-1], "the summary stays stdout's last line"
    asked = run_cli("ask", "In which city in Poland did the Ukrainian delegation meet NATO representatives?", "--json", "--collection", "cli-test", env_store=tmp_path)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert "Bydgoszcz" in answer["text"] and answer["citations"][0]["source"].endswith(".txt")
    filtered = run_cli("ask", "In which city in Poland did the Ukrainian delegation meet NATO representatives?", "--json", "--collection", "cli-test",
                       "--date-from", "2024-11-01", env_store=tmp_path)
    assert {c["source"] for c in json.loads(filtered.stdout)["citations"]} <= {"000_41cde8d9d66dd8ed.txt"}
    info = run_cli("info", "--json", "--collection", "cli-test", env_store=tmp_path)
    details = json.loads(info.stdout)
    assert details["documents"] == 5 and details["embedding_model"] == "all-MiniLM-L6-v2" and str(tmp_path) in details["store"]
    assert 0 < details["abstention_threshold"] < 1


@pytest.mark.slow
def test_add_indexes_files_next_to_the_corpus_and_reports_refused_ones(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kiln.txt").write_text("The Brask pottery fires its kiln every Thursday at 1,250 degrees.", encoding="utf-8")
    store = tmp_path / "store"
    assert run_cli("index", "--collection", "cli-add", "--corpus", str(corpus), "--quiet", env_store=store).returncode == 0
    note = tmp_path / "glaze.md"
    note.write_text("# Glazes\n\nThe Brask pottery mixes its blue glaze from cobalt oxide and feldspar.\n", encoding="utf-8")
    binary = tmp_path / "tool.exe"
    binary.write_bytes(b"MZ")
    added = run_cli("add", str(note), str(binary), "--collection", "cli-add", env_store=store)
    assert added.returncode == 0, added.stderr
    assert "warning: skipped" in added.stderr and ".exe files are not supported" in added.stderr
    assert "+1 new" in added.stdout and "2 documents" in added.stdout
    asked = run_cli("ask", "What is the blue glaze made from?", "--collection", "cli-add", "--json", env_store=store)
    answer = json.loads(asked.stdout)
    assert not answer["abstained"] and answer["citations"][0]["source"] == "upload:glaze.md"
    nothing = run_cli("add", str(binary), "--collection", "cli-add", env_store=store)
    lines = nothing.stderr.strip().splitlines()
    assert nothing.returncode == 2 and lines[-1] == "error: none of the files can be indexed; see the warnings above"


KILN = "The Brask pottery fires its kiln every Thursday at 1,250 degrees.\n"
# A document (and a file name) carrying terminal control sequences: clear the screen, retitle the window, blink.
HOSTILE = "The Brask vault is in Geneva \x1b[2J\x1b]0;pwned\x07 near the lake.\n"
HOSTILE_NAME = "vault\x1b[5m.txt"


@pytest.fixture
def kiln_store(tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A built collection of two documents, one of them hostile; the CLI's environment points at it."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kiln.txt").write_text(KILN, encoding="utf-8")
    (corpus / HOSTILE_NAME).write_text(HOSTILE, encoding="utf-8")
    root = tmp_path / "store"
    settings = make_settings(root, corpus=corpus)
    Assistant(settings, embedder=embedder).index()
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(root))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("ASSISTANT_COLLECTION", settings.store.collection)
    return root


def test_add_of_files_that_all_fail_to_load_is_an_error(kiln_store: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"not a pdf at all, just bytes " * 10)
    assert main(["add", str(broken)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert any(line.startswith("warning: skipped upload:broken.pdf: is not a readable PDF") for line in err)
    assert err[-1] == "error: none of the files can be indexed; see the warnings above"
    assert not any(kiln_store.glob("uploads/*/broken.pdf")), "nothing is kept of a file that could not be loaded"


def test_two_files_of_one_name_in_one_add_are_not_silently_merged(kiln_store: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a" / "notes.txt", tmp_path / "b" / "notes.txt"
    for path, text in ((first, "The Brask glaze is cobalt blue.\n"), (second, "The Brask clay comes from Devon.\n")):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    assert main(["add", str(first), str(second)]) == 0
    captured = capsys.readouterr()
    assert "warning: skipped notes.txt: another file named notes.txt comes earlier in this batch; rename one" in captured.err
    assert "+1 new" in captured.out
    assert [p.read_text() for p in kiln_store.glob("uploads/*/notes.txt")] == ["The Brask glaze is cobalt blue.\n"]


@pytest.fixture
def glaze_upload(kiln_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """The kiln store with one upload added through the CLI; returns its source."""
    note = tmp_path / "glaze.md"
    note.write_text("The Brask pottery mixes its blue glaze from cobalt oxide.\n", encoding="utf-8")
    assert main(["add", str(note)]) == 0
    capsys.readouterr()
    return "upload:glaze.md"


def test_remove_counts_the_documents_it_removed(glaze_upload: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remove", "glaze.md", "glaze.md"]) == 0
    assert capsys.readouterr().out.startswith("removed 1 document(s); ")


def test_document_text_and_names_cannot_drive_the_terminal(kiln_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Control characters from documents are shown escaped, never sent to the terminal as they are."""
    assert main(["ask", "Where is the Brask vault?"]) == 0
    out = capsys.readouterr().out
    assert "Geneva" in out and "\\x1b[2J\\x1b]0;pwned" in out and "vault\\x1b[5m.txt" in out
    assert main(["documents", "--all"]) == 0
    listed = capsys.readouterr().out
    assert "vault\\x1b[5m.txt" in listed
    assert not any((ord(ch) < 32 and ch not in "\n\t") or 0x7f <= ord(ch) < 0xa0 for ch in out + listed)


def test_a_source_the_collection_does_not_hold_is_an_error(glaze_upload: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Not a filter that leaves nothing to answer from, which reads as "the documents don't answer"."""
    assert main(["ask", "What is the blue glaze made from?", "--source", "glaze.md"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: collection '") and "has no document glaze.md; did you mean upload:glaze.md?" in line
    assert main(["ask", "What is the blue glaze made from?", "--source", glaze_upload]) == 0
    assert "cobalt oxide" in capsys.readouterr().out
