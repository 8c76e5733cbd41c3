"""Clarifying questions for underspecified turns.

A turn is underspecified when it is short and generic, the answer evidence is weak, and the top
passages come from documents whose titles have little in common: the documents hold several
unrelated things the user might mean. Then the assistant asks "Do you mean A or B?" (each
candidate cited) instead of guessing. The rule uses no corpus words; its thresholds are fitted on
the fit part of MTRAG-UN (evals/fit_clarify.py) and reported on its report part.

The reply to a clarification ("the first one", or a candidate's name) is resolved here too: the
clarified question plus the chosen candidate's title becomes the standalone question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.sentences import STOPWORDS, sentence_spans, words
from assistant.types import Citation, Passage, Turn

CLARIFY_OPENING = "Do you mean "
_ORDINALS = {"first": 0, "1st": 0, "former": 0, "second": 1, "2nd": 1, "latter": 1, "third": 2, "3rd": 2}
_QUOTED = re.compile(r"“([^”]+)”")


@dataclass(frozen=True)
class ClarifyRule:
    """Fire when all hold. Defaults fitted on the fit parts of MTRAG Cloud and FiQA together, at most 5% of
    answerable turns asked back (evals/fit_clarify.py -> evals/results/clarify_fit.json: 2 of 10
    underspecified turns on the fit parts, 0 of 6 on the report parts; too weak to be on by default)."""

    max_content_words: int = 4         # a short, generic question
    max_confidence: float = 0.2        # the answer evidence is weak
    max_title_similarity: float = 0.0  # the candidate documents' titles share no word
    top_passages: int = 5             # how many retrieved passages name candidates
    max_candidates: int = 3
    # Only a follow-up can leave out what it is about: all 16 MTRAG-UN underspecified turns (Cloud and
    # FiQA) have history, while on first questions over many articles the rule fired on short,
    # self-contained questions (squad@100 accuracy 0.780 -> 0.730 with clarify on, evals/README.md).
    follow_ups_only: bool = True


@dataclass(frozen=True)
class ClarifyFeatures:
    """The measurable facts the rule looks at (logged by the mtrag suite for fitting)."""

    content_words: int
    confidence: float
    titles: tuple[str, ...]          # distinct titles among the top passages, in rank order
    title_similarity: float          # mean pairwise word overlap (Jaccard) of those titles; 1.0 with < 2
    follow_up: bool = True           # the turn has a conversation before it


def _title_words(title: str) -> set[str]:
    return {w for w in words(title.lower()) if w not in STOPWORDS}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def features(question: str, passages: Sequence[Passage], confidence: float | None, top: int = 5, *,
             follow_up: bool) -> ClarifyFeatures:
    return features_from_titles(question, [p.title or p.source for p in passages[:top]], confidence, follow_up=follow_up)


def features_from_titles(question: str, ranked_titles: Sequence[str], confidence: float | None, *,
                         follow_up: bool) -> ClarifyFeatures:
    """The features from the top passages' titles in rank order (what the mtrag suite logs)."""
    titles: list[str] = []
    for raw in ranked_titles:
        title = raw.strip()
        if title and title.lower() not in {t.lower() for t in titles}:
            titles.append(title)
    pairs = [(a, b) for i, a in enumerate(titles) for b in titles[i + 1:]]
    similarity = (sum(_jaccard(_title_words(a), _title_words(b)) for a, b in pairs) / len(pairs)) if pairs else 1.0
    content = [w for w in words(question.lower()) if w not in STOPWORDS]
    return ClarifyFeatures(len(content), 0.0 if confidence is None else confidence, tuple(titles), similarity, follow_up)


def should_clarify(f: ClarifyFeatures, rule: ClarifyRule) -> bool:
    return ((f.follow_up or not rule.follow_ups_only) and len(f.titles) >= 2 and f.content_words <= rule.max_content_words
            and f.confidence <= rule.max_confidence and f.title_similarity <= rule.max_title_similarity)


@dataclass(frozen=True)
class Clarification:
    text: str
    citations: tuple[Citation, ...]


def clarification(passages: Sequence[Passage], f: ClarifyFeatures, rule: ClarifyRule) -> Clarification:
    """ "Do you mean “A” [1] or “B” [2]?", each candidate cited by its best-ranked passage."""
    chosen = f.titles[:rule.max_candidates]
    citations: list[Citation] = []
    for n, title in enumerate(chosen, start=1):
        passage = next(p for p in passages if (p.title or p.source).strip() == title)
        start, end = (sentence_spans(passage.text) or [(0, len(passage.text))])[0]
        citations.append(Citation(n=n, source=passage.source, title=title, date=passage.date,
                                  quote=passage.text[start:end], passage=passage.text, chunk_id=passage.chunk_id,
                                  start=start, end=end))
    named = [f"“{c.title}” [{c.n}]" for c in citations]
    listed = ", ".join(named[:-1]) + f" or {named[-1]}"
    return Clarification(text=f"{CLARIFY_OPENING}{listed}?", citations=tuple(citations))


def candidates_in(text: str) -> list[str]:
    """The candidate titles of a clarification this module wrote ([] for any other text)."""
    return _QUOTED.findall(text) if text.startswith(CLARIFY_OPENING) else []


def resolve_reply(message: str, history: Sequence[Turn]) -> str | None:
    """The standalone question a reply to a clarification stands for, or None when the last turn was
    no clarification or the reply picks no candidate (then the usual follow-up rewrite applies)."""
    if not history:
        return None
    candidates = candidates_in(history[-1].answer)
    if not candidates:
        return None
    tokens = words(message.lower())
    picked: str | None = None
    for token in tokens:
        if token in _ORDINALS and _ORDINALS[token] < len(candidates):
            picked = candidates[_ORDINALS[token]]
            break
    if picked is None:
        said = {w for w in tokens if w not in STOPWORDS}
        overlaps = [len(said & _title_words(c)) for c in candidates]
        if max(overlaps) > 0 and overlaps.count(max(overlaps)) == 1:
            picked = candidates[overlaps.index(max(overlaps))]
    if picked is None:
        return None
    return f"{history[-1].question} ({picked})"
