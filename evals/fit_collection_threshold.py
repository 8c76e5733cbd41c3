"""Fit the per-collection abstention threshold on three domains' fit parts; print every domain's report part.

    python evals/answer_rows.py --squad2-fit-sample 300 --squad2-report-sample 300
    python evals/probe_rows.py
    python evals/fit_collection_threshold.py [--target-false-abstention 0.08] [--write]

A collection's threshold is `scale` x the `quantile` of the shipped confidence over its probe
questions (questions made from its own sentences, no labels). For each probe shape and quantile,
`scale` is the largest that keeps false abstention on answerable questions at or under the target
on *every* fit domain (SQuAD 2.0 calibration articles, MTRAG Cloud and FiQA fit conversations);
the (shape, quantile) kept is the one that then abstains on the most unanswerable fit questions
(domains weighted equally). The global fallback (a collection too small to probe) is the largest
single threshold that holds the target on every fit domain. Report parts (SQuAD 2.0 report
articles, Cloud and FiQA report conversations, the bundled corpus) are read only to print.

It also prints two diagnostics, neither used by the rule: each report part's own threshold at the target
and what it would abstain on (read off the labels: the ceiling of any threshold rule), and the median
confidence of the unanswerable probes (evals/probe_negative_rows.py) where they were collected.

`--write` stores the rule in assistant/models/answer_scorer/calibration.json (the selector and the
confidence model are unchanged); figures go to evals/results/collection_threshold.json.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from answer_rows import OUT, Question, load_rows  # noqa: E402
from fit_answer_trust import (  # noqa: E402
    FIT_DOMAINS,
    REPORT_DOMAINS,
    Models,
    figures,
    judge,
    learned_decision,
)
from probe_rows import PROBES, SHAPES  # noqa: E402

from assistant.answer.confidence import CALIBRATION_FILE, load_calibration  # noqa: E402
from assistant.answer.scorer import DEFAULT_MODEL_DIR  # noqa: E402
from assistant.config import PROJECT_ROOT  # noqa: E402

QUANTILES = (0.1, 0.25, 0.5)
# The single SQuAD-only operating point this rule replaced (evals/calibrate_answer_scorer.py, at most
# 10% false abstention on the calibration articles), printed as the "before" line.
SQUAD_ONLY_THRESHOLD = 0.24675996495483196
MIN_PROBES = 20  # below this many probe questions a quantile is too noisy (sd ~0.03 at 30 probes)
RESULTS = PROJECT_ROOT / "evals" / "results" / "collection_threshold.json"
COMMAND = "python evals/fit_collection_threshold.py"


def need(models: Models, questions: list[Question], target: float) -> float:
    """The largest threshold keeping false abstention on this part's answerable questions <= target."""
    values = np.sort([judge(models, q)[0] for q in questions if q.answerable])
    allowed = int(math.floor(target * len(values)))
    return float(values[min(allowed, len(values) - 1)])


def oracle(models: Models, report: dict[str, list[Question]], target: float) -> dict[str, dict]:
    """The ceiling of any threshold rule: each report part's own threshold at the target (read off its
    labels, so never a rule) and the unanswerable questions it would abstain on. Printed only."""
    print(f"ceiling: each report part's own threshold at false abstention <= {target} (no rule can do better):")
    found = {}
    for d, questions in report.items():
        threshold = need(models, questions, target)
        f = vars(figures(questions, learned_decision(models, threshold)))
        found[d] = {"threshold": threshold, "unanswerable_abstained": f["unanswerable_abstained"]}
        print(f"  {d:<7} threshold {threshold:.3f}  unanswerable abstained {f['unanswerable_abstained']:.3f} "
              f"of {f['n_unanswerable']}")
    return found


