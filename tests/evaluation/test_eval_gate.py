"""The quality gate: thresholds file, messages, and the CLI's exit codes (0 pass, 1 below threshold, 2 error)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from assistant.evaluation.cli_eval import (
    EXIT_ERROR,
    EXIT_GATE_FAILED,
    EXIT_OK,
    register,
)
from assistant.evaluation.errors import EvalError
from assistant.evaluation.gate import DEFAULT_THRESHOLDS, check_gate, load_thresholds

SUMMARY = {"suite": "corpus", "config_hash": "abc", "n_questions": 3, "metrics": {"hit@5": 0.90, "answer_alias_accuracy": 0.70, "abstention_f1": None}}


def _write_run(path: Path, summary: dict) -> Path:
    path.mkdir(parents=True)
    (path / "summary.json").write_text(json.dumps(summary))
    (path / "results.jsonl").write_text("")
    return path


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["eval", *argv])
    return args.handler(args)  # the main CLI dispatches on args.handler


def test_check_gate_reports_metric_and_shortfall() -> None:
    result = check_gate(SUMMARY, {"corpus": {"hit@5": 0.85, "answer_alias_accuracy": 0.75}})
    assert not result.passed
    assert [f.metric for f in result.failures] == ["answer_alias_accuracy"]
    assert result.failures[0].shortfall == pytest.approx(0.05)
    assert "answer_alias_accuracy: 0.700 is 0.050 below the minimum 0.750" in result.message()
    assert check_gate(SUMMARY, {"corpus": {"hit@5": 0.90}}).passed  # equal to the threshold passes


def test_max_bounds_for_lower_is_better_metrics(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"corpus": {"hit@5": {"min": 0.8}, "answer_alias_accuracy": {"max": 0.65}}}))
    result = check_gate(SUMMARY, load_thresholds(path))
    assert [f.metric for f in result.failures] == ["answer_alias_accuracy"]
    assert "0.700 is 0.050 above the maximum 0.650" in result.message()


def test_sample_specific_thresholds_and_partial_runs() -> None:
    thresholds = {"squad": {"hit@5": 0.95}, "squad@100": {"hit@5": 0.85}}
    sampled = {**SUMMARY, "suite": "squad", "sample": 100}
    assert check_gate(sampled, thresholds).suite == "squad@100" and check_gate(sampled, thresholds).passed
    assert not check_gate({**sampled, "sample": 200}, thresholds).passed  # falls back to "squad"
    with pytest.raises(EvalError, match="--limit"):
        check_gate({**SUMMARY, "limit": 10}, {"corpus": {"hit@5": 0.1}})


def test_unmeasured_gated_metric_fails() -> None:
    result = check_gate(SUMMARY, {"corpus": {"abstention_f1": 0.5, "followup_accuracy": 0.5}})
    assert [f.metric for f in result.failures] == ["abstention_f1", "followup_accuracy"]
    assert "not measured" in result.message()


def test_thresholds_file_validation(tmp_path: Path) -> None:
    bad = tmp_path / "t.json"
    bad.write_text('{"corpus": {"hit@5": "high"}}')
    with pytest.raises(EvalError, match="must be a number or"):
        load_thresholds(bad)
    bad.write_text('{"corpus": ')
    with pytest.raises(EvalError, match="not valid JSON"):
        load_thresholds(bad)
    with pytest.raises(EvalError, match="no thresholds for suite 'corpus'"):
        check_gate(SUMMARY, {"squad": {"hit@5": 0.1}})


def test_committed_thresholds_cover_both_suites() -> None:
    thresholds = load_thresholds(DEFAULT_THRESHOLDS)
    assert thresholds["corpus"] and thresholds["squad"]
    assert all(0 <= b.value <= 1 for suite in thresholds.values() for b in suite.values())


def test_cli_gate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _write_run(tmp_path / "run", SUMMARY)
    thresholds = tmp_path / "thresholds.json"
    thresholds.write_text(json.dumps({"_comment": "x", "corpus": {"hit@5": 0.85}}))
    assert _cli(["--from-run", str(run), "--gate", "--thresholds", str(thresholds)]) == EXIT_OK
    assert "quality gate passed" in capsys.readouterr().out

    thresholds.write_text(json.dumps({"corpus": {"hit@5": 0.95}}))
    assert _cli(["--from-run", str(run), "--gate", "--thresholds", str(thresholds)]) == EXIT_GATE_FAILED
    err = capsys.readouterr().err
    assert "hit@5: 0.900 is 0.050 below the minimum 0.950" in err

    assert _cli(["--from-run", str(tmp_path / "missing"), "--gate", "--thresholds", str(thresholds)]) == EXIT_ERROR
    assert "no eval run" in capsys.readouterr().err
    assert _cli(["--from-run", str(run), "--gate", "--thresholds", str(tmp_path / "nope.json")]) == EXIT_ERROR
    assert _cli([]) == EXIT_ERROR
    assert _cli(["--suite", "no-such-suite"]) == EXIT_ERROR
    assert "unknown suite 'no-such-suite'" in capsys.readouterr().err
    # without --gate the run is only printed
    assert _cli(["--from-run", str(run)]) == EXIT_OK
