"""Probe questions made from a collection's sentences, and the per-collection rule that reads them (pure logic, no models)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from assistant.answer.confidence import CALIBRATION_FILE, load_calibration
from assistant.answer.probe_questions import ProbeShape, make_probe
from assistant.answer.scorer import DEFAULT_MODEL_DIR
from assistant.errors import ConfigError
from assistant.sentences import STOPWORDS

HALF = ProbeShape(0.5, 3, 6)


def _asked_words(question: str, opener: str) -> list[str]:
    assert question.startswith(opener + " ") and question.endswith("?"), question
    return question[len(opener) + 1:-1].split()


@pytest.mark.parametrize(("sentence", "opener", "span"), [
    ("The ferry company moved its head office to the harbour town after a dispute lasting until 1998 with the council.",
     "When", "1998"),
    ("The survey counted 4,200 nesting pairs along the northern cliffs during the cold and windy breeding season.",
     "How many", "4,200"),
    ("After the flood the regional archive reopened its reading room in Tromsø with a smaller staff and shorter hours.",
     "Where", "Tromsø"),
    ("The cooperative bought new grinding machines last month and trained every miller to use them safely.",
     "What", ""),
])
def test_probe_asks_for_a_span_with_a_fitting_question_word_and_leaves_it_out(sentence: str, opener: str, span: str) -> None:
    probe = make_probe(sentence, random.Random(3), HALF)
    assert probe is not None
    assert probe.answer == (span or sentence) and probe.sentence == sentence
    words = _asked_words(probe.question, opener)
    assert HALF.least <= len(words) <= HALF.most
    assert all(w in sentence and w.lower() not in STOPWORDS for w in words)
    if span:
        assert span not in probe.question, "the probe must not give its answer away"


def test_probe_keeps_the_share_of_words_its_shape_asks_for() -> None:
    sentence = ("Volunteers repaired eleven footbridges, cleared fallen timber, rebuilt drystone walls and repainted "
                "signposts across the upland estate during a wet autumn.")
    loose = make_probe(sentence, random.Random(0), ProbeShape(0.25, 2, 4))
    close = make_probe(sentence, random.Random(0), ProbeShape(0.5, 3, 6))
    assert loose is not None and close is not None
    assert len(loose.question.split()) < len(close.question.split())


@pytest.mark.parametrize("sentence", [
    "Too short to ask.",
    "Did the council approve the new harbour wall before the winter storms arrived last year?",
    " ".join(["word"] * 60) + ".",
])
def test_short_long_or_question_sentences_make_no_probe(sentence: str) -> None:
    assert make_probe(sentence, random.Random(0), HALF) is None


def test_probes_are_reproducible_from_the_seed() -> None:
    sentence = "The observatory on the ridge recorded its first meteor shower in August after the new lens arrived."
    assert make_probe(sentence, random.Random(7), HALF) == make_probe(sentence, random.Random(7), HALF)


@pytest.mark.parametrize("change", [{"quantile": 1.5}, {"scale": 0}, {"min_probes": 0}, {"shape": [0.25, 0, 4]},
                                    {"shape": [0.25, 5, 4]}, {"shape": [1.5, 2, 4]}])
def test_a_bad_per_collection_rule_is_refused_naming_the_fix(tmp_path: Path, change: dict) -> None:
    data = json.loads((DEFAULT_MODEL_DIR / CALIBRATION_FILE).read_text())
    data["per_collection"] = {**data["per_collection"], **change}
    (tmp_path / CALIBRATION_FILE).write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="calibrate_answer_scorer.py"):
        load_calibration(tmp_path)


def test_the_shipped_calibration_carries_a_per_collection_rule() -> None:
    rule = load_calibration(DEFAULT_MODEL_DIR).per_collection
    assert rule is not None and 0 < rule.quantile < 1 and rule.min_probes <= rule.probes
