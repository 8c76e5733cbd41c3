"""`assistant collections` and `assistant documents --collection NAME` over two real collections in one
store: a table (and --json) of the collections, every indexed document of the named one after its
uploaded files, and a typo'd name as the one-line error naming the collections that exist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_settings

from assistant import Assistant
from assistant.serving.cli import main

FOUNDRY = "---\ntitle: Foundry day book\ndate: 2021-03-30\n---\nThe Pellham foundry cast the town clock bell in 1887.\n"
DAIRY = "The Wexcombe dairy sold clotted cream at the Thursday market.\n"
CHEESE = "The Wexcombe cheese cave keeps the wheels at eleven degrees for nine months.\n"


@pytest.fixture
def store(tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch) -> Path:
    """'foundry' (the default, as ASSISTANT_COLLECTION names it) and 'dairy' with one upload."""
    root = tmp_path / "store"
    for name, text in (("foundry", FOUNDRY), ("dairy", DAIRY)):
        corpus = tmp_path / name
        corpus.mkdir()
        (corpus / f"{name}.md").write_text(text, encoding="utf-8")
        engine = Assistant(make_settings(root, corpus=corpus, store={"collection": name}), embedder=embedder)
        engine.index()
        if name == "dairy":
            (tmp_path / "cheese.md").write_text(CHEESE, encoding="utf-8")
            engine.add_files([tmp_path / "cheese.md"])
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(root))
    monkeypatch.setenv("ASSISTANT_COLLECTION", "foundry")
    return root


def test_collections_prints_a_table_default_first_and_json(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["collections"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["COLLECTION", "DOCUMENTS", "CHUNKS", "UPLOADS", "UPDATED", "PROBLEM"]
    assert lines[1].split()[:3] == ["*", "foundry", "1"] and lines[2].split()[:2] == ["dairy", "2"]
    assert lines[2].split()[3] == "1"  # one upload
    assert lines[3].startswith("* the default collection")

    assert main(["collections", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(c["name"], c["default"], c["documents"], c["uploads"]) for c in listed] == [
        ("foundry", True, 1, 0), ("dairy", False, 2, 1)]


def test_documents_of_a_named_collection_lists_uploads_then_every_document(store: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["documents", "--collection", "dairy"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("cheese.md  (")
    table = out.split("2 document(s) indexed in collection dairy:\n")[1].splitlines()
    assert table[0].split() == ["TITLE", "DATE", "SOURCE", "CHUNKS"]
    assert {line.split()[-2] for line in table[1:]} == {"dairy.md", "upload:cheese.md"}

    assert main(["documents", "--all"]) == 0  # the default collection, table only
    out = capsys.readouterr().out
    assert out.startswith("1 document(s) indexed in collection foundry:")
    assert "Foundry day book  2021-03-30  foundry.md" in out

    assert main(["documents", "--collection", "dairy", "--all", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["source"], r["upload"]) for r in rows] == [("dairy.md", None), ("upload:cheese.md", "cheese.md")]
    assert main(["documents", "--collection", "dairy", "--json"]) == 0  # the uploaded files, as before
    assert [f["name"] for f in json.loads(capsys.readouterr().out)] == ["cheese.md"]

    assert main(["remove", "cheese.md", "--collection", "dairy"]) == 0
    capsys.readouterr()
    assert main(["documents", "--collection", "dairy"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("no uploaded documents") and "upload:cheese.md" not in out
    assert "1 document(s) indexed in collection dairy:" in out


def test_a_typod_collection_is_one_line_naming_those_that_exist(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["documents", "--collection", "diary"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: no collection named 'diary' in ") and "; existing: dairy, foundry; " in line
