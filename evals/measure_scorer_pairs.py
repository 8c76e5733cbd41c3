"""How many (question, sentence) pairs and word pieces the answer scorer really needs (issue 29 item 2).

    python evals/measure_scorer_pairs.py [--rows evals/reports/answer-rows] [--parts report]

From the candidate rows of evals/answer_rows.py (the lexical shortlist of `answer.scorer_candidates`
sentences every question's scorer re-read), per domain and part: the word pieces of a pair (question +
sentence, as the scorer tokenises them; `scorer.MAX_LENGTH` cuts the rest) and the rank, in the lexical
shortlist, of the first sentence that answers (answerable questions with one shortlisted). What a shorter
shortlist does to the answers is measured by replaying the rows:

    python evals/rescore_rows.py --candidates K --out evals/reports/rows-cut-K
    python evals/fit_collection_threshold.py --rows evals/reports/rows-cut-K --model-dir <copy of the scorer folder>

Figures go to evals/results/speed/scorer_pairs.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from answer_rows import OUT, load_rows  # noqa: E402
from rescore_rows import LEXICAL  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

from assistant.answer.scorer import DEFAULT_MODEL_DIR, MAX_LENGTH  # noqa: E402
from assistant.config import PROJECT_ROOT  # noqa: E402

DOMAINS = ("squad2", "cloud", "fiqa", "corpus")
RANKS = (1, 2, 4, 6, 8, 10, 12)
RESULTS = PROJECT_ROOT / "evals" / "results" / "speed" / "scorer_pairs.json"


def lexical_rank_of_first_answer(rows: np.ndarray, labels: np.ndarray) -> int | None:
    order = sorted(range(len(labels)), key=lambda i: (-rows[i, LEXICAL], i))
    ranks = [order.index(i) + 1 for i in np.flatnonzero(labels)]
    return min(ranks) if ranks else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=Path, default=OUT)
    parser.add_argument("--parts", default="fit,report")
    args = parser.parse_args()
    tokenizer = Tokenizer.from_file(str(DEFAULT_MODEL_DIR / "tokenizer.json"))
    results: dict[str, dict] = {}
    for part in args.parts.split(","):
        for domain in DOMAINS:
            if not (args.rows / f"{domain}-{part}.pkl").is_file():
                continue
            questions = load_rows(domain, part, args.rows)
            pieces = np.array([len(e.ids) for q in questions for e in tokenizer.encode_batch([(q.sent, t) for t in q.texts])])
            found = [lexical_rank_of_first_answer(q.rows, q.labels) for q in questions if q.answerable]
            ranks = np.array([r for r in found if r is not None])
            figures = {"pairs": int(len(pieces)), "pairs_per_question": round(len(pieces) / max(len(questions), 1), 2),
                       "word_pieces_p50": float(np.percentile(pieces, 50)), "word_pieces_p95": float(np.percentile(pieces, 95)),
                       f"share_cut_at_{MAX_LENGTH}": round(float(np.mean(pieces >= MAX_LENGTH)), 4),
                       "answerable_with_answer_shortlisted": int(len(ranks)),
                       "answer_within_lexical_top": {k: round(float(np.mean(ranks <= k)), 3) for k in RANKS}}
            results[f"{domain}-{part}"] = figures
            print(f"{domain:<7} {part:<6} pairs {figures['pairs']:>5} ({figures['pairs_per_question']}/question), word "
                  f"pieces p50 {figures['word_pieces_p50']:.0f} p95 {figures['word_pieces_p95']:.0f}, cut "
                  f"{figures[f'share_cut_at_{MAX_LENGTH}']:.1%}; first answer within lexical top-k (n={len(ranks)}): "
                  + " ".join(f"{k}:{v:.2f}" for k, v in figures["answer_within_lexical_top"].items()))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
