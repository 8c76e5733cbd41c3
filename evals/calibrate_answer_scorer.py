"""Fit the confidence model of the learned answer scorer and choose the abstention operating point,
on SQuAD 2.0 *fit* articles the scorer never trained on. Writes
`assistant/models/answer_scorer/calibration.json` (read by the product) and
`evals/results/calibration.json` + a reliability chart. Nothing here reads a report article.

    python evals/calibrate_answer_scorer.py [--target-false-abstention 0.10]

For every SQuAD 2.0 question of the calibration articles (`calibration_articles`: fit articles
held out of `evals/train_answer_scorer.py`), the real pipeline retrieves passages over all 2,067
SQuAD passages, shortlists sentences with the lexical score and re-reads them with the scorer,
exactly as `ExtractiveAnswerer` does at question time, and records each candidate's feature row
(`assistant/answer/answerability.py`). A candidate's label is whether it holds a gold answer (never,
for an unanswerable question).

Two logistic regressions on standardised features (`assistant/answer/confidence.py`): the
selector over every candidate (label: it holds a gold answer), then the confidence model over each
question's selected candidate (`CONFIDENCE_FEATURES`; label: that candidate holds a gold answer).
Both regularisation strengths are picked by leave-one-article-out log loss; the threshold is the
largest confidence that keeps false abstention on answerable questions at the target, read off
leave-one-article-out confidences (what the models say about an article they were not fitted on).
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant import Assistant, load_settings
from assistant.answer.answerability import (
    CONFIDENCE_FEATURES,
    FEATURES,
    confidence_features,
)
from assistant.answer.base import AnswerRequest
from assistant.answer.confidence import CALIBRATION_FILE, LogisticModel
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.scorer import DEFAULT_MODEL_DIR, make_answer_scorer
from assistant.evaluation.metrics import alias_match
from assistant.evaluation.reliability import (
    expected_calibration_error,
    plot_reliability,
    reliability_bins,
)
from assistant.evaluation.splits import (
    article_of,
    calibration_articles,
    squad_article_split,
)
from assistant.evaluation.suites import SQUAD2_DIR, load_squad_items, squad_settings
from evals.common import RESULTS

REGULARISATION_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 1.0)
# The quote-a-second-sentence rule (see `Calibration.second_quote_ratio`): the table this script
# prints for each ratio is the measurement behind the choice; 0.7 adds a quote to about a quarter
# of answers, where the share of answers holding the gold answer stops rising steeply.
SECOND_QUOTE_RATIO = 0.7
SECOND_QUOTE_RATIOS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass(frozen=True)
class Question:
    article: str
    answerable: bool
    rows: np.ndarray     # candidates x features, scorer order
    labels: np.ndarray   # candidate holds a gold answer


def collect(model_dir: Path, articles: tuple[str, ...]) -> list[Question]:
    items = load_squad_items(SQUAD2_DIR / "questions.dev.jsonl", sample=None, articles=articles)
    # The engine only retrieves here: its own answerer must not need the calibration being made.
    settings = squad_settings(load_settings()).with_(answer={"scorer": "lexical", "short_answers": "patterns"})
    engine = Assistant(settings)
    answerer = ExtractiveAnswerer(settings.answer, engine.view())
    scorer = make_answer_scorer(model_dir)  # the scorer alone: this script is what calibrates it
    questions = []
    for n, item in enumerate(items, start=1):
        passages = engine.retrieve(item.question, top_k=settings.retrieval.top_k)
        request = AnswerRequest(question=item.question, query_vector=engine.embedder.embed_query(item.question),
                                passages=tuple(passages), history=())
        scored = answerer.evidence(request, scorer=scorer)
        rows = np.array(answerer.judged(request, scored), dtype=float).reshape(len(scored), len(FEATURES))
        labels = np.array([item.answerable and alias_match(s.text, item.answers) for s, _ in scored], dtype=float)
        questions.append(Question(article_of(item.sources[0]), item.answerable, rows, labels))
        if n % 200 == 0:
            print(f"  {n}/{len(items)} questions", flush=True)
    return questions


@dataclass(frozen=True)
class Fitted:
    selector: LogisticModel
    confidence: LogisticModel


def logistic(x: np.ndarray, y: np.ndarray, c: float, names: tuple[str, ...]) -> LogisticModel:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=2000).fit((x - mean) / scale, y)
    return LogisticModel(names, tuple(mean.tolist()), tuple(scale.tolist()), tuple(model.coef_[0].tolist()), float(model.intercept_[0]))


def selector_order(selector: LogisticModel, question: Question) -> list[tuple[float, int]]:
    """(probability, candidate), most likely first, computed by the product's own model code."""
    return sorted(((selector.probability(row), i) for i, row in enumerate(question.rows.tolist())), key=lambda pair: (-pair[0], pair[1]))


