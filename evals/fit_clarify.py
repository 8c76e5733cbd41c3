"""Fit the clarifying-question rule's thresholds on the FIT parts of MTRAG Cloud and FiQA (sub-pools).

    python evals/fit_clarify.py --collect evals/reports/clarify-fit-cloud evals/reports/clarify-fit-fiqa   # clarify off
    python evals/fit_clarify.py evals/reports/clarify-fit-cloud evals/reports/clarify-fit-fiqa \
        --apply evals/reports/clarify-report-cloud evals/reports/clarify-report-fiqa

A folder to --collect into is named after its domain (`-cloud`, `-fiqa`). Reads the fit runs' rows (each logs the question, the retrieved titles in rank order and the answer
confidence), recomputes the rule's features, and grid-searches the three thresholds: the most
underspecified MTRAG-UN turns clarified while at most 5% of the answerable turns (both domains) are,
ties broken by fewer answerable turns clarified, then by the strictest thresholds. Writes
evals/results/clarify_fit.json; copy the chosen values into ClarifyRule's defaults
(assistant/conversation/clarify.py). `--apply` then reports the fitted rule on a report-part run made with
clarify off: the rule is a pure function of the logged features (question, top titles, confidence),
so this is the decision the engine makes for those turns. Nothing is fitted on the report part.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

from assistant.config import load_settings
from assistant.conversation.clarify import (
    ClarifyFeatures,
    ClarifyRule,
    features_from_titles,
    should_clarify,
)
from assistant.evaluation.mtrag import run_mtrag
from assistant.evaluation.mtrag_data import DOMAINS, GATED_POOL
from assistant.jsonl import read_json_lines
from evals.common import RESULTS

# The bar for answerable turns asked back (issue 30: at most 5%, both domains together).
MAX_FALSE_CLARIFY = 0.05
OUT = RESULTS / "clarify_fit.json"


def _features(run: Path, mode: str) -> tuple[list[ClarifyFeatures], list[ClarifyFeatures]]:
    """(underspecified, answerable) turns' features of one mode of a run."""
    rows = read_json_lines(run / "results.jsonl")
    top = ClarifyRule().top_passages
    found = [(r["label"], features_from_titles(r["question"], r["titles"][:top], r["confidence"],
                                               follow_up=int(r.get("history_turns", 0)) > 0 and mode != "last_turn"))
             for r in rows if r["mode"] == mode]
    return ([f for label, f in found if label == "UNDERSPECIFIED"],
            [f for label, f in found if label in ("ANSWERABLE", "PARTIAL")])


def _share(found: list[ClarifyFeatures], rule: ClarifyRule) -> float | None:
    return round(sum(should_clarify(f, rule) for f in found) / len(found), 3) if found else None


def _domain_of(run: Path) -> str:
    """The domain a run folder holds: its summary's, or (before --collect) its name's last word."""
    summary = run / "summary.json"
    domain = json.loads(summary.read_text(encoding="utf-8")).get("domain", "") if summary.is_file() else run.name.rsplit("-", 1)[-1]
    if domain not in DOMAINS:
        raise SystemExit(f"error: {run} must end with the domain it ran on (-cloud or -fiqa)")
    return domain


def _pooled(runs: list[Path], mode: str, part: str) -> tuple[list[ClarifyFeatures], list[ClarifyFeatures]]:
    """Both domains' (underspecified, answerable) features, checking each run is of `part`."""
    under: list[ClarifyFeatures] = []
    answerable: list[ClarifyFeatures] = []
    for run in runs:
        summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
        if summary.get("part") != part:
            raise SystemExit(f"error: {run} is a {summary.get('part')!r} run; expected --part {part}")
        u, a = _features(run, mode)
        under += u
        answerable += a
    return under, answerable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+", help="`--part fit` mtrag run folders, one per domain (written first with --collect)")
    parser.add_argument("--collect", action="store_true", help="first run the fit parts (with history only, clarify off) into RUNS")
    parser.add_argument("--pool", type=int, default=GATED_POOL)
    parser.add_argument("--sample", type=int, help="every unanswerable/underspecified turn plus answerable ones up to N")
    parser.add_argument("--mode", default="with_history", choices=("last_turn", "with_history", "rewrite"))
    parser.add_argument("--apply", type=Path, nargs="*", default=[],
                        help="`--part report` mtrag runs (clarify off) to report the fitted rule on")
    args = parser.parse_args()
    if args.collect:
        settings = load_settings().with_(answer={"clarify": False})
        for run in args.runs:
            run_mtrag(settings, pool=args.pool, part="fit", sample=args.sample, out_dir=run, modes=(args.mode,),
                      domain=DOMAINS[_domain_of(run)])
    under, answerable = _pooled(args.runs, args.mode, "fit")
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
    command = ("python evals/fit_clarify.py " + " ".join(map(str, args.runs)) + f" --mode {args.mode}"
               + (" --apply " + " ".join(map(str, args.apply)) if args.apply else ""))
    result = {"command": command, "runs": [str(r) for r in args.runs], "mode": args.mode,
              "max_false_clarify": MAX_FALSE_CLARIFY, "n_underspecified": len(under), "n_answerable": len(answerable),
              "follow_ups_only": rule.follow_ups_only, "max_content_words": rule.max_content_words,
              "max_confidence": rule.max_confidence, "max_title_similarity": rule.max_title_similarity,
              "fit_clarified_underspecified": round(hit, 3), "fit_clarified_answerable": round(false, 3)}
    if args.apply:
        r_under, r_answerable = _pooled(args.apply, args.mode, "report")
        result["report"] = {"runs": [str(r) for r in args.apply], "n_underspecified": len(r_under),
                            "n_answerable": len(r_answerable),
                            "clarified_underspecified": _share(r_under, rule), "clarified_answerable": _share(r_answerable, rule)}
        for run in args.apply:
            u, a = _features(run, args.mode)
            result["report"][_domain_of(run)] = {"n_underspecified": len(u), "clarified_underspecified": _share(u, rule),
                                                 "n_answerable": len(a), "clarified_answerable": _share(a, rule)}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
