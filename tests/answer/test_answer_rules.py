"""Pure logic of the answerer's general rules: the confidence
models' key-constraint features and the models themselves (no index, no network)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from assistant.answer.answerability import (
    CONFIDENCE_FEATURES,
    FEATURES,
    CandidateText,
    candidate_features,
    confidence_features,
)
from assistant.answer.confidence import CALIBRATION_FILE, Calibration, load_calibration
from assistant.errors import ConfigError


def _row(question: str, sentence: str, passage: str | None = None, logit: float = 1.0) -> dict[str, float]:
    candidate = CandidateText(sentence, passage or sentence, logit, 0.5, 0.5)
    idf = lambda term: 2.0  # noqa: E731  every term equally rare: the features count terms
    return dict(zip(FEATURES, candidate_features(question, [candidate], idf, 4.0)[0]))


def test_key_constraint_features() -> None:
    met = _row("When did the Kellerman bridge open?", "The Kellerman bridge opened in 1931.")
    assert met["missing_in_passage"] == 0 and met["name_missing"] == 0 and met["type_offered"] == 1
    other_name = _row("When did the Lindqvist bridge open?", "The Kellerman bridge opened in 1931.")
    assert other_name["name_missing"] == 1 and other_name["missing_in_passage"] > 0 and other_name["rarest_missing"] == 0.5
    other_number = _row("What happened to the bridge in 1950?", "The bridge was repainted in 1931.")
    assert other_number["number_missing"] == 1
    negated = _row("Which bridge was not repainted?", "The Kellerman bridge was repainted in 1931.")
    assert negated["negation_unmatched"] == 1
    no_date = _row("When was the bridge repainted?", "The bridge was repainted green.")
    assert no_date["type_missing"] == 1 and no_date["type_offered"] == 0


def test_margin_is_against_the_best_other_candidate() -> None:
    candidates = [CandidateText(f"Sentence {i}.", "Passage.", logit, 0.0, 0.0) for i, logit in enumerate((3.0, 1.0, -2.0))]
    rows = candidate_features("What is it?", candidates, lambda term: 1.0, 1.0)
    assert [row[FEATURES.index("margin")] for row in rows] == [2.0, -2.0, -5.0]


def _model(features: tuple[str, ...], **override: object) -> dict:
    n = len(features)
    model = {"features": list(features), "mean": [0.0] * n, "scale": [1.0] * n, "weights": [0.0] * n, "bias": 0.0}
    model.update(override)
    return model


def _calibration_file(folder: Path, selector: dict | None = None, confidence: dict | None = None) -> None:
    data = {"selector": selector or _model(FEATURES), "confidence": confidence or _model(CONFIDENCE_FEATURES),
            "threshold": 0.3, "target_false_abstention": 0.1, "second_quote_ratio": 0.7}
    (folder / CALIBRATION_FILE).write_text(json.dumps(data))


def test_calibration_selects_by_one_model_and_judges_by_the_other(tmp_path: Path) -> None:
    selector = [0.0] * len(FEATURES)
    selector[FEATURES.index("cosine")] = 1.0  # the selector prefers the higher cosine
    judge = [0.0] * len(CONFIDENCE_FEATURES)
    judge[CONFIDENCE_FEATURES.index("chosen_logit")] = 2.0
    _calibration_file(tmp_path, _model(FEATURES, weights=selector), _model(CONFIDENCE_FEATURES, weights=judge, bias=-1.0))
    calibration: Calibration = load_calibration(tmp_path)
    rows = [[0.0] * len(FEATURES) for _ in range(2)]
    rows[0][FEATURES.index("logit")], rows[1][FEATURES.index("logit")] = 3.0, 1.5
    rows[1][FEATURES.index("cosine")] = 0.9
    assert [i for _, i in calibration.ranked(rows)] == [1, 0]
    assert confidence_features(rows, 1)[0] == 3.0  # the best logit over all candidates
    assert calibration.confidence_of(rows, 1) == pytest.approx(1 / (1 + math.exp(-(2.0 * 1.5 - 1.0))))
    assert (calibration.threshold, calibration.second_quote_ratio) == (0.3, 0.7)


@pytest.mark.parametrize("selector", [_model(("logit",)), _model(FEATURES, scale=[0.0] * len(FEATURES)), _model(FEATURES, weights="x")])
def test_a_calibration_for_other_features_is_refused_with_the_fix(tmp_path: Path, selector: dict) -> None:
    _calibration_file(tmp_path, selector=selector)
    with pytest.raises(ConfigError, match="calibrate_answer_scorer.py"):
        load_calibration(tmp_path)


def test_a_missing_calibration_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no calibration at .*calibrate_answer_scorer.py"):
        load_calibration(tmp_path)
