"""The scale benchmark (evals/bench_scale.py): its stand-in embedder, and its core end to end on a
few hundred SQuAD chunks (every column present and sane; no timing thresholds)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.config import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "evals"))
import bench_scale
from bench_scale import COLUMNS, StandInEmbedder, format_table


def test_stand_in_vectors_are_deterministic_unit_and_lexical() -> None:
    texts = ["The treaty was signed in Paris.", "A treaty signed in Paris!", "Photosynthesis needs light.", ""]
    first, again = StandInEmbedder().embed_texts(texts), StandInEmbedder().embed_texts(texts)
    assert first.dtype == np.float32 and first.shape == (4, 384)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-6)
    assert first[0] @ first[1] > first[0] @ first[2]
    np.testing.assert_allclose(StandInEmbedder().embed_query(texts[0]), first[0])


@pytest.mark.slow
def test_scale_core_on_a_tiny_corpus(tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    rows = bench_scale.run([300], embedder="stand-in", workdir=tmp_path / "work", out=out, quality_sample=20,
                           latency_count=5, baseline=False)
    assert len(rows) == 1
    row = rows[0]
    assert row.embedder == "stand-in" and set(row.made_of) == {"squad"}
    assert 300 <= row.chunks < 400 and row.sentences >= row.chunks
    for name in COLUMNS:
        value = getattr(row, name)
        assert value is not None, name
        if isinstance(value, float):
            assert math.isfinite(value) and value >= 0, (name, value)
    for name in ("build_s", "chunks_per_s", "sentences_per_s", "raw_sentences_per_s", "build_peak_mib", "serve_peak_mib",
                 "disk_mib", "cold_start_s", "noop_s", "update_s", "retrieve_p50_ms", "ask_p50_ms"):
        assert getattr(row, name) > 0, name
    assert row.retrieve_p95_ms >= row.retrieve_p50_ms and row.ask_p95_ms >= row.ask_p50_ms
    assert row.quality_questions == 20 and 0.0 <= row.r5 <= 1.0
    build = row.details["build"]
    assert build["noop_changed"] == 0 and build["update_changed"] == [row.details["update_record"]]
    stages = {s["stage"].strip() for s in build["update_breakdown"]}
    assert any("BM25Terms.assemble" in s for s in stages) and any("StoreCollection.existing" in s for s in stages)
    assert any("plan_run" in s for s in stages) and any("write_chunks" in s for s in stages)  # the run's own report
    table = format_table(rows)
    assert table.count("\n") == 2 and "stand-in" in table
    saved = json.loads(out.read_text())
    assert [r["label"] for r in saved["rows"]] == [row.label] and saved["runs"][0]["embedder"] == "stand-in"
