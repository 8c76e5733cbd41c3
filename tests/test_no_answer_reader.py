"""The no-answer reader: its margin (best phrase over "no answer") feeds the calibrated confidence.

The questions and sentences are this file's own, not from any gold set.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.answer.span_reader import DEFAULT_NO_ANSWER_READER_DIR, SpanReader, make_no_answer_reader
from assistant.errors import ConfigError

# (question, a sentence that answers it, same-topic sentences that do not)
CASES = [
    ("When did the lighthouse at Carrow Point first shine?",
     "The lighthouse at Carrow Point first shone in 1872, after six years of building.",
     ["The lighthouse at Carrow Point is painted white and red.",
      "Visitors to Carrow Point can climb the lighthouse stairs in summer."]),
    ("Who painted the ceiling of the Velmont chapel?",
     "The ceiling of the Velmont chapel was painted by Ilse Varga over three winters.",
     ["The Velmont chapel has a ceiling of blue plaster and gold stars.",
      "Restorers cleaned the chapel ceiling in Velmont last spring."]),
    ("How many boats does the Ostra ferry company run?",
     "The Ostra ferry company runs 14 boats between the islands.",
     ["The Ostra ferry company was founded by fishermen.",
      "Boats of the Ostra ferry company are painted green."]),
]


@pytest.fixture(scope="module")
def reader() -> SpanReader:
    return make_no_answer_reader()


def test_shipped_folder_is_complete_small_and_documented() -> None:
    files = {p.name: p.stat().st_size for p in DEFAULT_NO_ANSWER_READER_DIR.iterdir() if p.is_file()}
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "README.md"):
        assert name in files, f"{name} missing from {DEFAULT_NO_ANSWER_READER_DIR}"
    assert sum(files.values()) < 50_000_000, f"the shipped reader must stay under 50 MB: {files}"
    assert json.loads((DEFAULT_NO_ANSWER_READER_DIR / "config.json").read_text())["architectures"] == ["BertForQuestionAnswering"]


def test_missing_folder_names_the_training_command(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="train_short_answer.py --kind no-answer"):
        make_no_answer_reader(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(("question", "answer", "distractors"), CASES, ids=[c[0] for c in CASES])
def test_an_answering_sentence_has_the_larger_margin(reader: SpanReader, question: str, answer: str,
                                                     distractors: list[str]) -> None:
    read = reader.read(question, answer)
    assert read is not None and read.text in answer
    for other in distractors:
        span = reader.read(question, other)
        assert span is not None and span.margin < read.margin, (other, span, read)


@pytest.mark.slow
def test_engine_loads_it_only_for_the_learned_scorer(engine_factory) -> None:
    assert engine_factory(answer={"scorer": "lexical"}).no_answer_reader is None
    assert engine_factory(answer={"scorer": "learned"}).no_answer_reader is not None