def fit_selector(questions: list[Question], c_select: float) -> LogisticModel:
    answered = [q for q in questions if len(q.rows)]
    return logistic(np.vstack([q.rows for q in answered]), np.concatenate([q.labels for q in answered]), c_select, FEATURES)


def fit(questions: list[Question], c_select: float, c_confidence: float) -> Fitted:
    """The selector over every candidate, then the confidence model over each question's chosen one."""
    selector = fit_selector(questions, c_select)
    rows, labels = [], []
    for q in (q for q in questions if len(q.rows)):
        best = selector_order(selector, q)[0][1]
        rows.append(confidence_features(q.rows.tolist(), best))
        labels.append(q.labels[best])
    return Fitted(selector, logistic(np.array(rows), np.array(labels), c_confidence, CONFIDENCE_FEATURES))


def confidence(fitted: Fitted, question: Question) -> tuple[float, bool]:
    """(the product's confidence, whether the candidate it would quote holds a gold answer)."""
    if not len(question.rows):
        return 0.0, False
    best = selector_order(fitted.selector, question)[0][1]
    return fitted.confidence.probability(confidence_features(question.rows.tolist(), best)), bool(question.labels[best])


def by_article(questions: list[Question]) -> list[tuple[list[Question], list[int]]]:
    """(the other articles' questions, the indices of this article's), per article."""
    articles = sorted({q.article for q in questions})
    return [([q for q in questions if q.article != a], [i for i, q in enumerate(questions) if q.article == a]) for a in articles]


