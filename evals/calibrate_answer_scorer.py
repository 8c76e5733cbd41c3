"""Calibrate the learned answer scorer on the SQuAD 2.0 *fit* articles and choose the abstention
operating point. Writes `assistant/models/answer_scorer/calibration.json` (read by the product)
and `evals/results/calibration.json` + a reliability chart. Nothing here reads a report article.

    python evals/calibrate_answer_scorer.py [--sample 900] [--target-false-abstention 0.10]

For each fit question (answerable and unanswerable, stratified seeded sample) the real pipeline
retrieves passages over all 2,067 SQuAD passages and the extractive answerer's learned scorer
re-reads the best lexical candidates. The label is whether the sentence it would quote (with its
context) holds a gold answer (0 for every unanswerable question). Platt scaling maps the best
logit to a probability; the threshold is the largest confidence that keeps false abstention on
answerable fit questions at or below the target.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from assistant import Assistant, load_settings
from assistant.answer.base import AnswerRequest
from assistant.answer.confidence import CALIBRATION_FILE
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.scorer import DEFAULT_MODEL_DIR, make_answer_scorer
from assistant.config import PROJECT_ROOT
from assistant.evaluation.metrics import alias_match
from assistant.evaluation.splits import squad_article_split
from assistant.evaluation.suites import SQUAD2_DIR, _squad_settings, load_squad_items, stratified_sample

SEED = 20261129
RESULTS = PROJECT_ROOT / "evals" / "results"


def fit_platt(logits: np.ndarray, labels: np.ndarray, *, steps: int = 3000, lr: float = 0.1) -> tuple[float, float]:
    """Logistic regression of the label on the logit (plain gradient descent: two parameters)."""
    a, b = 1.0, 0.0
    for _ in range(steps):
        z = np.clip(a * logits + b, -30, 30)
        p = 1 / (1 + np.exp(-z))
        grad_a = float(np.mean((p - labels) * logits))
        grad_b = float(np.mean(p - labels))
        a -= lr * grad_a
        b -= lr * grad_b
    return a, b


def operating_point(confidences: np.ndarray, answerable: np.ndarray, target: float) -> float:
    """The largest threshold with false abstention (answerable below it) at or under `target`."""
    values = np.sort(confidences[answerable])
    allowed = int(math.floor(target * len(values)))
    return float(values[allowed]) if allowed < len(values) else float(values[-1])


def reliability(confidences: np.ndarray, labels: np.ndarray, bins: int = 10) -> list[dict]:
    rows = []
    for k in range(bins):
        low, high = k / bins, (k + 1) / bins
        mask = (confidences >= low) & (confidences < high if k < bins - 1 else confidences <= high)
        if mask.any():
            rows.append({"bin": f"{low:.1f}-{high:.1f}", "n": int(mask.sum()), "mean_confidence": round(float(confidences[mask].mean()), 3),
                         "share_supported": round(float(labels[mask].mean()), 3)})
    return rows


def plot_reliability(rows: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5, 5))
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    axis.plot([r["mean_confidence"] for r in rows], [r["share_supported"] for r in rows], marker="o", label="answer scorer")
    axis.set_xlabel("confidence (calibrated)")
    axis.set_ylabel("share of answers actually supported")
    axis.set_title(title)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def collect(sample: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(best logit, supported label, answerable flag) per fit question."""
    split = squad_article_split()
    pool = load_squad_items(SQUAD2_DIR / "questions.dev.jsonl", sample=None, articles=split.fit)
    items = stratified_sample(pool, sample, SEED)
    settings = _squad_settings(load_settings())
    engine = Assistant(settings)
    answerer = ExtractiveAnswerer(settings.answer, engine.view())
    scorer = make_answer_scorer()  # uncalibrated: this script is what calibrates it
    logits, labels, answerable = [], [], []
    for item in items:
        vector = engine.embedder.embed_query(item.question)
        passages = engine.retrieve(item.question, top_k=settings.retrieval.top_k)
        request = AnswerRequest(question=item.question, query_vector=vector, passages=tuple(passages), history=())
        scored = answerer.evidence(request, scorer=scorer)
        best_text = scored[0][0].text if scored else ""
        logits.append(scored[0][1] if scored else -20.0)
        labels.append(1.0 if item.answerable and alias_match(best_text, item.answers) else 0.0)
        answerable.append(item.answerable)
    return np.array(logits), np.array(labels), np.array(answerable), len(split.fit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=900, help="fit questions (stratified, seeded)")
    parser.add_argument("--target-false-abstention", type=float, default=0.10)
    args = parser.parse_args()
    started = time.perf_counter()
    logits, labels, answerable, n_articles = collect(args.sample)
    a, b = fit_platt(logits, labels)
    confidences = 1 / (1 + np.exp(-(a * logits + b)))
    threshold = operating_point(confidences, answerable, args.target_false_abstention)
    abstains = confidences < threshold
    rows = reliability(confidences, labels)
    figures = {
        "command": "python evals/calibrate_answer_scorer.py " + f"--sample {args.sample} --target-false-abstention {args.target_false_abstention}",
        "split": f"fit split of the seeded article split ({n_articles} articles), SQuAD 2.0 dev questions, sample seed {SEED}",
        "questions": int(len(labels)), "answerable": int(answerable.sum()), "unanswerable": int((~answerable).sum()),
        "a": a, "b": b, "threshold": threshold, "target_false_abstention": args.target_false_abstention,
        "fit_false_abstention": round(float(abstains[answerable].mean()), 3),
        "fit_unanswerable_abstained": round(float(abstains[~answerable].mean()), 3),
        "fit_brier": round(float(np.mean((confidences - labels) ** 2)), 4),
        "reliability": rows, "seconds": round(time.perf_counter() - started, 1),
    }
    product = {k: figures[k] for k in ("a", "b", "threshold", "target_false_abstention", "split", "command")}
    (DEFAULT_MODEL_DIR / CALIBRATION_FILE).write_text(json.dumps(product, indent=2) + "\n")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "calibration.json").write_text(json.dumps(figures, indent=2) + "\n")
    plot_reliability(rows, RESULTS / "calibration_reliability_fit.png", "Answer scorer reliability (fit split)")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
