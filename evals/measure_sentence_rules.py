"""Measure the sentence splitter's choices on the SQuAD v1.1 *report* articles.

    python evals/measure_sentence_rules.py

A gold answer that straddles a sentence boundary can never be quoted whole by the extractive
answerer, so the share of such answers is what a splitting choice must lower. The splitter is NLTK's
Punkt (English model) run line by line; this prints the shipped setting and each choice switched
off (`assistant.sentences.sentence_spans` arguments), plus the old `initials` rule recast as Punkt
abbreviation types (every single letter), to show whether it would earn its place. It also counts
the sentences of the report passages: fewer cut answers from merely longer sentences is no gain.
Nothing is tuned here; this only checks that each choice earns its place.
"""

from __future__ import annotations

import string

from assistant.evaluation.splits import article_of, squad_article_split
from assistant.jsonl import read_json_lines
from assistant.sentences import ABBREVIATIONS, sentence_spans
from evals.common import EVALS_DATA

DATA = EVALS_DATA / "squad-v1.1-dev"

VARIANTS: dict[str, dict] = {
    "Punkt + abbreviations + lowercase_continues (shipped)": {},
    "without `lowercase_continues`": {"lowercase_continues": False},
    "without the added abbreviations": {"abbreviations": frozenset()},
    "with single-letter initials as abbreviations": {"abbreviations": ABBREVIATIONS | frozenset(string.ascii_lowercase)},
}


def main() -> None:
    report = set(squad_article_split().report)
    passages = {r["id"]: r["text"] for r in read_json_lines(DATA / "passages.jsonl")}
    report_texts = [text for passage_id, text in passages.items() if article_of(passage_id) in report]
    located = []  # (passage text, answer start, answer end) of each report question's first gold answer
    for record in read_json_lines(DATA / "questions.dev.jsonl"):
        (passage_id,) = record["gold_passage_ids"]
        text, answer = passages[passage_id], record["answers"][0]
        if article_of(passage_id) in report and (at := text.find(answer)) >= 0:
            located.append((text, at, at + len(answer)))
    print(f"SQuAD v1.1 report split ({len(report)} articles, {len(report_texts)} passages), "
          f"{len(located)} gold answers located in their passage")
    for label, flags in VARIANTS.items():
        cut = sum(not any(s <= a and b <= e for s, e in sentence_spans(text, **flags)) for text, a, b in located)
        sentences = sum(len(sentence_spans(text, **flags)) for text in report_texts)
        print(f"  {label:55s} answers cut by a sentence boundary: {cut:3d} ({cut / len(located):.2%}); "
              f"sentences: {sentences}")


if __name__ == "__main__":
    main()
