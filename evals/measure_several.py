"""Measure and choose how an answer to a question that asks for several things quotes (issue 28 item 5).

    python evals/measure_several.py [--rows evals/reports/answer-rows] [--write]

A question asks for several things when `answer_types.requested_count` says so ("What are the steps
...", "Which two countries...", "On which dates..."). For those questions only, the quotes are chosen
by `quote_choice.choose_quotes` with the several-things bar (`SEVERAL_*` thresholds) and a larger cap
(`answer.max_sentences_several`); every other question keeps the one-thing bar, so its answer cannot change.

This replays the choice on the candidate rows `evals/answer_rows.py` stored (the shipped scorer's
shortlist, the shipped calibration's selector), over every answerable several-things question of each
domain's fit and report part, whether or not the product would abstain on it (abstention does not
depend on the quotes). Per domain and part it prints:

- support: a quoted sentence answers (SQuAD 2.0 and the corpus: it holds a gold answer; MTRAG: it
  comes from a gold passage);
- precision: the quoted sentences that answer, pooled;
- reference recall and F1 (MTRAG only): the reference answer's content terms (stemmed, no stop words)
  found in the quotes, and their F1 against the quotes' terms, the token measure MTRAG's own
  evaluation uses;
- quotes per answer.

A bar is a cap and two thresholds: one for a candidate from any passage and one for a candidate from a
passage already quoted (the rest of a list or procedure). One is chosen on the fit parts: the best summed
MTRAG fit reference F1 among the bars that lose no support on any fit part and give up at most
PRECISION_GIVEN_UP of the pooled fit quote precision. It is kept only if no report part's support or
reference F1 is lower than the one-thing bar's; precision is printed beside them (quoting more
sentences lowers it: the price of whole answers, shown, not hidden). `--write` saves the table to
evals/results/several_things.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from answer_rows import OUT, Question, load_rows  # noqa: E402

from assistant.answer.answer_types import requested_count  # noqa: E402
from assistant.answer.answerability import FEATURES  # noqa: E402
from assistant.answer.confidence import load_calibration  # noqa: E402
from assistant.answer.quote_choice import (  # noqa: E402
    SEVERAL_LEXICAL_MARGIN,
    SEVERAL_QUOTE_RATIO,
    SEVERAL_WITHIN_MARGIN,
    SEVERAL_WITHIN_RATIO,
    QuoteBar,
    choose_quotes,
)
from assistant.answer.scorer import DEFAULT_MODEL_DIR  # noqa: E402
from assistant.config import AnswerSettings  # noqa: E402
from assistant.evaluation.mtrag_data import DOMAINS, load_turns  # noqa: E402
from assistant.sentences import content_terms  # noqa: E402
from evals.common import FIT_DOMAINS, REPORT_DOMAINS, RESULTS  # noqa: E402

LEXICAL = FEATURES.index("lexical")
RATIOS = (0.7, 0.5, 0.35, 0.2)          # any passage
WITHIN_RATIOS = (None, 0.5, 0.35, 0.2, 0.1)  # a passage already quoted (None: as any passage)
MARGINS = (0.08, 0.12, 0.16)
WITHIN_MARGINS = (None, 0.12, 0.16, 0.24, 0.32)
CAPS = (3, 4, 5)
# The quote precision (pooled over the fit parts) a bar may give up for whole answers: quoting more
# sentences always risks one that does not answer; beyond this the answers read as padded.
PRECISION_GIVEN_UP = 0.05
MTRAG = ("cloud", "fiqa")


def references() -> dict[str, str]:
    """MTRAG turn key -> its reference answer."""
    found = {}
    for name in MTRAG:
        conversations, turns = load_turns(DOMAINS[name].data)
        by_id = {c["id"]: c for c in conversations}
        for t in turns:
            found[t.key] = by_id[t.conversation_id]["turns"][t.index].get("reference_answer") or ""
    return found


def term_scores(quoted: str, reference: str) -> tuple[float, float]:
    """(recall, F1) of the reference's content terms in the quoted text, counted with multiplicity."""
    got, want = Counter(content_terms(quoted)), Counter(content_terms(reference))
    overlap = sum((got & want).values())
    if not want or not got or not overlap:
        return 0.0, 0.0
    recall, precision = overlap / sum(want.values()), overlap / sum(got.values())
    return recall, 2 * recall * precision / (recall + precision)


def replay(q: Question, bar: QuoteBar, path: str, calibration) -> list[int]:
    """The candidate rows the product would quote on `path` (learned or lexical), as row indices."""
    if path == "learned":
        ranked = calibration.ranked(q.rows)
        order, values = [i for _, i in ranked], [p for p, _ in ranked]
    else:
        order = sorted(range(len(q.texts)), key=lambda i: (-q.rows[i, LEXICAL], i))
        values = [float(q.rows[i, LEXICAL]) for i in order]
    picked = choose_quotes(q.question, [q.texts[i] for i in order], values, bar, [q.sources[i] for i in order])
    return [order[i] for i in picked]


