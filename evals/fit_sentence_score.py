"""Learn the weights of the lexical sentence score (`extractive.SCORE_PARTS`) on three domains' fit
parts, and compare them with the shipped hand-set weights on every domain's report part.

    python evals/fit_sentence_score.py [--squad2-sample 300]

The sentence score decides which sentences the learned scorer re-reads (the shortlist of
`answer.scorer_candidates`, 12) and, on the lexical path, which sentence is quoted. For every
question of SQuAD 2.0 (calibration articles = fit, report articles = report, stratified seeded
samples), MTRAG Cloud and FiQA (seeded conversation split) and the bundled corpus (report only), the
real pipeline retrieves and scores every sentence of the retrieved passages; each sentence's parts
and label (it holds a gold answer; for MTRAG, it comes from a gold passage) are cached in
evals/reports/sentence-parts/ (git-ignored).

The learned weights come from a logistic regression of the label on the parts, each domain weighted
equally, rescaled so the three graded parts (cosine, sentence terms, passage terms) sum to 1 as the
hand-set ones do (the lexical path's thresholds read the score on that scale). Printed per domain
and part: answerable questions whose shortlist holds an answering sentence (recall@12), whose top
sentence answers (top-1), and the mean reciprocal rank of the first answering sentence. Figures go
to evals/results/sentence_score.json.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from answer_rows import _engine, answers, asked_request, items_for, write_pickle  # noqa: E402

from assistant import load_settings  # noqa: E402
from assistant.answer.extractive import SCORE_PARTS, SCORE_WEIGHTS, ExtractiveAnswerer  # noqa: E402
from assistant.config import PROJECT_ROOT  # noqa: E402
from evals.common import FIT_DOMAINS, REPORT_DOMAINS  # noqa: E402

OUT = PROJECT_ROOT / "evals" / "reports" / "sentence-parts"
RESULTS = PROJECT_ROOT / "evals" / "results" / "sentence_score.json"
GRADED = 3  # cosine, sentence terms, passage terms: the parts on a 0..1 scale
C_GRID = (0.01, 0.1, 1.0, 10.0)


@dataclass(frozen=True)
class Scored:
    domain: str
    group: str
    answerable: bool
    parts: np.ndarray   # sentences x SCORE_PARTS
    labels: np.ndarray  # sentence answers


def collect(domain: str, part: str, squad2_sample: int) -> list[Scored]:
    path = OUT / f"{domain}-{part}.pkl"
    if path.is_file():
        return pickle.loads(path.read_bytes())
    engine, turns = _engine(domain, load_settings())
    items = items_for(domain, part, turns, squad2_report_sample=squad2_sample, squad2_fit_sample=squad2_sample)
    answerer = ExtractiveAnswerer(engine.settings.answer, engine.view())
    found, started = [], time.perf_counter()
    for item in items:
        ranked = answerer.score_sentences(asked_request(engine, item))
        labels = [answers(item, s.text, s.passage.source) for s in ranked]
        found.append(Scored(domain, item.group, item.answerable, np.array([s.parts for s in ranked], dtype=float).reshape(-1, len(SCORE_PARTS)),
                            np.array(labels, dtype=float)))
    write_pickle(path, found)
    print(f"{domain} {part}: {len(found)} questions in {time.perf_counter() - started:.0f} s", flush=True)
    return found


def ranking_figures(questions: list[Scored], weights: np.ndarray, shortlist: int) -> dict[str, float]:
    recall, top1, reciprocal = [], [], []
    for q in questions:
        if not q.answerable or not q.labels.any():
            continue  # nothing retrieved answers it: no weighting of sentences can help
        order = np.argsort(-(q.parts @ weights), kind="stable")
        hits = np.flatnonzero(q.labels[order])
        recall.append(hits[0] < shortlist)
        top1.append(hits[0] == 0)
        reciprocal.append(1.0 / (hits[0] + 1))
    return {"questions": len(recall), "recall_at_shortlist": round(float(np.mean(recall)), 4),
            "top1": round(float(np.mean(top1)), 4), "mrr": round(float(np.mean(reciprocal)), 4)}


def fit_weights(questions: list[Scored], c: float) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([q.parts for q in questions if len(q.parts)])
    y = np.concatenate([q.labels for q in questions if len(q.parts)])
    per_domain = {d: sum(len(q.labels) for q in questions if q.domain == d) for d in {q.domain for q in questions}}
    w = np.concatenate([np.full(len(q.labels), 1.0 / per_domain[q.domain]) for q in questions if len(q.parts)])
    model = LogisticRegression(C=c, max_iter=5000).fit(x, y, sample_weight=w * len(w) / w.sum())
    weights = model.coef_[0]
    return weights / weights[:GRADED].sum()


FACTORS = (0.0, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)


def mean_mrr(questions: list[Scored], weights: np.ndarray, shortlist: int) -> float:
    """The objective: MRR of the first answering sentence, each fit domain counting equally."""
    return float(np.mean([ranking_figures([q for q in questions if q.domain == d], weights, shortlist)["mrr"]
                          for d in sorted({q.domain for q in questions})]))


def ranking_fit(questions: list[Scored], start: np.ndarray, shortlist: int, passes: int = 3) -> np.ndarray:
    """Coordinate ascent on the ranking itself (pointwise logistic fits the wrong thing: it ranks worse):
    each weight in turn is scaled by FACTORS and the best kept; a part that never varies in the fit
    data keeps its starting weight (nothing there measures it)."""
    weights = start.copy()
    varies = [any(len(q.parts) and np.ptp(q.parts[:, i]) > 0 for q in questions) for i in range(len(start))]
    best = mean_mrr(questions, weights, shortlist)
    for _ in range(passes):
        for i in (i for i in range(len(weights)) if varies[i]):
            for factor in FACTORS:
                trial = weights.copy()
                trial[i] = start[i] * factor if weights[i] == 0 else weights[i] * factor
                value = mean_mrr(questions, trial, shortlist)
                if value > best + 1e-9:
                    best, weights = value, trial
    return weights / weights[:GRADED].sum()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad2-sample", type=int, default=300)
    args = parser.parse_args()
    shortlist = load_settings().answer.scorer_candidates
    fit = [q for d in FIT_DOMAINS for q in collect(d, "fit", args.squad2_sample)]
    report = {d: collect(d, "report", args.squad2_sample) for d in REPORT_DOMAINS}
    shipped = np.array(SCORE_WEIGHTS)
    # C by out-of-domain fit: each fit domain predicted by weights learned on the other two, best mean MRR.
    by_c = {}
    for c in C_GRID:
        held = [ranking_figures([q for q in fit if q.domain == d], fit_weights([q for q in fit if q.domain != d], c), shortlist)["mrr"]
                for d in FIT_DOMAINS]
        by_c[c] = float(np.mean(held))
    c = max(by_c, key=lambda k: (by_c[k], -k))
    pointwise = fit_weights(fit, c)
    learned = ranking_fit(fit, shipped, shortlist)
    results = {"command": "python evals/fit_sentence_score.py", "parts": SCORE_PARTS, "shortlist": shortlist,
               "C_by_held_out_domain_mrr": by_c, "C": c, "weights": {"shipped": shipped.tolist(), "pointwise_logistic": pointwise.round(4).tolist(),
                                                               "ranking_fit": learned.round(4).tolist()},
               "fit": {}, "report": {}}
    print("parts:   " + "  ".join(f"{p:>17}" for p in SCORE_PARTS))
    print("shipped: " + "  ".join(f"{w:>17.3f}" for w in shipped))
    print("logistic:" + "  ".join(f"{w:>17.3f}" for w in pointwise) + f"   (pointwise, C {c})")
    print("ranking: " + "  ".join(f"{w:>17.3f}" for w in learned) + "   (coordinate ascent on fit MRR)")
    for name, parts in (("fit", {d: [q for q in fit if q.domain == d] for d in FIT_DOMAINS}), ("report", report)):
        print(f"{name} parts (answerable questions with an answering sentence retrieved): shipped -> logistic -> ranking fit")
        for d, questions in parts.items():
            found = {k: ranking_figures(questions, w, shortlist)
                     for k, w in (("shipped", shipped), ("pointwise_logistic", pointwise), ("ranking_fit", learned))}
            results[name][d] = found
            line = "  ".join(f"{m} " + " -> ".join(f"{f[key]:.3f}" for f in found.values())
                             for m, key in (("recall@%d" % shortlist, "recall_at_shortlist"), ("top-1", "top1"), ("MRR", "mrr")))
            print(f"  {d:<7} n {found['shipped']['questions']:>4}  {line}")
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
