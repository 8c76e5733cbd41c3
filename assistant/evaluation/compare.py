"""Compare two eval runs: per-metric deltas and the questions that went from pass to fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.evaluation.harness import load_run
from assistant.evaluation.report import fmt

# Metrics where a smaller value is better (a negative delta is an improvement).
LOWER_IS_BETTER_PREFIXES = ("latency_", "wrong_abstention_rate", "error_rate", "calibration_error")
LATENCY_NOISE = 0.10  # relative latency changes within this are not flagged


@dataclass(frozen=True)
class MetricDelta:
    name: str
    a: float | None
    b: float | None

    @property
    def delta(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def lower_is_better(self) -> bool:
        return self.name.startswith(LOWER_IS_BETTER_PREFIXES)


@dataclass(frozen=True)
class Comparison:
    run_a: str
    run_b: str
    suite_a: str
    suite_b: str
    config_a: str
    config_b: str
    deltas: tuple[MetricDelta, ...]
    regressions: tuple[dict[str, Any], ...] = field(default=())  # pass in A, fail in B
    fixes: tuple[dict[str, Any], ...] = field(default=())  # fail in A, pass in B
    only_in_a: int = 0
    only_in_b: int = 0


def compare_runs(run_a: str | Path, run_b: str | Path) -> Comparison:
    summary_a, rows_a = load_run(run_a)
    summary_b, rows_b = load_run(run_b)
    ma, mb = summary_a.get("metrics", {}), summary_b.get("metrics", {})
    names = list(ma) + [k for k in mb if k not in ma]
    deltas = tuple(MetricDelta(n, ma.get(n), mb.get(n)) for n in names)
    by_key_a = {r["key"]: r for r in rows_a}
    by_key_b = {r["key"]: r for r in rows_b}
    common = [k for k in by_key_a if k in by_key_b]
    regressions = tuple(
        {"key": k, "question": by_key_b[k]["question"], "expected": by_key_b[k]["gold_answers"], "answer_a": by_key_a[k]["answer"], "answer_b": by_key_b[k]["answer"], "abstained_b": by_key_b[k]["abstained"]}
        for k in common
        if by_key_a[k]["metrics"]["pass"] and not by_key_b[k]["metrics"]["pass"]
    )
    fixes = tuple(
        {"key": k, "question": by_key_b[k]["question"]}
        for k in common
        if not by_key_a[k]["metrics"]["pass"] and by_key_b[k]["metrics"]["pass"]
    )
    return Comparison(
        run_a=str(run_a),
        run_b=str(run_b),
        suite_a=str(summary_a.get("suite")),
        suite_b=str(summary_b.get("suite")),
        config_a=str(summary_a.get("config_hash")),
        config_b=str(summary_b.get("config_hash")),
        deltas=deltas,
        regressions=regressions,
        fixes=fixes,
        only_in_a=len(set(by_key_a) - set(by_key_b)),
        only_in_b=len(set(by_key_b) - set(by_key_a)),
    )


def format_comparison(cmp: Comparison) -> str:
    lines = [f"A: {cmp.run_a}  (suite {cmp.suite_a}, config {cmp.config_a})", f"B: {cmp.run_b}  (suite {cmp.suite_b}, config {cmp.config_b})"]
    if cmp.suite_a != cmp.suite_b:
        lines.append("warning: the runs are of different suites; item-level comparison is meaningless")
    width = max((len(d.name) for d in cmp.deltas), default=6)
    lines += ["", f"{'metric':<{width}}  {'A':>8}  {'B':>8}  {'delta':>8}"]
    for d in cmp.deltas:
        if d.delta is None or abs(d.delta) < 1e-12 or (d.name.startswith("latency_") and abs(d.delta) <= LATENCY_NOISE * abs(d.a or 0)):
            mark = ""  # latency moves by a few per cent between identical runs: not worth a flag
        else:
            better = (d.delta < 0) if d.lower_is_better else (d.delta > 0)
            mark = "  better" if better else "  WORSE"
        delta = "n/a" if d.delta is None else f"{d.delta:+.3f}"
        lines.append(f"{d.name:<{width}}  {fmt(d.a):>8}  {fmt(d.b):>8}  {delta:>8}{mark}")
    lines += ["", f"pass -> fail: {len(cmp.regressions)}   fail -> pass: {len(cmp.fixes)}"]
    if cmp.only_in_a or cmp.only_in_b:
        lines.append(f"questions only in A: {cmp.only_in_a}, only in B: {cmp.only_in_b}")
    for r in cmp.regressions:
        got = "(abstained)" if r["abstained_b"] else " ".join(r["answer_b"].split())[:160]
        lines.append(f"  FAIL {r['key']}: {r['question']}  expected {' / '.join(r['expected']) or '(abstain)'}; B said: {got}")
    for r in cmp.fixes:
        lines.append(f"  fixed {r['key']}: {r['question']}")
    return "\n".join(lines)
