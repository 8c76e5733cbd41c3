"""The store's collections and each one's documents, listed from the manifests (assistant.documents):
two real collections built in one tmp store, an upload listed with its chunks, removed through the
crash-safe index run, and then gone from the list and from the answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_settings

from assistant import Assistant
from assistant.documents import DocumentRow, collection_documents, collection_summaries
from assistant.errors import IndexMissingError

HARBOUR = ("The Quillmouth harbour wall was rebuilt in 1968 after the spring storm.\n"
           "The Quillmouth harbour master keeps the tide tables in the old customs house.\n")
ORCHARD = "The Brackenfold orchard grows seven kinds of russet apple on its south slope.\n"
BEEKEEPER = ("---\ntitle: Apiary notes\ndate: 2023-05-14\n---\n"
             "The Brackenfold beekeeper, Odalys Fenwick, moved the hives under the walnut trees in May.\n")
QUESTION = "Where did the Brackenfold beekeeper move the hives?"


@pytest.fixture
def two_collections(tmp_path: Path, embedder) -> tuple[Assistant, Assistant]:
    """A 'harbour' collection (the default) and an 'orchard' one, built in the same store."""
    store = tmp_path / "store"
    built = []
    for name, text in (("harbour", HARBOUR), ("orchard", ORCHARD)):
        corpus = tmp_path / f"{name}-corpus"
        corpus.mkdir()
        (corpus / f"{name}.md").write_text(text, encoding="utf-8")
        engine = Assistant(make_settings(store, corpus=corpus, store={"collection": name}), embedder=embedder)
        engine.index()
        built.append(engine)
    return built[0], built[1]


def test_collections_are_listed_with_their_counts_the_default_first(two_collections) -> None:
    harbour, orchard = two_collections
    listed = harbour.collections()
    assert [(c.name, c.default) for c in listed] == [("harbour", True), ("orchard", False)]
    assert all(c.documents == 1 and c.chunks >= 1 and c.uploads == 0 and c.updated and c.problem is None for c in listed)
    assert [c.name for c in orchard.collections()] == ["orchard", "harbour"]  # each one's own first
    assert [c.name for c in collection_summaries(harbour.settings, ["orchard"])] == ["orchard"]


def test_each_collection_lists_its_own_documents_and_an_upload_until_it_is_removed(two_collections,
                                                                                  tmp_path: Path) -> None:
    harbour, orchard = two_collections
    [corpus_doc] = harbour.collection_documents()
    assert corpus_doc.source == "harbour.md" and corpus_doc.upload is None and corpus_doc.chunks >= 1
    assert [d.source for d in orchard.collection_documents()] == ["orchard.md"]

    notes = tmp_path / "apiary.md"
    notes.write_text(BEEKEEPER, encoding="utf-8")
    orchard.add_files([notes])
    rows = {d.source: d for d in orchard.collection_documents()}
    assert rows["upload:apiary.md"] == DocumentRow(source="upload:apiary.md", title="Apiary notes", date="2023-05-14",
                                                   chunks=rows["upload:apiary.md"].chunks, upload="apiary.md")
    assert rows["upload:apiary.md"].chunks >= 1
    assert [d.source for d in harbour.collection_documents()] == ["harbour.md"]  # the other is untouched
    summary = {c.name: c for c in harbour.collections()}
    assert (summary["orchard"].documents, summary["orchard"].uploads) == (2, 1)
    answer = orchard.ask(QUESTION)
    assert "walnut" in answer.text and answer.citations[0].source == "upload:apiary.md"

    report = orchard.remove_documents(["apiary.md"])
    assert report.removed == ["upload:apiary.md"]
    assert [d.source for d in orchard.collection_documents()] == ["orchard.md"]
    assert {c.name: c.uploads for c in orchard.collections()}["orchard"] == 0
    again = orchard.ask(QUESTION)
    assert all(c.source != "upload:apiary.md" for c in again.citations) and "walnut" not in again.text


def test_a_typod_collection_names_the_ones_that_exist(two_collections) -> None:
    harbour, _ = two_collections
    with pytest.raises(IndexMissingError) as caught:
        collection_documents(harbour.settings.with_(store={"collection": "orchrd"}))
    message = str(caught.value)
    assert message.startswith("no collection named 'orchrd' in ") and "; existing: harbour, orchard; " in message
    assert "\n" not in message
