"""Which of the ranked candidate sentences an extractive answer quotes.

One sentence usually answers; a second is quoted when it is nearly as good. A question that asks
for several things ("What are the steps...", "Name the two bodies...", "On which dates...") needs
every sentence that holds one of them, so it gets a looser bar and a larger cap, and, when it says
how many things of a type it wants, stops once the quotes hold that many."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answer.answer_types import expected_type, requested_count, typed_candidates

# For a question asking for several things, a further candidate is quoted when the selector finds it
# at least this share as likely as the best (learned path; one thing asks 0.7, Calibration.second_quote_ratio),
# or within this margin of the best lexical score (lexical path; one thing asks 0.08). Chosen on the fit parts
# by evals/measure_several.py (evals/results/several_things.json): on the report parts' several-things
# questions a quote answers more often (SQuAD 0.714 -> 0.857, Cloud 0.533 -> 0.800, FiQA 0.600 -> 0.900,
# news 0.667 -> 0.667) and the quotes hold more of MTRAG's reference answers (term F1 Cloud 0.172 -> 0.286,
# FiQA 0.142 -> 0.247), at lower quote precision on SQuAD, FiQA and news.
SEVERAL_QUOTE_RATIO = 0.2
SEVERAL_LEXICAL_MARGIN = 0.12


# A run of capitalised words not opening the sentence: one named thing of a list ("Arnhold and Brisk").
_NAMED = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*")


def named_things(text: str, kind: str, question: str) -> set[str]:
    """The distinct things of the asked kind a sentence names and the question does not: dates and
    figures as the type rules find them, places and people as runs of capitalised words."""
    if kind in ("place", "person"):
        asked = set(re.findall(r"[\w’'-]+", question.lower()))
        found = {m.group(0).lower() for m in _NAMED.finditer(text)}
        return {name for name in found if not set(name.split()) <= asked}
    return {c.lower() for c in typed_candidates(text, kind, question)}


@dataclass(frozen=True)
class QuoteBar:
    """How far below the best candidate a further one may be and still be quoted, and how many at most."""

    cap: int
    ratio: float | None = None   # learned path: share of the best selector probability
    margin: float | None = None  # lexical path: distance below the best lexical score

    def admits(self, best: float, value: float) -> bool:
        if self.ratio is not None:
            return value >= self.ratio * best
        return value >= best - (self.margin or 0.0)


def quote_bar(question: str, *, max_sentences: int, max_sentences_several: int, ratio: float | None = None,
              margin: float | None = None) -> QuoteBar:
    """The bar for this question: the one-thing bar, or the several-things one when it asks for more."""
    count = requested_count(question)
    if count is None:
        return QuoteBar(max_sentences, ratio, margin)
    cap = max(max_sentences, min(count, max_sentences_several) if count else max_sentences_several)
    return QuoteBar(cap, SEVERAL_QUOTE_RATIO if ratio is not None else None,
                    SEVERAL_LEXICAL_MARGIN if margin is not None else None)


def choose_quotes(question: str, texts: Sequence[str], values: Sequence[float], bar: QuoteBar) -> list[int]:
    """Indices of the candidates to quote, best first. `texts` and `values` are in rank order (best
    first; values are selector probabilities or lexical scores as the bar expects). A question that
    names a count of a typed thing ("which two cities") stops once the quotes hold that many."""
    if not texts:
        return []
    count, kind = requested_count(question), expected_type(question)
    wanted = count if count and kind not in (None, "expansion") else None
    chosen = [0]
    found = named_things(texts[0], kind, question) if wanted else set()
    for i in range(1, len(texts)):
        if len(chosen) >= bar.cap or not bar.admits(values[0], values[i]) or (wanted and len(found) >= wanted):
            break
        if any(texts[i] == texts[c] for c in chosen):
            continue
        chosen.append(i)
        if wanted:
            found |= named_things(texts[i], kind, question)
    return chosen
