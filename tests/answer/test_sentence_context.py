"""answer.sentence_context = "previous": the learned scorer also reads each candidate after the sentence
before it, so a sentence that names its subject only through the one before ("The vault will be
moved...") can win, and is quoted with that sentence (real index, real models; invented text)."""

from __future__ import annotations

from pathlib import Path

import pytest

VAULT = (
    "The Coastal Seed Vault, known on the islands as the Kelda store, keeps seeds of four thousand wild plants. "
    "The vault will be moved to a dry bunker under Mount Hella next spring. "
    "Its collection grew quickly after the storms of the last decade destroyed several meadows. "
    "Nine botanists check the seed samples every autumn and replace the weakest ones."
)
QUESTION = "Where will the Kelda store be moved?"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "vault.txt").write_text(VAULT)
    return folder


def test_the_sentence_before_names_what_the_answer_is_about(corpus: Path, engine_factory) -> None:
    engine = engine_factory(corpus=corpus, answer={"sentence_context": "previous"})
    engine.index()
    answer = engine.ask(QUESTION)
    assert not answer.abstained, answer.text
    assert "Mount Hella" in answer.text
    quote = answer.citations[0]
    assert quote.passage[quote.start:quote.end] == quote.quote
    # Quoted with the sentence it was read after: the reader sees what "the vault" is.
    assert quote.quote.startswith("The Coastal Seed Vault") and quote.quote.endswith("next spring.")


def test_alone_reads_and_quotes_single_sentences(corpus: Path, engine_factory) -> None:
    engine = engine_factory(corpus=corpus)
    engine.index()
    request_answer = engine.ask(QUESTION)
    for citation in request_answer.citations:
        # Each quote is one sentence of the text (the default reads sentences alone).
        assert citation.quote.count(". ") == 0, citation.quote
