"""Re-read collected candidate rows with another answer scorer, without running retrieval again.

    python evals/rescore_rows.py --scorer evals/reports/scorer-candidate --out evals/reports/answer-rows-candidate
    python evals/fit_answer_trust.py --rows evals/reports/answer-rows-candidate
    python evals/fit_collection_threshold.py --rows evals/reports/answer-rows-candidate
    python evals/rescore_rows.py --runtime onnx-int8 --out evals/reports/rows-int8      # the int8 scorer
    python evals/rescore_rows.py --candidates 6 --out evals/reports/rows-6-candidates   # a shorter shortlist

`evals/answer_rows.py` and `evals/probe_rows.py` store, for every question, the sentences the
lexical shortlist put in front of the scorer (`texts`) and the question the scorer read (`sent`).
The shortlist does not depend on the scorer, and of the feature row (`answerability.FEATURES`) only
`logit` and `margin` do, so a candidate scorer's rows are exactly these rows with those two columns
recomputed (and the candidates re-sorted by the new logit, as `ExtractiveAnswerer.evidence` orders
them). This makes comparing scorers a matter of minutes instead of a full pipeline run per model.

MTRAG fit conversations a candidate was trained on (`train_answer_scorer.scorer_half`) are dropped
from its fit rows with `--drop-trained-conversations`: the confidence model must be fitted on turns
the scorer never saw, as SQuAD's calibration articles are kept out of its training.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from answer_rows import OUT, Question, _corpus_items, _mtrag_items, _save, load_rows  # noqa: E402
from mtrag_pairs import scorer_half  # noqa: E402

from assistant.answer.answerability import FEATURES, logit_margins  # noqa: E402
from assistant.answer.scorer import DEFAULT_MODEL_DIR, AnswerScorer, make_answer_scorer  # noqa: E402
from assistant.config import InferenceSettings  # noqa: E402
from assistant.evaluation.mtrag_data import DOMAINS, load_turns  # noqa: E402
from assistant.types import Turn  # noqa: E402

LOGIT, MARGIN, LEXICAL = FEATURES.index("logit"), FEATURES.index("margin"), FEATURES.index("lexical")
MTRAG_DOMAINS = ("cloud", "fiqa")


def rescored(q: Question, scorer: AnswerScorer, reads: str | None = None) -> Question:
    """The question's rows with the candidate scorer's logits and margins, best logit first; the
    scorer reads `reads` (default: what it read when the rows were collected)."""
    if not q.texts:
        return q
    logits = np.asarray(scorer.score(reads if reads is not None else q.sent, list(q.texts)), dtype=float)
    rows = q.rows.copy()
    rows[:, LOGIT] = logits
    rows[:, MARGIN] = logit_margins(logits.tolist())
    order = sorted(range(len(logits)), key=lambda i: (-logits[i], i))
    return Question(q.domain, q.part, q.group, q.key, q.question, q.sent, q.answerable, rows[order], q.labels[order],
                    q.lexical_top, tuple(q.texts[i] for i in order), tuple(q.sources[i] for i in order))


def shortlisted(q: Question, keep: int) -> Question:
    """The question as if the scorer re-read only the `keep` best candidates of the lexical score
    (issue 29 item 2: fewer wasted pairs); stored logits kept, margins recomputed, best logit first."""
    if len(q.texts) <= keep:
        return q
    kept_rows = sorted(sorted(range(len(q.texts)), key=lambda i: (-q.rows[i, LEXICAL], i))[:keep])
    rows = q.rows[kept_rows].copy()
    rows[:, MARGIN] = logit_margins(rows[:, LOGIT].tolist())
    order = sorted(range(len(kept_rows)), key=lambda i: (-rows[i, LOGIT], i))
    return Question(q.domain, q.part, q.group, q.key, q.question, q.sent, q.answerable, rows[order],
                    q.labels[kept_rows][order], q.lexical_top, tuple(q.texts[kept_rows[i]] for i in order),
                    tuple(q.sources[kept_rows[i]] for i in order))


# What the scorer reads of a follow-up (issue 28 item 3): the rewrite (keyword pile appended, what the
# rows hold), the user's words alone, or the user's words with the previous question in its own words.
READS = ("rewrite", "asked", "asked+previous")


def histories() -> dict[str, tuple[Turn, ...]]:
    """Row key -> the turns before it, for the conversational domains."""
    found = {}
    for name, domain in DOMAINS.items():
        _, turns = load_turns(domain.data)
        for part in ("fit", "report"):
            found.update((a.key, a.history) for a in _mtrag_items(name, part, turns))
    found.update((a.key, a.history) for a in _corpus_items())
    return found


def scorer_text(q: Question, reads: str, history: tuple[Turn, ...]) -> str | None:
    """The text the scorer reads under `reads`, or None for what the rows already hold."""
    if reads == "rewrite" or q.sent == q.question or not history:
        return None
    if reads == "asked":
        return q.question
    return f"{q.question} ({history[-1].question.strip()})"


def kept(q: Question, drop_trained: bool) -> bool:
    return not (drop_trained and q.domain in MTRAG_DOMAINS and q.part == "fit" and scorer_half(q.group) == "train")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scorer", type=Path, default=DEFAULT_MODEL_DIR, help="a folder saved by evals/train_answer_scorer.py")
    parser.add_argument("--runtime", choices=("torch", "onnx", "onnx-int8"), default="onnx",
                        help="how the scorer runs (the product's default: onnx)")
    parser.add_argument("--reads", choices=READS, default="rewrite", help="what the scorer reads of a follow-up")
    parser.add_argument("--rows", type=Path, default=OUT, help="the collected rows to re-read")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--only-changed", action="store_true",
                        help="the rows were collected with this scorer: re-read only the follow-ups whose text --reads changes")
    parser.add_argument("--candidates", type=int, default=None,
                        help="keep only this many best lexical candidates per question (stored logits, no re-reading)")
    parser.add_argument("--drop-trained-conversations", action="store_true",
                        help="leave out the MTRAG fit conversations the scorer was trained on")
    args = parser.parse_args()
    runtime = "torch" if args.runtime == "torch" else "onnx"
    int8 = ("answer_scorer",) if args.runtime == "onnx-int8" else ()
    scorer = None if args.candidates else make_answer_scorer(args.scorer, inference=InferenceSettings(runtime=runtime, int8=int8))
    history = histories() if args.reads != "rewrite" else {}
    for path in sorted(args.rows.glob("*.pkl")):
        if (args.out / path.name).is_file():
            continue
        started = time.perf_counter()
        domain, part = path.stem.split("-", 1)
        questions = []
        for q in load_rows(domain, part, args.rows):
            if kept(q, args.drop_trained_conversations) and scorer is None:
                questions.append(shortlisted(q, args.candidates))
            elif kept(q, args.drop_trained_conversations):
                text = scorer_text(q, args.reads, history.get(q.key, ()))
                questions.append(q if text is None and args.only_changed else rescored(q, scorer, text))
        _save(args.out / path.name, questions)
        print(f"{path.name}: {len(questions)} questions re-read in {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
