"""The default answerer: quote the retrieved sentences that best answer the question, verbatim,
each followed by its [n]. Deterministic, model-free beyond the embeddings, correct citations by
construction; abstains when no sentence carries enough evidence."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from assistant.answer.answer_types import expected_type, offers_type
from assistant.answer.base import ABSTAIN_TEXT, AnswerDraft, AnswerRequest, abstention
from assistant.citations import CitationNumbering, make_citation
from assistant.config import AnswerSettings
from assistant.indexer import IndexView
from assistant.sentences import content_terms
from assistant.types import Passage

# Weights of the sentence score: meaning, the question's terms in the sentence (terms only in its
# passage count half: "the Center" refers back to JATEC), and the passage's coverage overall.
_W_COSINE, _W_SENTENCE_TERMS, _W_PASSAGE_TERMS = 0.45, 0.35, 0.20
_CONTEXT_TERM_CREDIT = 0.5
_ANSWER_TYPE_BONUS = 0.06       # added when the sentence offers the expected type, subtracted when not
_EXTRA_SENTENCE_MARGIN = 0.08   # a second sentence is quoted only when nearly as good as the first
_CONFLICT_MARGIN = 0.12         # how close a disagreeing sentence must score to count as a rival
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?(?![\w])")


@dataclass(frozen=True)
class ScoredSentence:
    passage: Passage
    text: str
    score: float
    position: int  # sentence order within the passage


class TermStatistics:
    """Inverse document frequencies over the indexed chunks, for weighting question terms."""

    def __init__(self, view: IndexView) -> None:
        df: Counter[str] = Counter()
        for chunk in view.chunks.values():
            df.update(set(content_terms(chunk.text)))
        self._df = df
        self._n = max(1, len(view.chunks))

    def idf(self, term: str) -> float:
        return math.log(1.0 + self._n / (1.0 + self._df.get(term, 0)))


def weighted_coverage(question_terms: dict[str, float], text_terms: set[str], context_terms: set[str] = frozenset()) -> float:
    total = sum(question_terms.values())
    if total <= 0:
        return 0.0
    covered = sum(w if t in text_terms else _CONTEXT_TERM_CREDIT * w if t in context_terms else 0.0
                  for t, w in question_terms.items())
    return covered / total


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, settings: AnswerSettings, view: IndexView) -> None:
        self._settings = settings
        self._view = view
        self._stats = TermStatistics(view)

    def score_sentences(self, request: AnswerRequest) -> list[ScoredSentence]:
        question_terms = {t: self._stats.idf(t) for t in set(content_terms(request.question))}
        kind = expected_type(request.question)
        index = self._view.sentences
        scored: list[ScoredSentence] = []
        for passage in request.passages:
            rows = index.rows_for(passage.chunk_id)
            if not rows:
                continue
            passage_terms = set(content_terms(passage.text))
            passage_cover = weighted_coverage(question_terms, passage_terms)
            cosines = index.vectors[rows] @ request.query_vector
            for position, (row, cosine) in enumerate(zip(rows, cosines)):
                text = passage.text[int(index.starts[row]):int(index.ends[row])]
                cover = weighted_coverage(question_terms, set(content_terms(text)), passage_terms)
                score = _W_COSINE * float(cosine) + _W_SENTENCE_TERMS * cover + _W_PASSAGE_TERMS * passage_cover
                if kind is not None:
                    score += _ANSWER_TYPE_BONUS if offers_type(text, kind, request.question) else -_ANSWER_TYPE_BONUS
                scored.append(ScoredSentence(passage, text, score, position))
        return sorted(scored, key=lambda s: (-s.score, s.passage.chunk_id, s.position))

    def answer(self, request: AnswerRequest) -> AnswerDraft:
        ranked = self.score_sentences(request)
        if not ranked or ranked[0].score < self._settings.abstain_threshold:
            return abstention(ABSTAIN_TEXT)
        chosen = self._choose(ranked)
        notes: tuple[str, ...] = ()
        rival = find_newer_disagreement(ranked, chosen[0])
        if rival is not None:
            older = chosen[0]
            chosen = [rival] + [s for s in chosen if s.passage.source != older.passage.source][: self._settings.max_sentences - 1]
            chosen.append(older)
            notes = (f"The sources differ: {rival.passage.title!r} ({rival.passage.date}) is newer than "
                     f"{older.passage.title!r} ({older.passage.date}); the newer one is given first.",)
        return self._render(chosen, notes)

    def _choose(self, ranked: list[ScoredSentence]) -> list[ScoredSentence]:
        best = ranked[0]
        chosen = [best]
        for candidate in ranked[1:]:
            if len(chosen) >= self._settings.max_sentences or candidate.score < best.score - _EXTRA_SENTENCE_MARGIN:
                break
            if all(candidate.text != c.text for c in chosen):
                chosen.append(candidate)
        return chosen

    def _render(self, chosen: list[ScoredSentence], notes: tuple[str, ...]) -> AnswerDraft:
        numbering = CitationNumbering()
        parts, citations = [], []
        for sentence in chosen:
            n = numbering.number(sentence.passage)
            parts.append(f"{sentence.text} [{n}]")
            if all(c.n != n or c.quote != sentence.text for c in citations):
                citations.append(make_citation(n, sentence.passage, sentence.text))
        text = " ".join(parts)
        if notes:
            text += "\n\nNote: the sources differ on this; the newest source is quoted first."
        return AnswerDraft(text=text, citations=tuple(citations), notes=notes)

    def stream(self, request: AnswerRequest) -> Iterator[str | AnswerDraft]:
        draft = self.answer(request)
        yield draft.text
        yield draft


def numbers_in(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def find_newer_disagreement(ranked: list[ScoredSentence], best: ScoredSentence) -> ScoredSentence | None:
    """A strong sentence from a newer, different source whose figures differ from the best one's."""
    if best.passage.date is None or not numbers_in(best.text):
        return None
    for candidate in ranked[1:]:
        if candidate.score < best.score - _CONFLICT_MARGIN:
            return None
        newer = candidate.passage.date is not None and candidate.passage.date > best.passage.date
        if newer and candidate.passage.source != best.passage.source:
            figures = numbers_in(candidate.text)
            if figures and figures != numbers_in(best.text):
                return candidate
    return None


