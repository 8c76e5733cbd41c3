"""Each collection's own abstention threshold, probed from its text by the real engine and models."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.answer.scorer import load_answer_scorer
from assistant.collection_calibration import read_threshold, threshold_path

QUESTION = "Which harbour did the ferry company leave?"


def _rule():
    calibration = load_answer_scorer()[1]
    assert calibration.per_collection is not None, "the shipped calibration carries a per-collection rule"
    return calibration


def test_first_answer_probes_the_collection_and_uses_its_threshold(engine_factory) -> None:
    engine: Assistant = engine_factory()
    engine.index()
    assert engine.info()["abstention_threshold"] is None, "nothing probed before the first question"
    engine.ask(QUESTION)
    stored = read_threshold(engine.settings)
    calibration = _rule()
    assert stored is not None, "the bundled corpus has enough sentences to probe"
    assert stored.probes == calibration.per_collection.probes
    assert stored.threshold == pytest.approx(calibration.per_collection.scale * stored.statistic)
    assert stored.chunks == len(engine.view().chunks)
    assert engine.answerer().threshold == pytest.approx(stored.threshold)
    assert engine.info()["abstention_threshold"] == round(stored.threshold, 4)
    assert not list(threshold_path(engine.settings).parent.glob(".*.tmp")), "written atomically, no leftovers"


def test_a_fresh_threshold_is_reused_and_a_stale_one_probed_again(engine_factory) -> None:
    first: Assistant = engine_factory()
    first.ask(QUESTION)
    path = threshold_path(first.settings)
    written, mtime = path.read_text(), path.stat().st_mtime_ns

    again = Assistant(first.settings, embedder=first.embedder)
    again.ask(QUESTION)
    assert path.stat().st_mtime_ns == mtime and path.read_text() == written, "an unchanged collection is not re-probed"

    data = json.loads(written)
    path.write_text(json.dumps({**data, "key": "other-models-settings-or-corpus", "threshold": 0.99}))
    third = Assistant(first.settings, embedder=first.embedder)
    third.ask(QUESTION)
    assert json.loads(path.read_text()) == data, "a threshold made for another key is re-probed, same result"
    assert third.answerer().threshold == pytest.approx(data["threshold"])


@pytest.mark.parametrize("damage", ["{not json", '{"threshold": NaN, "statistic": 0.4, "probes": 60, "chunks": 1, "key": "k"}',
                                    '{"threshold": 7, "statistic": 0.4, "probes": 60, "chunks": 1, "key": "k"}'])
def test_a_damaged_file_is_probed_again_with_a_warning(engine_factory, caplog: pytest.LogCaptureFixture, damage: str) -> None:
    engine: Assistant = engine_factory()
    path = threshold_path(engine.settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(damage)
    with caplog.at_level(logging.WARNING, logger="assistant.collection_calibration"):
        answer = engine.ask(QUESTION)
    assert answer.text
    assert any("probing the collection again" in r.getMessage() for r in caplog.records)
    assert read_threshold(engine.settings) is not None


def test_a_threshold_in_the_settings_wins_and_nothing_is_probed(engine_factory) -> None:
    engine: Assistant = engine_factory(answer={"confidence_threshold": 0.3})
    engine.ask(QUESTION)
    assert engine.answerer().threshold == 0.3
    assert not threshold_path(engine.settings).exists()
    assert engine.info()["abstention_threshold"] is None, "info shows only a threshold that is used"


def test_a_collection_too_small_to_probe_keeps_the_global_threshold(engine_factory, tmp_path: Path) -> None:
    corpus = tmp_path / "notes"
    corpus.mkdir()
    (corpus / "ferry.md").write_text("# Ferry\n\nThe ferry company left the old harbour at Skerrvik in 1998 after a long "
                                     "dispute with the council over mooring fees.\n")
    engine: Assistant = engine_factory(corpus=corpus)
    engine.index()
    engine.ask(QUESTION)
    assert not threshold_path(engine.settings).exists()
    assert engine.answerer().threshold == pytest.approx(_rule().threshold)
