"""Deterministic answer, retrieval, citation, abstention and latency metrics. Pure functions, no I/O.

Conventions:
- A metric that is undefined for an input (no gold sources, no citations...) returns ``None``;
  aggregates skip ``None`` values instead of counting them as 0 or 1.
- Retrieval is scored at document level: passages are collapsed to their source document,
  keeping the rank of the first passage of each document.
"""

from __future__ import annotations

import collections
import math
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence

from assistant.answer.answer_types import (
    asked_acronym,
    expansion_of,
    expected_type,
    has_type,
)
from assistant.sentences import STOPWORDS, words

_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower-case, drop punctuation and symbols, drop articles, collapse white space.

    Unlike the official script, any Unicode punctuation or symbol (’, “, €, –) is dropped, not only ASCII.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if unicodedata.category(ch)[0] in "PS" and ch not in "'’" else ch for ch in text)
    text = text.replace("'", "").replace("’", "")  # "won’t" -> "wont", like SQuAD's ASCII rule
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _tokens(text: str) -> list[str]:
    return normalize_answer(text).split()


def alias_match(answer: str, aliases: Iterable[str]) -> bool:
    """True when some normalised alias occurs in the normalised answer as a whole-token span."""
    haystack = f" {normalize_answer(answer)} "
    if not haystack.strip():
        return False
    for alias in aliases:
        needle = normalize_answer(alias)
        if needle and f" {needle} " in haystack:
            return True
    return False


def exact_match(answer: str, aliases: Iterable[str]) -> bool:
    """SQuAD exact match against the best alias."""
    norm = normalize_answer(answer)
    return any(norm == normalize_answer(alias) for alias in aliases)


def token_f1(prediction: str, truth: str) -> float:
    """SQuAD token F1 of one prediction against one gold answer (both empty -> 1.0, one empty -> 0.0)."""
    pred, gold = _tokens(prediction), _tokens(truth)
    if not pred or not gold:
        return float(pred == gold)
    common = collections.Counter(pred) & collections.Counter(gold)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(pred), overlap / len(gold)
    return 2 * precision * recall / (precision + recall)


def max_token_f1(prediction: str, aliases: Iterable[str]) -> float:
    """Best SQuAD token F1 over the aliases (0.0 when there are none)."""
    return max((token_f1(prediction, alias) for alias in aliases), default=0.0)


def document_ranking(sources: Iterable[str]) -> list[str]:
    """Passage sources in rank order, collapsed to documents (first occurrence wins)."""
    return list(dict.fromkeys(sources))


def hit_at_k(ranked_sources: Sequence[str], gold: Collection[str], k: int) -> float | None:
    """1.0 when a gold document is among the first k documents; None when there is no gold document."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not gold:
        return None
    return float(any(doc in gold for doc in document_ranking(ranked_sources)[:k]))


def mrr_at_k(ranked_sources: Sequence[str], gold: Collection[str], k: int = 10) -> float | None:
    """Reciprocal rank of the first gold document within the first k documents (0.0 if none)."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not gold:
        return None
    for rank, doc in enumerate(document_ranking(ranked_sources)[:k], start=1):
        if doc in gold:
            return 1.0 / rank
    return 0.0


def citation_validity(cited_chunk_ids: Sequence[str], retrieved_chunk_ids: Collection[str]) -> float | None:
    """Share of citations whose passage was among the retrieved passages; None without citations."""
    if not cited_chunk_ids:
        return None
    return sum(cid in retrieved_chunk_ids for cid in cited_chunk_ids) / len(cited_chunk_ids)


def citation_precision(cited_sources: Sequence[str], gold: Collection[str]) -> float | None:
    """Share of citations that point into a gold source document; None without citations or gold."""
    if not cited_sources or not gold:
        return None
    return sum(src in gold for src in cited_sources) / len(cited_sources)


def abstention_scores(abstained: Sequence[bool], answerable: Sequence[bool]) -> dict[str, float | None]:
    """Precision, recall and F1 of abstaining, where the positive class is 'should abstain' (unanswerable).

    precision: of the abstentions, the share on unanswerable items (None when there were no
    abstentions and nothing to abstain on; 0.0 when there were no abstentions but there should have been).
    recall: of the unanswerable items, the share abstained on (None when every item is answerable).
    """
    if len(abstained) != len(answerable):
        raise ValueError("abstained and answerable must have the same length")
    tp = sum(a and not ans for a, ans in zip(abstained, answerable))
    fp = sum(a and ans for a, ans in zip(abstained, answerable))
    fn = sum((not a) and (not ans) for a, ans in zip(abstained, answerable))
    if tp + fp:
        precision: float | None = tp / (tp + fp)
    else:
        precision = None if fn == 0 else 0.0
    recall = tp / (tp + fn) if tp + fn else None
    if precision is None or recall is None:
        f1 = None
    elif precision + recall == 0:
        f1 = 0.0
    else:
        f1 = 2 * precision * recall / (precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the defined values; None when there are none."""
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolation percentile (numpy's default), q in [0, 100]; None for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within [0, 100], got {q}")
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def latency_summary(timings: Iterable[Mapping[str, float]]) -> dict[str, dict[str, float | int | None]]:
    """Per stage: n, p50, p95, mean and max of the seconds recorded for it."""
    per_stage: dict[str, list[float]] = collections.defaultdict(list)
    for row in timings:
        for stage, seconds in row.items():
            per_stage[stage].append(float(seconds))
    return {
        stage: {
            "n": len(vals),
            "p50": percentile(vals, 50),
            "p95": percentile(vals, 95),
            "mean": sum(vals) / len(vals),
            "max": max(vals),
        }
        for stage, vals in sorted(per_stage.items())
    }


def _cut_at(text: str, start: int, end: int) -> bool:
    """Does [start, end) of `text` begin or end inside a word ('220' of 'GF-220')?"""
    def joined(left: str, right: str) -> bool:
        return left.isalnum() and (right.isalnum() or right == "-") or left == "-" and right.isalnum()
    return (start > 0 and joined(text[start - 1], text[start])) or (end < len(text) and joined(text[end - 1], text[end]))


def malformed_short_answer(question: str, short: str, quotes: Sequence[str]) -> bool:
    """A short answer that is only stop words, cuts a word of its quote, or is not of the kind the
    question asks for (a number for "how many", a date for "when", a name for "where"/"who", the
    spelled-out name for an acronym)."""
    tokens = words(short)
    if not tokens or all(t in STOPWORDS for t in tokens):
        return True
    for quote in quotes:
        at = quote.find(short)
        if at >= 0 and _cut_at(quote, at, at + len(short)):
            return True
    kind = expected_type(question)
    if kind == "expansion":  # "What is ZAPC?" wants the whole spelled-out name, not "Patrol Command"
        acronym = asked_acronym(question)
        return acronym is not None and expansion_of(acronym, short) is None
    return kind in ("number", "date", "place", "person") and not has_type(short, kind)
