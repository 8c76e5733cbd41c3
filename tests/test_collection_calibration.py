"""Each collection's own abstention threshold, probed from its text by the real engine and models."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.answer.scorer import load_answer_scorer
from assistant.collection_calibration import (
    CollectionThreshold,
    content_sketch,
    read_threshold,
    sketch_similarity,
    threshold_path,
)

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
    stored = read_threshold(engine.settings)
    assert stored is not None and stored.threshold is None, "too small: stored as such, not re-scanned at every load"
    assert stored.probes < _rule().per_collection.min_probes
    assert engine.answerer().threshold == pytest.approx(_rule().threshold)
    assert engine.info()["abstention_threshold"] is None


CHUNKS = [f"chunk {n}: the ferry left harbour {n} at dawn" for n in range(1000)]


def test_a_sketch_notices_growth_shrinkage_and_churn_of_a_fifth_or_more() -> None:
    base = CollectionThreshold(threshold=0.1, statistic=0.3, probes=60, chunks=1000, key="k", sketch=content_sketch(CHUNKS))
    assert not base.stale(content_sketch(CHUNKS), "k")
    assert base.stale(content_sketch(CHUNKS), "other key")
    assert not base.stale(content_sketch(CHUNKS + [f"new {n}" for n in range(50)]), "k"), "5% added"
    assert not base.stale(content_sketch(CHUNKS[:950]), "k"), "5% removed"
    assert base.stale(content_sketch(CHUNKS + [f"new {n}" for n in range(400)]), "k"), "40% added"
    assert base.stale(content_sketch(CHUNKS[:600]), "k"), "40% removed"
    churned = CHUNKS[:700] + [f"replaced {n}" for n in range(300)]
    assert len(churned) == len(CHUNKS) and base.stale(content_sketch(churned), "k"), "same size, 30% replaced"
    assert sketch_similarity(content_sketch(CHUNKS[:10]), content_sketch(CHUNKS[:10])) == 1.0
    assert sketch_similarity(content_sketch(CHUNKS[:10]), content_sketch(CHUNKS[5:15])) == pytest.approx(5 / 15)
    assert CollectionThreshold(0.1, 0.3, 60, 1000, "k").stale(content_sketch(CHUNKS), "k"), \
        "a record without a sketch (written before sketches) is re-probed"
