"""Fit the clarifying-question rule's thresholds on the FIT part of MTRAG (sub-pool).

    python evals/fit_clarify.py --collect evals/reports/mtrag-fit --pool 1000 [--sample N]   # clarify off, with history
    python evals/fit_clarify.py evals/reports/mtrag-fit [--mode with_history] [--apply evals/reports/mtrag-report]

Reads the fit run's rows (each logs the question, the retrieved titles in rank order and the answer
confidence), recomputes the rule's features, and grid-searches the three thresholds: the most
underspecified MTRAG-UN turns clarified while at most 10% of the answerable turns (both files) are,
ties broken by fewer answerable turns clarified, then by the strictest thresholds. Writes
evals/results/clarify_fit.json; copy the chosen values into ClarifyRule's defaults
(assistant/answer/clarify.py). `--apply` then reports the fitted rule on a report-part run made with
clarify off: the rule is a pure function of the logged features (question, top titles, confidence),
so this is the decision the engine makes for those turns. Nothing is fitted on the report part.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

from assistant.conversation.clarify import (
    ClarifyFeatures,
    ClarifyRule,
    features_from_titles,
    should_clarify,
)
from assistant.config import load_settings
from assistant.evaluation.mtrag import run_mtrag
from assistant.jsonl import read_json_lines
from evals.common import RESULTS

MAX_FALSE_CLARIFY = 0.10
OUT = RESULTS / "clarify_fit.json"


def _features(run: Path, mode: str) -> tuple[list[ClarifyFeatures], list[ClarifyFeatures]]:
    """(underspecified, answerable) turns' features of one mode of a run."""
    rows = read_json_lines(run / "results.jsonl")
    top = ClarifyRule().top_passages
    found = [(r["label"], features_from_titles(r["question"], r["titles"][:top], r["confidence"])) for r in rows if r["mode"] == mode]
    return ([f for label, f in found if label == "UNDERSPECIFIED"],
            [f for label, f in found if label in ("ANSWERABLE", "PARTIAL")])


def _share(found: list[ClarifyFeatures], rule: ClarifyRule) -> float | None:
    return round(sum(should_clarify(f, rule) for f in found) / len(found), 3) if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a `--part fit` mtrag run folder (written first with --collect)")
    parser.add_argument("--collect", action="store_true", help="first run the fit part (with history only, clarify off) into RUN")
    parser.add_argument("--pool", type=int, default=1000)
    parser.add_argument("--sample", type=int, help="every unanswerable/underspecified turn plus answerable ones up to N")
    parser.add_argument("--mode", default="with_history", choices=("last_turn", "with_history", "rewrite"))
    parser.add_argument("--apply", type=Path, help="a `--part report` mtrag run (clarify off) to report the fitted rule on")
    args = parser.parse_args()
    if args.collect:
        settings = load_settings().with_(answer={"clarify": False})
        run_mtrag(settings, pool=args.pool, part="fit", sample=args.sample, out_dir=args.run, modes=(args.mode,))
    summary = json.loads((args.run / "summary.json").read_text(encoding="utf-8"))
    if summary.get("part") != "fit":
        raise SystemExit(f"error: {args.run} is a {summary.get('part')!r} run; fit only on --part fit")
    under, answerable = _features(args.run, args.mode)
    best: tuple | None = None
    for words, conf, sim in itertools.product(range(2, 13), [i / 20 for i in range(21)], [i / 20 for i in range(11)]):
        rule = ClarifyRule(max_content_words=words, max_confidence=conf, max_title_similarity=sim)
        hit = sum(should_clarify(f, rule) for f in under) / len(under) if under else 0.0
        false = sum(should_clarify(f, rule) for f in answerable) / len(answerable) if answerable else 0.0
        if false > MAX_FALSE_CLARIFY:
            continue
        key = (hit, -false, -words, -conf, -sim)
        if best is None or key > best[0]:
            best = (key, rule, hit, false)
    assert best is not None  # the strictest grid point clarifies nothing, so it always qualifies
    _, rule, hit, false = best
    command = f"python evals/fit_clarify.py {args.run} --mode {args.mode}" + (f" --apply {args.apply}" if args.apply else "")
    result = {"command": command, "run": str(args.run),
              "data": summary.get("label"), "mode": args.mode, "n_underspecified": len(under), "n_answerable": len(answerable),
              "max_content_words": rule.max_content_words, "max_confidence": rule.max_confidence,
              "max_title_similarity": rule.max_title_similarity,
              "fit_clarified_underspecified": round(hit, 3), "fit_clarified_answerable": round(false, 3)}
    if args.apply:
        report = json.loads((args.apply / "summary.json").read_text(encoding="utf-8"))
        if report.get("part") != "report":
            raise SystemExit(f"error: --apply wants a report-part run, {args.apply} is {report.get('part')!r}")
        r_under, r_answerable = _features(args.apply, args.mode)
        result["report"] = {"run": str(args.apply), "data": report.get("label"), "n_underspecified": len(r_under),
                            "n_answerable": len(r_answerable),
                            "clarified_underspecified": _share(r_under, rule), "clarified_answerable": _share(r_answerable, rule)}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
