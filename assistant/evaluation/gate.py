"""The CI quality gate: every gated metric of a run must reach its committed threshold.

evals/thresholds.json maps suite name -> {metric name: bound}; a bound is a number (the minimum) or
{"min": x} / {"max": x} (for metrics where lower is better, e.g. wrong_abstention_rate).
Keys starting with "_" are comments.
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
class Bound:
    value: float
    kind: str = "min"  # "min": the metric must be >= value; "max": <= value


@dataclass(frozen=True)
class GateFailure:
    metric: str
    value: float | None
    threshold: float
    kind: str = "min"

    @property
    def shortfall(self) -> float | None:
        """How far the metric is on the wrong side of its threshold (positive)."""
        if self.value is None:
            return None
        return self.threshold - self.value if self.kind == "min" else self.value - self.threshold

    def message(self) -> str:
        if self.value is None:
            return f"{self.metric}: not measured in this run (threshold {self.threshold:.3f})"
        side = "below the minimum" if self.kind == "min" else "above the maximum"
        return f"{self.metric}: {self.value:.3f} is {self.shortfall:.3f} {side} {self.threshold:.3f}"


@dataclass(frozen=True)
class GateResult:
    suite: str
    checked: dict[str, Bound]
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


def _bound(path: Path, where: str, raw: object) -> Bound:
    if isinstance(raw, dict) and len(raw) == 1 and next(iter(raw)) in ("min", "max"):
        kind, value = next(iter(raw.items()))
    else:
        kind, value = "min", raw
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EvalError(f"{path}: threshold {where} must be a number or {{\"min\"|\"max\": number}}, got {raw!r}")
    return Bound(float(value), kind)


def load_thresholds(path: str | Path = DEFAULT_THRESHOLDS) -> dict[str, dict[str, Bound]]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvalError(f"thresholds file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise EvalError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise EvalError(f"{path}: expected an object mapping suite names to {{metric: minimum}}")
    out: dict[str, dict[str, Bound]] = {}
    for suite, values in data.items():
        if suite.startswith("_"):
            continue
        if not isinstance(values, dict):
            raise EvalError(f"{path}: thresholds of suite {suite!r} must be an object of metric: minimum")
        out[suite] = {}
        for metric, raw in values.items():
            if not metric.startswith("_"):
                out[suite][metric] = _bound(path, f"{suite}.{metric}", raw)
    return out


def check_gate(summary: dict[str, Any], thresholds: dict[str, dict[str, Bound | float]], *, suite: str | None = None) -> GateResult:
    """Compare a run summary with the thresholds of its suite (or of `suite`). A plain number is a minimum."""
    if summary.get("limit"):
        raise EvalError(f"this run asked only the first {summary['limit']} items (--limit): gate a full run")
    name = suite or str(summary.get("suite"))
    sized = f"{name}@{summary['sample']}" if summary.get("sample") else None
    if sized and sized in thresholds:
        name = sized  # e.g. "squad@100": a sample has its own, measured thresholds
    if name not in thresholds:
        raise EvalError(f"no thresholds for suite {name!r} (have: {', '.join(sorted(thresholds)) or 'none'})")
    gated = {k: (b if isinstance(b, Bound) else Bound(float(b))) for k, b in thresholds[name].items()}
    metrics = summary.get("metrics", {})
    failures = []
    for metric, bound in gated.items():
        value = metrics.get(metric)
        if value is None:
            failures.append(GateFailure(metric, None, bound.value, bound.kind))
        elif (bound.kind == "min" and value < bound.value - 1e-9) or (bound.kind == "max" and value > bound.value + 1e-9):
            failures.append(GateFailure(metric, value, bound.value, bound.kind))
    return GateResult(suite=name, checked=gated, failures=tuple(failures))