def negative_probes(models: Models, needed: dict[str, float], rows: Path) -> dict[str, float]:
    """Median confidence of the unanswerable probes (evals/probe_negative_rows.py), where collected, next to
    the threshold each fit domain needs: would they tell a collection's threshold? Printed only."""
    found = {}
    for d in REPORT_DOMAINS:
        path = rows / f"{d}-probe-quarter-neg.pkl"
        if path.is_file():
            found[d] = float(np.median([judge(models, q)[0] for q in load_rows(d, "probe-quarter-neg", rows)]))
    if found:
        print("unanswerable probes' median confidence (against the threshold each fit domain needs): "
              + ", ".join(f"{d} {v:.3f}" + (f" (needs {needed[d]:.3f})" if d in needed else "") for d, v in found.items()))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-false-abstention", type=float, default=0.08)
    parser.add_argument("--rows", type=Path, default=OUT)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR,
                        help="the scorer folder whose calibration.json is read (and written with --write)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    target = args.target_false_abstention
    shipped = load_calibration(args.model_dir)
    models = Models(shipped.selector, shipped.confidence)
    fit = {d: load_rows(d, "fit", args.rows) for d in FIT_DOMAINS}
    report = {d: load_rows(d, "report", args.rows) for d in REPORT_DOMAINS}
    probes = {(d, shape): [judge(models, q)[0] for q in load_rows(d, f"probe-{shape}", args.rows)]
              for d in REPORT_DOMAINS for shape in SHAPES}
    needed = {d: need(models, fit[d], target) for d in FIT_DOMAINS}
    fallback = min(needed.values())
    print("threshold each fit domain needs for false abstention <= "
          f"{target}: " + ", ".join(f"{d} {v:.3f}" for d, v in needed.items()) + f"; global fallback {fallback:.3f}")

    def per_domain(thresholds: dict[str, float], parts: dict[str, list[Question]]) -> dict[str, dict]:
        return {d: {"threshold": thresholds[d], **vars(figures(parts[d], learned_decision(models, thresholds[d])))}
                for d in parts}

    candidates = []
    for shape in SHAPES:
        for quantile in QUANTILES:
            stat = {d: float(np.quantile(probes[(d, shape)], quantile)) for d in REPORT_DOMAINS}
            scale = min(needed[d] / stat[d] for d in FIT_DOMAINS)
            on_fit = per_domain({d: scale * stat[d] for d in FIT_DOMAINS}, fit)
            unanswerable = float(np.mean([on_fit[d]["unanswerable_abstained"] for d in FIT_DOMAINS]))
            candidates.append((unanswerable, shape, quantile, scale, stat))
            print(f"  probe {shape:<7} quantile {quantile:.2f}: scale {scale:.3f}, fit parts' unanswerable abstained "
                  f"(mean of domains) {unanswerable:.3f}")
    unanswerable, shape, quantile, scale, stat = max(candidates, key=lambda c: (c[0], -c[2]))
    print(f"chosen: probe {shape}, quantile {quantile}, scale {scale:.3f}")

    results = {"command": COMMAND, "target_false_abstention": target, "needed_on_fit": needed, "fallback": fallback,
               "chosen": {"shape": shape, "quantile": quantile, "scale": scale, "probe_statistic": stat}, "report": {}}
    rows = {"SQuAD-only threshold (before)": {d: SQUAD_ONLY_THRESHOLD for d in REPORT_DOMAINS},
            "global fallback threshold": {d: fallback for d in REPORT_DOMAINS},
            "per-collection threshold": {d: scale * stat[d] for d in REPORT_DOMAINS}}
    for name, thresholds in rows.items():
        print(f"{name}, report parts:")
        found = per_domain(thresholds, report)
        results["report"][name] = found
        for d, f in found.items():
            unans = f"{f['unanswerable_abstained']:.3f}" if f["n_unanswerable"] else "  —  "
            print(f"  {d:<7} threshold {f['threshold']:.3f}  answerable {f['n_answerable']:>4}  unanswerable "
                  f"{f['n_unanswerable']:>4}  false abstention {f['false_abstention']:.3f}  unanswerable abstained "
                  f"{unans}  answered right {f['answered_right']:.3f}")
    results["report_oracle"] = oracle(models, report, target)
    results["negative_probes"] = negative_probes(models, needed, args.rows)
    args.results.write_text(json.dumps(results, indent=2) + "\n")
    if args.write:
        path = args.model_dir / CALIBRATION_FILE
        data = json.loads(path.read_text(encoding="utf-8"))
        ps = SHAPES[shape]
        data.update(threshold=fallback, target_false_abstention=target,
                    per_collection={"quantile": quantile, "scale": scale, "probes": PROBES, "min_probes": MIN_PROBES,
                                    "shape": [ps.share, ps.least, ps.most],
                                    "fit": "fit parts of SQuAD 2.0 (calibration articles), MTRAG Cloud and MTRAG FiQA",
                                    "command": COMMAND + f" --target-false-abstention {target} --write"})
        path.write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
