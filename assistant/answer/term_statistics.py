"""How much each question term weighs: inverse document frequencies over the indexed chunks, and the
idf-weighted share of the question's terms a text holds."""

from __future__ import annotations

import math

from assistant.answer.answerability import CONTEXT_TERM_CREDIT
from assistant.index.view import IndexView


class TermStatistics:
    """Inverse document frequencies over the indexed chunks, for weighting question terms."""

    def __init__(self, view: IndexView) -> None:
        self._df = view.term_counts.frequency  # counted when the snapshot was written
        self._n = max(1, view.term_counts.chunks)

    def idf(self, term: str) -> float:
        return self._idf(self._df.get(term, 0))

    @property
    def max_idf(self) -> float:
        """The idf of a term no chunk holds: the largest any term can have."""
        return self._idf(0)

    def _idf(self, document_frequency: int) -> float:
        return math.log(1.0 + self._n / (1.0 + document_frequency))


def weighted_coverage(question_terms: dict[str, float], text_terms: set[str], context_terms: set[str] = frozenset()) -> float:
    total = sum(question_terms.values())
    if total <= 0:
        return 0.0
    covered = sum(w if t in text_terms else CONTEXT_TERM_CREDIT * w if t in context_terms else 0.0
                  for t, w in question_terms.items())
    return covered / total
