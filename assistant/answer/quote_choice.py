"""Which of the ranked candidate sentences an extractive answer quotes.

One sentence usually answers; a second is quoted when it is nearly as good. A question that asks
for several things ("What are the steps...", "Name the two bodies...", "On which dates...") needs
every sentence that holds one of them, so it gets a looser bar and a larger cap, and, when it says
how many things of a type it wants, stops once the quotes hold that many."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answer.answer_types import (
    expected_type,
    requested_count,
    typed_candidates,
)

# For a question asking for several things, a further candidate is quoted when the selector finds it at
# least SEVERAL_QUOTE_RATIO as likely as the best, or SEVERAL_WITHIN_RATIO when its passage is already
# quoted (learned path; one thing asks 0.7 of any passage, Calibration.second_quote_ratio); on the lexical
# path, within these margins of the best score (one thing: 0.08). Chosen on the fit parts by
# evals/measure_several.py (figures in evals/results/several_things.json and evals/README.md).
SEVERAL_QUOTE_RATIO = 0.2
SEVERAL_WITHIN_RATIO = None
SEVERAL_LEXICAL_MARGIN = 0.08
SEVERAL_WITHIN_MARGIN = 0.12


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
    """How far below the best candidate a further one may be and still be quoted, and how many at most.

    `bar` holds for a candidate from any passage; `within`, when set, for one from a passage already
    quoted (the next steps of a procedure, the rest of a list). Values are a share of the best
    selector probability (`ratio`, learned path) or a distance below the best lexical score
    (`margin`, lexical path)."""

    cap: int
    bar: float
    within: float | None = None
    ratio: bool = True

    def admits(self, best: float, value: float, quoted_passage: bool) -> bool:
        bar = self.within if quoted_passage and self.within is not None else self.bar
        return value >= bar * best if self.ratio else value >= best - bar


def quote_bar(question: str, *, max_sentences: int, max_sentences_several: int, ratio: float | None = None,
              margin: float | None = None) -> QuoteBar:
    """The bar for this question: `ratio` (learned path) or `margin` (lexical path) as one thing
    asks, or the several-things bar when the question asks for more."""
    one = ratio if ratio is not None else margin
    if one is None:
        raise ValueError("quote_bar needs a ratio (learned path) or a margin (lexical path)")
    count = requested_count(question)
    if count is None:
        return QuoteBar(max_sentences, one, None, ratio is not None)
    cap = max(max_sentences, min(count, max_sentences_several) if count else max_sentences_several)
    if ratio is not None:
        return QuoteBar(cap, SEVERAL_QUOTE_RATIO, SEVERAL_WITHIN_RATIO, True)
    return QuoteBar(cap, SEVERAL_LEXICAL_MARGIN, SEVERAL_WITHIN_MARGIN, False)


def choose_quotes(question: str, texts: Sequence[str], values: Sequence[float], bar: QuoteBar,
                  passages: Sequence[str] | None = None) -> list[int]:
    """Indices of the candidates to quote, best first. `texts`, `values` (selector probabilities or
    lexical scores, as the bar expects) and `passages` (an id per candidate; None: all different) are in
    rank order, best first. A question that names a count of a typed thing ("which two cities") stops
    once the quotes hold that many."""
    if not texts:
        return []
    count, kind = requested_count(question), expected_type(question)
    wanted = count if count and kind not in (None, "expansion") else None
    chosen = [0]
    found = named_things(texts[0], kind, question) if wanted else set()
    for i in range(1, len(texts)):
        if len(chosen) >= bar.cap or (wanted and len(found) >= wanted):
            break
        quoted = passages is not None and any(passages[c] == passages[i] for c in chosen)
        if not bar.admits(values[0], values[i], quoted) or any(texts[i] == texts[c] for c in chosen):
            continue
        chosen.append(i)
        if wanted:
            found |= named_things(texts[i], kind, question)
    return chosen
