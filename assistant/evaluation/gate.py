"""The CI quality gate: every gated metric of a run must reach its committed threshold.

evals/thresholds.json maps suite name -> {metric name: minimum}; keys starting with "_" are comments.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.config import PROJECT_ROOT
from assistant.evaluation.errors import EvalError

DEFAULT_THRESHOLDS = PROJECT_ROOT / "evals" / "thresholds.json"


@dataclass(frozen=True)
class GateFailure:
    metric: str
    value: float | None
    threshold: float

    @property
    def shortfall(self) -> float | None:
        return None if self.value is None else self.threshold - self.value

    def message(self) -> str:
        if self.value is None:
            return f"{self.metric}: not measured in this run (threshold {self.threshold:.3f})"
        return f"{self.metric}: {self.value:.3f} is {self.shortfall:.3f} below the threshold {self.threshold:.3f}"


@dataclass(frozen=True)
class GateResult:
    suite: str
    checked: dict[str, float]
    failures: tuple[GateFailure, ...]

    @property
    def passed(self) -> bool:
        return not self.failures

    def message(self) -> str:
        if self.passed:
            return f"quality gate passed: {len(self.checked)} metric(s) of suite {self.suite!r} at or above their thresholds"
        lines = [f"quality gate FAILED for suite {self.suite!r}: {len(self.failures)} of {len(self.checked)} metric(s) below threshold"]
        lines += [f"  {f.message()}" for f in self.failures]
        return "\n".join(lines)


def load_thresholds(path: str | Path = DEFAULT_THRESHOLDS) -> dict[str, dict[str, float]]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvalError(f"thresholds file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise EvalError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise EvalError(f"{path}: expected an object mapping suite names to {{metric: minimum}}")
    out: dict[str, dict[str, float]] = {}
    for suite, values in data.items():
        if suite.startswith("_"):
            continue
        if not isinstance(values, dict):
            raise EvalError(f"{path}: thresholds of suite {suite!r} must be an object of metric: minimum")
        out[suite] = {}
        for metric, minimum in values.items():
            if metric.startswith("_"):
                continue
            if isinstance(minimum, bool) or not isinstance(minimum, (int, float)):
                raise EvalError(f"{path}: threshold {suite}.{metric} must be a number, got {minimum!r}")
            out[suite][metric] = float(minimum)
    return out


def check_gate(summary: dict[str, Any], thresholds: dict[str, dict[str, float]], *, suite: str | None = None) -> GateResult:
    """Compare a run summary with the thresholds of its suite (or of `suite`)."""
    name = suite or str(summary.get("suite"))
    if name not in thresholds:
        raise EvalError(f"no thresholds for suite {name!r} (have: {', '.join(sorted(thresholds)) or 'none'})")
    gated = thresholds[name]
    metrics = summary.get("metrics", {})
    failures = []
    for metric, minimum in gated.items():
        value = metrics.get(metric)
        if value is None or value < minimum - 1e-9:
            failures.append(GateFailure(metric, value, minimum))
    return GateResult(suite=name, checked=dict(gated), failures=tuple(failures))
