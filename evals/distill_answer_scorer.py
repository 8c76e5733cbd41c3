"""Distil the answer scorer into a shallower student (issue 29: the scorer is most of an answer's time).

    python evals/distill_answer_scorer.py [--layers 3] [--epochs 2] [--out evals/reports/scorer-student]

The student is the shipped scorer (`assistant/models/answer_scorer`, the teacher) with only `--layers`
of its six transformer layers kept (evenly spaced, as DistilBERT-style layer dropping does), then trained
on the teacher's own training pairs (SQuAD fit articles less the calibration articles, exactly as
`evals/train_answer_scorer.py` builds them, same seed) to match both the gold label and the teacher's
logit: loss = BCE(student, label) + MSE(student, teacher logit) / TEACHER_SCALE². The teacher's logits
are computed once through the product's scorer (ONNX Runtime).

It saves the student like the shipped weights (fp16 safetensors + tokenizer; a checkpoint after each
epoch) and prints the same report-article figures as the teacher's training (answer-sentence accuracy,
answerability AUC), so the two compare directly. Its figures per domain come from re-reading the stored
candidate rows: `evals/compare_scorers.sh evals/reports/scorer-student`, and its speed beside the
teacher's from `python evals/train_answer_scorer.py --latency-only --out evals/reports/scorer-student
--results evals/results/scorer_student_latency.json` (the same with `--out assistant/models/answer_scorer`).
Figures go to `--results` (default evals/results/scorer_student.json).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "evals"))

from train_answer_scorer import (  # noqa: E402
    PASSAGES,
    QUESTION_FILES,
    SEED,
    TrainConfig,
    evaluate,
    in_part,
    load_paragraphs,
    load_questions,
    print_figures,
    run_steps,
    save_fp16,
    score_paragraphs,
    seed_everything,
    training_pairs,
)

from assistant.answer.scorer import DEFAULT_MODEL_DIR, MAX_LENGTH, make_answer_scorer  # noqa: E402
from assistant.evaluation.splits import (  # noqa: E402
    article_of,
    calibration_articles,
    squad_article_split,
)
from evals.common import RESULTS  # noqa: E402

OUT = REPO / "evals" / "reports" / "scorer-student"
# Logits of the teacher span about ±8; dividing the squared difference by this keeps the matching term
# on the scale of the label term at the start of training (both ~0.5).
TEACHER_SCALE = 4.0
TEACHER_BATCH = 64


def kept_layers(total: int, keep: int) -> list[int]:
    """Evenly spaced layers to keep, always the last: 6 -> 3 keeps 1, 3, 5 (0-based)."""
    step = total / keep
    return sorted({min(total - 1, int(round(step * (i + 1))) - 1) for i in range(keep)})


def teacher_logits(pairs, teacher_dir: Path) -> np.ndarray:
    scorer = make_answer_scorer(teacher_dir)
    logits = np.zeros(len(pairs), dtype=np.float32)
    by_question: dict[str, list[int]] = {}
    for i, p in enumerate(pairs):
        by_question.setdefault(p.question, []).append(i)
    for n, (question, rows) in enumerate(by_question.items(), start=1):
        logits[rows] = scorer.score(question, [pairs[i].sentence for i in rows])
        if n % 1000 == 0:
            print(f"  teacher: {n}/{len(by_question)} questions", flush=True)
    return logits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--teacher", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--results", type=Path, default=RESULTS / "scorer_student.json")
    parser.add_argument("--report-limit", type=int, default=1500,
                        help="score a seeded sample of N report questions (as the other candidates were)")
    args = parser.parse_args()
    import random

    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.set_num_threads(args.threads)
    rng = seed_everything(args.seed)
    started = time.perf_counter()
    split = squad_article_split()
    paragraphs = load_paragraphs(PASSAGES)
    questions = load_questions(*QUESTION_FILES)
    held_out = set(calibration_articles(split))
    fit = [q for q in in_part(questions, split, "fit") if article_of(q.passage_id) not in held_out]
    report = in_part(questions, split, "report")
    report = random.Random(args.seed).sample(report, min(args.report_limit, len(report)))
    pairs, counts = training_pairs(("squad",), fit, paragraphs, hard_negatives=2, mtrag_repeat=1, rng=rng)
    print(f"{len(pairs)} pairs from {len(fit)} fit questions; teacher logits...", flush=True)
    soft = teacher_logits(pairs, args.teacher)

    tokenizer = AutoTokenizer.from_pretrained(args.teacher, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(args.teacher, local_files_only=True, dtype=torch.float32)
    layers = kept_layers(model.config.num_hidden_layers, args.layers)
    model.bert.encoder.layer = torch.nn.ModuleList(model.bert.encoder.layer[i] for i in layers)
    model.config.num_hidden_layers = len(layers)
    print(f"student keeps layers {layers} of the teacher's", flush=True)

    encoded = tokenizer([p.question for p in pairs], [p.sentence for p in pairs], truncation="longest_first",
                        max_length=MAX_LENGTH)
    features = [{k: encoded[k][i] for k in encoded} for i in range(len(pairs))]
    labels = torch.tensor([p.label for p in pairs], dtype=torch.float32)
    targets = torch.from_numpy(soft)
    bce = torch.nn.BCEWithLogitsLoss()

    def batch_loss(batch: list[int]):
        out = model(**tokenizer.pad([features[i] for i in batch], return_tensors="pt")).logits[:, 0]
        return bce(out, labels[batch]) + torch.mean((out - targets[batch]) ** 2) / TEACHER_SCALE ** 2

    def checkpoint(epoch: int) -> None:
        save_fp16(model, tokenizer, args.out.parent / f"{args.out.name}-epoch-{epoch}")

    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
                         head_learning_rate=args.lr, warmup_share=0.06, weight_decay=0.01)
    training = run_steps(model, config, [len(f["input_ids"]) for f in features], batch_loss, rng, after_epoch=checkpoint)
    size = save_fp16(model, tokenizer, args.out)
    scorer_figures = evaluate(score_paragraphs(make_answer_scorer(args.out), report, paragraphs, "student"), report, paragraphs)
    print_figures("distilled student", scorer_figures)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps({
        "command": shlex.join(["python", "evals/distill_answer_scorer.py", *sys.argv[1:]]), "seed": args.seed,
        "layers_kept": layers, "pairs": len(pairs), "pair_counts": counts, "training": training, "model": size,
        "report_questions": len(report), "report": scorer_figures,
        "minutes": round((time.perf_counter() - started) / 60, 1)}, indent=1) + "\n")
    print(f"wrote {args.results}", flush=True)


if __name__ == "__main__":
    main()
