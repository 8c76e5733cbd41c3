"""Fit the answer selector, the confidence model and the abstention threshold on the fit parts of
three domains together, and print every domain's report part on its own line.

    python evals/answer_rows.py            # once: the candidate rows of every domain and part
    python evals/fit_answer_trust.py [--target-false-abstention 0.08] [--write]

Fit parts: SQuAD 2.0's calibration articles (Wikipedia; fit articles the scorer never trained on),
MTRAG Cloud's and MTRAG FiQA's fit conversations (technical documentation, forum answers). Report
parts: SQuAD 2.0's report articles (a stratified seeded sample), MTRAG Cloud's and FiQA's report
conversations, and the bundled news corpus (report only). Nothing here reads a report row before
the models and the threshold are fixed.

Each domain counts equally in the fit (a row's weight is 1 / its domain's rows), so 1,000 Wikipedia
questions cannot drown 100 conversation turns. The threshold is the largest confidence that keeps
false abstention at or under the target on *every* fit domain, read off out-of-fold confidences
(models fitted without the question's article or conversation).

The figures go to evals/results/answer_trust.json; `--write` also stores the chosen models in
assistant/models/answer_scorer/calibration.json (what the product reads).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from answer_rows import OUT, Question, load_rows  # noqa: E402

from assistant.answer.answerability import (  # noqa: E402
    CONFIDENCE_FEATURES,
    FEATURES,
    confidence_features,
)
from assistant.answer.confidence import (  # noqa: E402
    CALIBRATION_FILE,
    LogisticModel,
    load_calibration,
)
from assistant.answer.scorer import DEFAULT_MODEL_DIR  # noqa: E402
from assistant.config import PROJECT_ROOT, load_settings  # noqa: E402
from evals.common import FIT_DOMAINS, REPORT_DOMAINS  # noqa: E402

REGULARISATION_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)
FOLDS = 5
SENTENCE_LABELLED = ("squad2",)  # MTRAG marks gold passages, not the answering sentence
SECOND_QUOTE_RATIO = 0.7  # unchanged from the single-domain calibration (evals/results/calibration.json)
RESULTS = PROJECT_ROOT / "evals" / "results" / "answer_trust.json"


@dataclass(frozen=True)
class Models:
    selector: LogisticModel | None  # None: the lexical score picks the sentence
    confidence: LogisticModel


def logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, c: float, names: tuple[str, ...]) -> LogisticModel:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=3000).fit((x - mean) / scale, y, sample_weight=w)
    return LogisticModel(names, tuple(mean.tolist()), tuple(scale.tolist()), tuple(model.coef_[0].tolist()),
                         float(model.intercept_[0]))


def domain_weights(questions: Sequence[Question]) -> dict[str, float]:
    """1 / (questions of the domain): every domain weighs the same in the fit."""
    counts: dict[str, int] = {}
    for q in questions:
        counts[q.domain] = counts.get(q.domain, 0) + 1
    return {d: 1.0 / n for d, n in counts.items()}


LEXICAL = FEATURES.index("lexical")


def best_candidate(selector: LogisticModel | None, q: Question) -> int:
    if selector is None:
        return int(np.argmax(q.rows[:, LEXICAL]))
    return max(range(len(q.rows)), key=lambda i: (selector.probability(q.rows[i].tolist()), -i))


def fit_selector(questions: Sequence[Question], c_select: float, only: tuple[str, ...] | None = None) -> LogisticModel:
    """Over every candidate, label: it answers. Only sentence-level labels teach which sentence.
    `only`: the features it may weigh (the others get weight 0, so the product reads it unchanged)."""
    scored = [q for q in questions if len(q.rows)]
    weight = domain_weights(scored)
    x = np.vstack([q.rows for q in scored])
    y = np.concatenate([q.labels for q in scored])
    w = np.concatenate([np.full(len(q.rows), weight[q.domain] / len(q.rows)) for q in scored])
    if only is None:
        return logistic(x, y, w / w.mean(), c_select, FEATURES)
    keep = [FEATURES.index(name) for name in only]
    small = logistic(x[:, keep], y, w / w.mean(), c_select, only)
    mean, scale, weights = x.mean(axis=0), x.std(axis=0), np.zeros(len(FEATURES))
    scale[scale == 0] = 1.0
    for j, i in enumerate(keep):
        mean[i], scale[i], weights[i] = small.mean[j], small.scale[j], small.weights[j]
    return LogisticModel(FEATURES, tuple(mean.tolist()), tuple(scale.tolist()), tuple(weights.tolist()), small.bias)


def fit(questions: Sequence[Question], c_select: float, c_confidence: float,
        selector_from: Callable[[Sequence[Question], float], LogisticModel | None]) -> Models:
    scored = [q for q in questions if len(q.rows)]
    weight = domain_weights(scored)
    selector = selector_from(scored, c_select)
    rows, labels = [], []
    for q in scored:
        best = best_candidate(selector, q)
        rows.append(confidence_features(q.rows.tolist(), best))
        labels.append(q.labels[best])
    wq = np.array([weight[q.domain] for q in scored])
    return Models(selector, logistic(np.array(rows), np.array(labels), wq / wq.mean(), c_confidence, CONFIDENCE_FEATURES))


def judge(models: Models, q: Question) -> tuple[float, bool]:
    """(confidence, whether the chosen candidate answers)."""
    if not len(q.rows):
        return 0.0, False
    best = best_candidate(models.selector, q)
    return models.confidence.probability(confidence_features(q.rows.tolist(), best)), bool(q.labels[best])


def folds(questions: Sequence[Question], k: int = FOLDS) -> list[list[int]]:
    """Indices per fold; a group (article, conversation) never spans two folds; seeded by group name order."""
    groups = sorted({(q.domain, q.group) for q in questions})
    fold_of = {g: i % k for i, g in enumerate(groups)}
    out: list[list[int]] = [[] for _ in range(k)]
    for i, q in enumerate(questions):
        out[fold_of[(q.domain, q.group)]].append(i)
    return out


def out_of_fold(questions: Sequence[Question], c_select: float, c_confidence: float,
                selector_from: Callable[[Sequence[Question], float], LogisticModel | None]) -> tuple[np.ndarray, np.ndarray]:
    conf, right = np.zeros(len(questions)), np.zeros(len(questions), dtype=bool)
    for held in folds(questions):
        held_set = set(held)
        models = fit([q for i, q in enumerate(questions) if i not in held_set], c_select, c_confidence, selector_from)
        for i in held:
            conf[i], right[i] = judge(models, questions[i])
    return conf, right


def weighted_log_loss(questions: Sequence[Question], conf: np.ndarray, right: np.ndarray) -> float:
    weight = domain_weights(questions)
    w = np.array([weight[q.domain] for q in questions])
    p = np.clip(conf, 1e-6, 1 - 1e-6)
    return float(np.sum(w * -(right * np.log(p) + (1 - right) * np.log(1 - p))) / w.sum())


def threshold_for(questions: Sequence[Question], conf: np.ndarray, target: float) -> float:
    """The largest threshold keeping false abstention at or under `target` on every domain."""
    bounds = []
    for domain in sorted({q.domain for q in questions}):
        values = np.sort([c for q, c in zip(questions, conf) if q.domain == domain and q.answerable])
        allowed = int(math.floor(target * len(values)))
        bounds.append(float(values[allowed]) if allowed < len(values) else float(values[-1]))
    return min(bounds)


@dataclass(frozen=True)
class Figures:
    n_answerable: int
    n_unanswerable: int
    false_abstention: float
    unanswerable_abstained: float
    answered_right: float    # answerable, answered, and the quoted sentence answers
    chosen_right: float      # the chosen sentence answers (abstention aside)

    def line(self, name: str) -> str:
        unanswerable = f"{self.unanswerable_abstained:.3f}" if self.n_unanswerable else "  —  "
        return (f"  {name:<8} answerable {self.n_answerable:>4}  unanswerable {self.n_unanswerable:>4}  "
                f"false abstention {self.false_abstention:.3f}  unanswerable abstained {unanswerable}  "
                f"answered right {self.answered_right:.3f}  chosen right {self.chosen_right:.3f}")


def figures(questions: Sequence[Question], decide: Callable[[Question], tuple[bool, bool]]) -> Figures:
    """`decide(q)` -> (abstains, the quoted sentence answers)."""
    answerable = [decide(q) for q in questions if q.answerable]
    unanswerable = [decide(q)[0] for q in questions if not q.answerable]
    return Figures(len(answerable), len(unanswerable),
                   float(np.mean([a for a, _ in answerable])) if answerable else 0.0,
                   float(np.mean(unanswerable)) if unanswerable else 0.0,
                   float(np.mean([not a and r for a, r in answerable])) if answerable else 0.0,
                   float(np.mean([r for _, r in answerable])) if answerable else 0.0)


def lexical_decision(abstain_below: float) -> Callable[[Question], tuple[bool, bool]]:
    """The lexical path: quote the best lexical sentence, abstain below its score threshold."""
    column = FEATURES.index("lexical")

    def decide(q: Question) -> tuple[bool, bool]:
        if not len(q.rows):
            return True, False
        best = int(np.argmax(q.rows[:, column]))
        return q.lexical_top < abstain_below, bool(q.labels[best])
    return decide


def learned_decision(models: Models, threshold: float) -> Callable[[Question], tuple[bool, bool]]:
    def decide(q: Question) -> tuple[bool, bool]:
        confidence, right = judge(models, q)
        return confidence < threshold, right
    return decide


def report(title: str, decide: Callable[[Question], tuple[bool, bool]], parts: dict[str, list[Question]]) -> dict[str, dict]:
    print(title)
    out = {}
    for domain in parts:
        f = figures(parts[domain], decide)
        print(f.line(domain))
        out[domain] = vars(f)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-false-abstention", type=float, default=0.08)
    parser.add_argument("--rows", type=Path, default=OUT)
    parser.add_argument("--selector", default="selector refit on sentence-labelled fit rows",
                        help="which selector --write stores")
    parser.add_argument("--fit-domains", default=",".join(FIT_DOMAINS))
    parser.add_argument("--report-domains", default=",".join(REPORT_DOMAINS))
    parser.add_argument("--write", action="store_true", help="also write the chosen models to calibration.json")
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR,
                        help="the scorer folder whose calibration.json is the 'shipped' line (and is written with --write)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    started = time.perf_counter()
    fit_domains, report_domains = args.fit_domains.split(","), args.report_domains.split(",")
    fit_rows = [q for d in fit_domains for q in load_rows(d, "fit", args.rows)]
    report_rows = {d: load_rows(d, "report", args.rows) for d in report_domains}
    print("fit rows: " + ", ".join(f"{d} {sum(q.domain == d for q in fit_rows)}" for d in fit_domains))

    shipped = load_calibration(args.model_dir)
    results = {"lexical": report("lexical path (before the learned answerer), report parts:",
                                 lexical_decision(load_settings().answer.abstain_threshold), report_rows),
               "shipped": report(f"shipped calibration (SQuAD only), threshold {shipped.threshold:.3f}, report parts:",
                                 learned_decision(Models(shipped.selector, shipped.confidence), shipped.threshold), report_rows)}
    selectors: dict[str, Callable[[Sequence[Question], float], LogisticModel | None]] = {
        "shipped selector": lambda qs, c: shipped.selector,
        "lexical selector": lambda qs, c: None,
        "selector refit on sentence-labelled fit rows": lambda qs, c: fit_selector(
            [q for q in qs if q.domain in SENTENCE_LABELLED], c),
        "lexical-score selector fitted on sentence-labelled fit rows": lambda qs, c: fit_selector(
            [q for q in qs if q.domain in SENTENCE_LABELLED], c, only=("lexical",)),
    }
    if not any(q.domain in SENTENCE_LABELLED for q in fit_rows):
        selectors = {k: v for k, v in selectors.items() if "sentence-labelled" not in k}
    chosen: dict[str, tuple[Models, float, float, float]] = {}
    for name, selector_from in selectors.items():
        grid = [(cs, cc) for cs in (REGULARISATION_GRID if "sentence-labelled" in name else (1.0,)) for cc in REGULARISATION_GRID]
        losses = {pair: weighted_log_loss(fit_rows, *out_of_fold(fit_rows, *pair, selector_from)) for pair in grid}
        c_select, c_confidence = min(losses, key=lambda pair: (losses[pair], pair))
        conf, _ = out_of_fold(fit_rows, c_select, c_confidence, selector_from)
        threshold = threshold_for(fit_rows, conf, args.target_false_abstention)
        models = fit(fit_rows, c_select, c_confidence, selector_from)
        chosen[name] = (models, threshold, c_select, c_confidence)
        results[name] = report(f"{name}, confidence fitted on the fit domains (C {c_select}/{c_confidence}), threshold "
                               f"{threshold:.3f} (false abstention <= {args.target_false_abstention} on every fit domain, "
                               "out-of-fold), report parts:", learned_decision(models, threshold), report_rows)
    models, threshold, c_select, c_confidence = chosen.get(args.selector, next(iter(chosen.values())))
    figures_json = {
        "command": f"python evals/answer_rows.py && python evals/fit_answer_trust.py --target-false-abstention {args.target_false_abstention}",
        "fit": {d: sum(q.domain == d for q in fit_rows) for d in fit_domains}, "C_selector": c_select,
        "C_confidence": c_confidence, "threshold": threshold, "report": results,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(f"done in {figures_json['seconds']} s")
    args.results.write_text(json.dumps(figures_json, indent=2) + "\n")
    if args.write:
        if models.selector is None:
            raise SystemExit("the product's calibration needs a learned selector")
        product = {"selector": models.selector.to_json(), "confidence": models.confidence.to_json(), "threshold": threshold,
                   "target_false_abstention": args.target_false_abstention, "second_quote_ratio": SECOND_QUOTE_RATIO,
                   "split": "fit parts of SQuAD 2.0 (calibration articles), MTRAG Cloud and MTRAG FiQA (seeded conversation split)",
                   "command": figures_json["command"]}
        (args.model_dir / CALIBRATION_FILE).write_text(json.dumps(product, indent=2) + "\n")
        # The per-collection rule scales this confidence model's output, so a new model needs a new rule.
        print("the per-collection abstention rule was dropped with the old confidence model; re-fit it: "
              "python evals/probe_rows.py && python evals/fit_collection_threshold.py --write")


if __name__ == "__main__":
    main()
