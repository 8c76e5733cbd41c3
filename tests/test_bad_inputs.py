"""Bad input gets a typed, one-line error and loses nothing already indexed."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.errors import CorpusError, InvalidQuestionError, JsonlFormatError
from assistant.validation import validate_question


@pytest.mark.parametrize("question", ["", "   ", "\n\t", None])
def test_empty_question_refused(question):
    with pytest.raises(InvalidQuestionError, match="the question is empty"):
        validate_question(question, 2000)


def test_question_over_length_limit_refused():
    with pytest.raises(InvalidQuestionError, match=r"2001 characters long, over the 2000-character limit"):
        validate_question("x" * 2001, 2000)
    assert validate_question("  What is the JATEC center?  ", 2000) == "What is the JATEC center?"


@pytest.mark.slow
def test_bad_questions_leave_the_engine_working(bundled_engine: Assistant):
    for bad in ("", "?" * 5000):
        with pytest.raises(InvalidQuestionError):
            bundled_engine.ask(bad)
    assert "Bydgoszcz" in bundled_engine.ask("In which city in Poland did the Ukrainian delegation meet NATO representatives?").text


@pytest.mark.slow
def test_bad_corpus_inputs_keep_existing_index(engine_factory, tmp_path: Path):
    engine = engine_factory()
    before = engine.index().chunks
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CorpusError, match="no readable documents"):
        engine.index(empty)
    with pytest.raises(CorpusError, match="does not exist"):
        engine.index(tmp_path / "missing")
    bad_jsonl = tmp_path / "bad.jsonl"
    bad_jsonl.write_text('{"id": "a", "text": "fine"}\nnot json at all\n')
    with pytest.raises(JsonlFormatError, match=r"bad\.jsonl:2"):
        engine.index(bad_jsonl)
    assert engine.stored_collection().count() == before
    assert "Bydgoszcz" in engine.ask("In which city in Poland did the Ukrainian delegation meet NATO representatives?").text


@pytest.mark.slow
def test_binary_and_non_utf8_files_skipped_rest_indexed(engine_factory, corpus_copy: Path):
    (corpus_copy / "scan.pdf").write_bytes(b"\x00\x01 not a pdf")
    (corpus_copy / "blob.txt").write_bytes(bytes(range(256)) * 4)
    (corpus_copy / "legacy.md").write_bytes("R\xe9sum\xe9 of the week".encode("cp1252"))
    report = engine_factory(corpus=corpus_copy).index()
    assert report.documents == 5
    assert {source for source, _ in report.skipped} == {"scan.pdf", "blob.txt", "legacy.md"}


@pytest.mark.slow
def test_jsonl_collection(engine_factory, tmp_path: Path):
    records = tmp_path / "passages.jsonl"
    records.write_text(
        '{"id": "Harbour#0", "title": "Harbour", "text": "The harbour of Gdynia was built between 1921 and 1930."}\n'
        '{"id": "Bridge#0", "title": "Bridge", "text": "The Golden Gate Bridge opened to traffic in 1937."}\n'
    )
    engine = engine_factory(corpus=records, store={"collection": "bench-passages"})
    report = engine.index()
    assert (report.documents, report.collection) == (2, "bench-passages")
    answer = engine.ask("When did the Golden Gate Bridge open?")
    assert "1937" in answer.text and answer.citations[0].source == "Bridge#0"
