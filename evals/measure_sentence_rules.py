"""Measure the sentence splitter's two general rules on the SQuAD v1.1 *report* articles.

    python evals/measure_sentence_rules.py

A gold answer that straddles a sentence boundary can never be quoted whole by the extractive
answerer, so the share of such answers is what a splitting rule must lower. Prints it with both
rules, and with each switched off (`assistant.sentences.sentence_spans` flags). Nothing is tuned
here: the rules are fixed; this only checks that each one earns its place.
"""

from __future__ import annotations

import json
from pathlib import Path

from assistant.evaluation.splits import article_of, squad_article_split
from assistant.sentences import sentence_spans

DATA = Path(__file__).resolve().parent / "data" / "squad-v1.1-dev"


def main() -> None:
    report = set(squad_article_split().report)
    passages = {r["id"]: r["text"] for r in map(json.loads, (DATA / "passages.jsonl").open(encoding="utf-8"))}
    located = []  # (passage text, answer start, answer end) of each report question's first gold answer
    for record in map(json.loads, (DATA / "questions.dev.jsonl").open(encoding="utf-8")):
        (passage_id,) = record["gold_passage_ids"]
        text, answer = passages[passage_id], record["answers"][0]
        if article_of(passage_id) in report and (at := text.find(answer)) >= 0:
            located.append((text, at, at + len(answer)))
    variants = {"both rules (shipped)": {}, "without `initials`": {"initials": False},
                "without `lowercase_continues`": {"lowercase_continues": False}}
    print(f"SQuAD v1.1 report split ({len(report)} articles), {len(located)} gold answers located in their passage")
    for label, flags in variants.items():
        cut = sum(not any(s <= a and b <= e for s, e in sentence_spans(text, **flags)) for text, a, b in located)
        print(f"  {label:32s} answers cut by a sentence boundary: {cut:3d} ({cut / len(located):.2%})")


if __name__ == "__main__":
    main()
