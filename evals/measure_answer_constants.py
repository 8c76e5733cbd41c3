"""Measure the answer path's last two hand-set constants per domain (issue 27's last line).

    python evals/measure_answer_constants.py [--squad2-sample 300] [--parts fit,report]

- `answerability.CONTEXT_TERM_CREDIT` (0.5): the credit a question term gets in the sentence score's
  "sentence terms" part when only the sentence's passage holds it. Each candidate credit is patched
  into `extractive` (this process only) and every retrieved sentence is scored again by the product's
  own `score_sentences`; printed: the ranking of the first answering sentence among answerable
  questions with one retrieved (recall@12 = the learned scorer's shortlist, the default path; top-1
  and MRR = what the lexical path quotes), as in evals/fit_sentence_score.py, and the lexical path's
  answers (below). The credit's second use, the confidence model's `missing_in_sentence` feature, is
  fitted with the model (evals/calibrate_answer_scorer.py) and not varied here.
- `extractive._EXTRA_SENTENCE_MARGIN` (0.08): on the lexical path (`answer.scorer: lexical`; the
  learned path quotes a second sentence by `Calibration.second_quote_ratio`) a second sentence is
  quoted only when its score is within this margin of the best. Each margin is patched in and the
  question answered by the product's `ExtractiveAnswerer.answer`; "one" never quotes a second
  sentence (the mechanism removed), "all" always quotes `max_sentences`.

Answer figures, per domain, as `assistant eval` scores a turn (assistant/evaluation/scoring.py):
accuracy (answerable: a quoted citation answers; unanswerable: abstained), answer support (the
answerable questions a quoted citation answers), quotes per answer, and citation precision (the
quoted citations that answer, pooled over citations). A citation answers as the sentence labels of
evals/answer_rows.py say: its quote holds a gold answer (SQuAD 2.0, the news corpus) or it comes from
a gold passage (MTRAG Cloud, FiQA). Questions: evals/answer_rows.items_for (SQuAD by the seeded
article split, stratified seeded samples; MTRAG by the seeded conversation split; the bundled corpus
report only). A candidate is chosen on the fit parts (mean over fit domains) and may replace a shipped
value only if it is at least as good on every report domain and figure, and better on one.
Per-question outcomes are cached in evals/reports/answer-constants/ (git-ignored); figures go to
evals/results/answer_constants.json.

Kept on this measurement (2026-12-06, --squad2-sample 300): both. No credit and no margin is at least
as good as the shipped one on every report domain; the credit's fit pick (0.25) ranks worse on Cloud and
the news corpus, the margin's (0.16) answers fewer Cloud questions and quotes less precisely on SQuAD and
the news corpus; margin 0 (one sentence: scores never tie) answers fewer questions on every report domain.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from answer_rows import _engine, answers, asked_request, items_for, write_pickle  # noqa: E402

from assistant import load_settings  # noqa: E402
from assistant.answer import extractive  # noqa: E402
from assistant.answer.answerability import CONTEXT_TERM_CREDIT  # noqa: E402
from assistant.config import PROJECT_ROOT  # noqa: E402
from evals.common import FIT_DOMAINS, REPORT_DOMAINS, patched  # noqa: E402

OUT = PROJECT_ROOT / "evals" / "reports" / "answer-constants"
RESULTS = PROJECT_ROOT / "evals" / "results" / "answer_constants.json"
CREDITS = (0.0, 0.25, 0.5, 0.75, 1.0)
MARGINS = {"one": -1e9, "0": 0.0, "0.04": 0.04, "0.08": 0.08, "0.16": 0.16, "0.32": 0.32, "all": 1e9}
SHIPPED_MARGIN = "0.08"
CREDIT_FIGURES = ("recall_at_shortlist", "top1", "mrr", "accuracy", "support", "citation_precision")
MARGIN_FIGURES = ("accuracy", "support", "citation_precision")


def _outcome(item, draft) -> dict:
    """One answer as `assistant eval` scores it: abstained, and whether each quoted citation answers."""
    cited = [answers(item, c.quote, c.source) for c in draft.citations] if not draft.abstained else []
    return {"abstained": draft.abstained, "cited": cited}


def collect(domain: str, part: str, squad2_sample: int) -> list[dict]:
    path = OUT / f"{domain}-{part}.pkl"
    if path.is_file():
        return pickle.loads(path.read_bytes())
    settings = load_settings()
    engine, turns = _engine(domain, settings)
    items = items_for(domain, part, turns, squad2_report_sample=squad2_sample, squad2_fit_sample=squad2_sample)
    answerer = extractive.ExtractiveAnswerer(engine.settings.with_(answer={"scorer": "lexical"}).answer, engine.view())
    found, started = [], time.perf_counter()
    for n, item in enumerate(items, start=1):
        request = asked_request(engine, item)
        row = {"key": item.key, "answerable": item.answerable, "ranks": {}, "credit": {}, "margin": {}}
        for credit in CREDITS:
            with patched(extractive, "CONTEXT_TERM_CREDIT", credit):
                ranked = answerer.score_sentences(request)
                labels = [answers(item, s.text, s.passage.source) for s in ranked]
                row["ranks"][credit] = int(np.flatnonzero(labels)[0]) if any(labels) else None
                row["credit"][credit] = _outcome(item, answerer.answer(request))
        for name, margin in MARGINS.items():
            if name == SHIPPED_MARGIN:
                row["margin"][name] = row["credit"][CONTEXT_TERM_CREDIT]
                continue
            with patched(extractive, "_EXTRA_SENTENCE_MARGIN", margin):
                row["margin"][name] = _outcome(item, answerer.answer(request))
        found.append(row)
        if n % 50 == 0:
            print(f"  {domain} {part}: {n}/{len(items)} ({time.perf_counter() - started:.0f} s)", flush=True)
    write_pickle(path, found)
    print(f"{domain} {part}: {len(found)} questions in {time.perf_counter() - started:.0f} s", flush=True)
    return found


def answer_figures(rows: list[dict], outcomes: list[dict], shortlist: int) -> dict:
    passed, support, quotes, good, cited = [], [], [], 0, 0
    for row, o in zip(rows, outcomes):
        hit = not o["abstained"] and any(o["cited"])
        passed.append(hit if row["answerable"] else o["abstained"])
        if row["answerable"]:
            support.append(hit)
        if not o["abstained"]:
            quotes.append(len(o["cited"]))
            if row["answerable"]:  # citation precision over answerable questions (unanswerable: no gold to cite)
                good += sum(o["cited"])
                cited += len(o["cited"])
    return {"questions": len(rows), "accuracy": round(float(np.mean(passed)), 4),
            "support": round(float(np.mean(support)), 4) if support else None,
            "quotes_per_answer": round(float(np.mean(quotes)), 4) if quotes else None,
            "citation_precision": round(good / cited, 4) if cited else None}


def rank_figures(rows: list[dict], credit: float, shortlist: int) -> dict:
    ranks = [r["ranks"][credit] for r in rows if r["answerable"] and r["ranks"][credit] is not None]
    return {"ranked_questions": len(ranks), "recall_at_shortlist": round(float(np.mean([k < shortlist for k in ranks])), 4),
            "top1": round(float(np.mean([k == 0 for k in ranks])), 4), "mrr": round(float(np.mean([1 / (k + 1) for k in ranks])), 4)}


def figures(rows: list[dict], shortlist: int) -> dict:
    return {"credit": {str(c): rank_figures(rows, c, shortlist) | answer_figures(rows, [r["credit"][c] for r in rows], shortlist)
                       for c in CREDITS},
            "margin": {m: answer_figures(rows, [r["margin"][m] for r in rows], shortlist) for m in MARGINS}}


def dominates(report: dict, kind: str, candidate: str, shipped: str, keys: tuple[str, ...]) -> bool:
    """At least as good on every report domain and figure, better on one."""
    pairs = [(report[d][kind][candidate][k], report[d][kind][shipped][k]) for d in report for k in keys
             if report[d][kind][shipped][k] is not None]
    return all(a >= b for a, b in pairs) and any(a > b for a, b in pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad2-sample", type=int, default=300)
    parser.add_argument("--parts", default="fit,report")
    args = parser.parse_args()
    shortlist = load_settings().answer.scorer_candidates
    parts = args.parts.split(",")
    results: dict = {"command": "python evals/measure_answer_constants.py " + " ".join(sys.argv[1:]),
                     "shipped": {"CONTEXT_TERM_CREDIT": CONTEXT_TERM_CREDIT, "_EXTRA_SENTENCE_MARGIN": extractive._EXTRA_SENTENCE_MARGIN},
                     "shortlist": shortlist, "max_sentences": load_settings().answer.max_sentences}
    for part in parts:
        domains = FIT_DOMAINS if part == "fit" else REPORT_DOMAINS
        results[part] = {d: figures(collect(d, part, args.squad2_sample), shortlist) for d in domains}
    for part in parts:
        print(f"\n{part} parts")
        for d, found in results[part].items():
            print(f"  {d}: CONTEXT_TERM_CREDIT (rank figures over answerable questions with an answering sentence retrieved; lexical-path answers)")
            for c, f in found["credit"].items():
                print(f"    credit {c:<5} n {f['ranked_questions']:>4}  recall@{shortlist} {f['recall_at_shortlist']:.3f}  top-1 {f['top1']:.3f}"
                      f"  MRR {f['mrr']:.3f}  accuracy {f['accuracy']:.3f}  support {f['support']:.3f}  cit.prec {f['citation_precision']:.3f}")
            print(f"  {d}: _EXTRA_SENTENCE_MARGIN (lexical path, n {found['margin']['one']['questions']})")
            for m, f in found["margin"].items():
                print(f"    margin {m:<5} accuracy {f['accuracy']:.3f}  support {f['support']:.3f}  quotes/answer {f['quotes_per_answer']:.3f}"
                      f"  cit.prec {f['citation_precision']:.3f}")
    decision: dict = {}
    if "fit" in results:
        fit = results["fit"]
        choose = {"credit": (str(CONTEXT_TERM_CREDIT), ("mrr", "recall_at_shortlist"), [str(c) for c in CREDITS]),
                  "margin": (SHIPPED_MARGIN, ("accuracy", "citation_precision"), list(MARGINS))}
        for kind, (shipped, keys, candidates) in choose.items():
            best = max(candidates, key=lambda c: (tuple(np.mean([fit[d][kind][c][k] for d in fit]) for k in keys), c == shipped))
            entry = {"chosen_on_fit": best, "by": keys}
            if "report" in results:
                report_keys = CREDIT_FIGURES if kind == "credit" else MARGIN_FIGURES
                entry["beats_shipped_on_every_report_domain"] = best != shipped and dominates(results["report"], kind, best, shipped, report_keys)
                entry["any_candidate_dominating_shipped_on_report"] = [c for c in candidates if c != shipped and dominates(results["report"], kind, c, shipped, report_keys)]
            decision[kind] = entry
            print(f"\n{kind}: chosen on fit {best} (by mean {', '.join(keys)}); " + json.dumps({k: v for k, v in entry.items() if k not in ('chosen_on_fit', 'by')}))
    results["decision"] = decision
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