def out_of_fold(questions: list[Question], c_select: float, c_confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Each question's confidence and label from models fitted without its article."""
    conf, label = np.zeros(len(questions)), np.zeros(len(questions))
    for others, held in by_article(questions):
        fitted = fit(others, c_select, c_confidence)
        for i in held:
            conf[i], label[i] = confidence(fitted, questions[i])
    return conf, label


def second_quote_table(questions: list[Question], c_select: float) -> list[dict]:
    """Out-of-fold: how often a second quote is added, and answers holding a gold answer, per ratio."""
    ordered = []  # (labels, selector order) of each answerable question, by a selector fitted without its article
    for others, held in by_article(questions):
        selector = fit_selector(others, c_select)
        ordered += [(questions[i].labels, selector_order(selector, questions[i])) for i in held
                    if questions[i].answerable and len(questions[i].rows) >= 2]
    table = []
    for ratio in SECOND_QUOTE_RATIOS:
        one = with_rule = quoted = n = 0
        for labels, ((p_first, first), (p_second, second_index)) in ((lab, order[:2]) for lab, order in ordered):
            second = p_second >= ratio * p_first
            n, quoted = n + 1, quoted + second
            one += labels[first] == 1
            with_rule += labels[first] == 1 or (second and labels[second_index] == 1)
        table.append({"ratio": ratio, "second_quoted": round(quoted / n, 3), "right_one_quote": round(one / n, 3),
                      "right_with_rule": round(with_rule / n, 3)})
    return table


def log_loss(conf: np.ndarray, label: np.ndarray) -> float:
    conf = np.clip(conf, 1e-6, 1 - 1e-6)
    return float(-np.mean(label * np.log(conf) + (1 - label) * np.log(1 - conf)))


def operating_point(confidences: np.ndarray, answerable: np.ndarray, target: float) -> float:
    """The largest threshold with false abstention (answerable below it) at or under `target`."""
    values = np.sort(confidences[answerable])
    allowed = int(math.floor(target * len(values)))
    return float(values[allowed]) if allowed < len(values) else float(values[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-false-abstention", type=float, default=0.10)
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR, help="the scorer to calibrate; calibration.json goes there")
    parser.add_argument("--results", type=Path, default=RESULTS / "calibration.json")
    parser.add_argument("--cache", type=Path, default=None,
                        help="keep the collected feature rows in this .pkl and reuse them on the next run (same scorer only)")
    args = parser.parse_args()
    started = time.perf_counter()
    articles = calibration_articles(squad_article_split())
    if args.cache is not None and args.cache.is_file():
        questions = pickle.loads(args.cache.read_bytes())
    else:
        questions = collect(args.model_dir, articles)
        if args.cache is not None:
            args.cache.write_bytes(pickle.dumps(questions))
    answerable = np.array([q.answerable for q in questions])
    grid = [(cs, cc) for cs in REGULARISATION_GRID for cc in REGULARISATION_GRID]
    losses = {pair: log_loss(*out_of_fold(questions, *pair)) for pair in grid}
    c_select, c_confidence = min(losses, key=lambda pair: (losses[pair], pair))
    conf, label = out_of_fold(questions, c_select, c_confidence)
    threshold = operating_point(conf, answerable, args.target_false_abstention)
    abstains = conf < threshold
    fitted = fit(questions, c_select, c_confidence)
    rows = reliability_bins(conf, label)
    figures = {
        "command": f"python evals/calibrate_answer_scorer.py --target-false-abstention {args.target_false_abstention}",
        "split": f"calibration articles {list(articles)}: fit articles of the seeded article split that the scorer never trained on",
        "questions": len(questions), "answerable": int(answerable.sum()), "unanswerable": int((~answerable).sum()),
        "C_selector": c_select, "C_confidence": c_confidence,
        "log_loss_by_C": {f"{cs}/{cc}": round(v, 4) for (cs, cc), v in losses.items()},
        "threshold": threshold, "target_false_abstention": args.target_false_abstention,
        "out_of_fold": {"false_abstention": round(float(abstains[answerable].mean()), 3),
                        "unanswerable_abstained": round(float(abstains[~answerable].mean()), 3),
                        "answered_right": round(float((~abstains & (label == 1))[answerable].mean()), 3),
                        "chosen_sentence_right": round(float(label[answerable].mean()), 3),
                        "brier": round(float(np.mean((conf - label) ** 2)), 4), "ece": expected_calibration_error(rows),
                        "reliability": rows},
        "second_quote": second_quote_table(questions, c_select),
        "second_quote_ratio": SECOND_QUOTE_RATIO,
        "selector_weights": dict(zip(FEATURES, np.round(fitted.selector.weights, 4).tolist())),
        "confidence_weights": dict(zip(CONFIDENCE_FEATURES, np.round(fitted.confidence.weights, 4).tolist())),
        "seconds": round(time.perf_counter() - started, 1),
    }
    product = {"selector": fitted.selector.to_json(), "confidence": fitted.confidence.to_json(), "threshold": threshold,
               "target_false_abstention": args.target_false_abstention, "second_quote_ratio": SECOND_QUOTE_RATIO,
               "split": figures["split"], "command": figures["command"]}
    (args.model_dir / CALIBRATION_FILE).write_text(json.dumps(product, indent=2) + "\n")
    # The per-collection rule scales this confidence model's output, so a new model needs a new rule.
    print("the per-collection abstention rule was dropped with the old confidence model; re-fit it: "
          "python evals/probe_rows.py && python evals/fit_collection_threshold.py --write")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(figures, indent=2) + "\n")
    plot_reliability(rows, args.results.with_name("calibration_reliability_fit.png"),
                     "Answer confidence reliability (calibration articles, out-of-fold)")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