def figures(questions: list[Question], bar: QuoteBar, path: str, calibration, refs: dict[str, str]) -> dict:
    support, cited, answering, quotes, recall, f1 = 0, 0, 0, 0, [], []
    for q in questions:
        chosen = replay(q, bar, path, calibration)
        labels = [bool(q.labels[i]) for i in chosen]
        support += any(labels)
        cited += len(labels)
        answering += sum(labels)
        quotes += len(chosen)
        if q.key in refs:
            r, f = term_scores(" ".join(q.texts[i] for i in chosen), refs[q.key])
            recall.append(r)
            f1.append(f)
    n = max(1, len(questions))
    row = {"questions": len(questions), "support": round(support / n, 3), "precision": round(answering / max(1, cited), 3),
           "quotes": round(quotes / n, 2)}
    if recall:
        row |= {"reference_recall": round(sum(recall) / len(recall), 3), "reference_f1": round(sum(f1) / len(f1), 3)}
    return row


def several_questions(rows_dir: Path, domain: str, part: str) -> list[Question]:
    try:
        rows = load_rows(domain, part, rows_dir)
    except FileNotFoundError:
        return []
    return [q for q in rows if q.answerable and q.texts and requested_count(q.question) is not None]


def bars(path: str, caps: tuple[int, ...] = CAPS) -> dict[str, QuoteBar]:
    """The one-thing bar (as shipped) and every several-things candidate, by name."""
    one = AnswerSettings().max_sentences
    if path == "learned":
        found = {"one-thing": QuoteBar(one, 0.7)}
        found |= {bar_name(path, r, w, c): QuoteBar(c, r, w) for r in RATIOS for w in WITHIN_RATIOS for c in caps
                  if w is None or w < r}  # a quoted passage's bar is looser, never stricter
    else:
        found = {"one-thing": QuoteBar(one, 0.08, ratio=False)}
        found |= {bar_name(path, m, w, c): QuoteBar(c, m, w, ratio=False) for m in MARGINS for w in WITHIN_MARGINS for c in caps
                  if w is None or w > m}
    return found


def bar_name(path: str, any_passage: float, within: float | None, cap: int) -> str:
    kind = "ratio" if path == "learned" else "margin"
    return f"{kind} {any_passage} within {within} cap {cap}"


def choose(table: dict) -> str:
    """The fit choice: the best summed MTRAG fit reference F1 among the bars that lose no support on any
    fit part and at most PRECISION_GIVEN_UP of the pooled fit quote precision (ties: the one-thing bar,
    then the earlier bar)."""
    def pooled_precision(name: str) -> float:
        rows = [table[name][f"{d}-fit"] for d in FIT_DOMAINS]
        return sum(r["precision"] * r["questions"] for r in rows) / max(1, sum(r["questions"] for r in rows))

    def allowed(name: str) -> bool:
        keeps = all(table[name][f"{d}-fit"]["support"] >= table["one-thing"][f"{d}-fit"]["support"] for d in FIT_DOMAINS)
        return keeps and pooled_precision(name) >= pooled_precision("one-thing") - PRECISION_GIVEN_UP
    return max([name for name in table if allowed(name)],
               key=lambda name: (round(sum(table[name][f"{d}-fit"].get("reference_f1", 0.0) for d in MTRAG), 3),
                                 name == "one-thing", -list(table).index(name)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=Path, default=OUT)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    calibration = load_calibration(DEFAULT_MODEL_DIR)
    refs = references()
    parts = [(d, "fit") for d in FIT_DOMAINS] + [(d, "report") for d in REPORT_DOMAINS]
    questions = {f"{d}-{p}": several_questions(args.rows, d, p) for d, p in parts}
    results = {}
    cap = AnswerSettings().max_sentences_several
    for path in ("learned", "lexical"):
        # The cap (answer.max_sentences_several) is one setting for both paths: the learned path, the
        # default, chooses it; the lexical path chooses only its margin at the shipped cap.
        table = {name: {key: figures(qs, bar, path, calibration, refs) for key, qs in questions.items()}
                 for name, bar in bars(path, CAPS if path == "learned" else (cap,)).items()}
        pick = choose(table)
        shipped = bar_name(path, SEVERAL_QUOTE_RATIO, SEVERAL_WITHIN_RATIO, cap) if path == "learned" \
            else bar_name(path, SEVERAL_LEXICAL_MARGIN, SEVERAL_WITHIN_MARGIN, cap)
        print(f"\n== {path} path; fit choice: {pick}; shipped: {shipped}")
        for name in ("one-thing", pick, shipped):
            print(f"  {name}")
            for key, row in table[name].items():
                print(f"    {key:16s} {row}")
        worse = [key for key in questions if key.endswith("report") and any(
            table[shipped][key].get(m, 0) < table["one-thing"][key].get(m, 0) for m in ("support", "reference_f1"))]
        print(f"  report parts where the shipped bar has lower support or reference F1 than the one-thing bar: {worse or 'none'}")
        results[path] = {"fit_choice": pick, "shipped": shipped, "report_parts_worse": worse,
                         "table": {name: table[name] for name in ("one-thing", pick, shipped)}}
    if args.write:
        out = RESULTS / "several_things.json"
        out.write_text(json.dumps({"command": "python evals/measure_several.py --write", "rows": str(args.rows),
                                   "questions": {k: len(v) for k, v in questions.items()}, **results}, indent=2) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
