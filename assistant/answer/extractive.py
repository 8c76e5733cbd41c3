"""The default answerer: quote the retrieved sentences that best answer the question, verbatim,
each followed by its [n]. Deterministic, model-free beyond the embeddings, correct citations by
construction; abstains when no sentence carries enough evidence."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from assistant.answer.answer_types import expected_type, offers_type
from assistant.answer.answerability import (
    CandidateText,
    candidate_features,
)
from assistant.answer.base import ABSTAIN_TEXT, AnswerDraft, AnswerRequest, abstention
from assistant.answer.confidence import UNSURE_BELOW, Calibration
from assistant.answer.pieces import answer_pieces
from assistant.answer.quote_choice import choose_quotes, quote_bar
from assistant.answer.scorer import AnswerScorer
from assistant.answer.short_answer import short_answer
from assistant.answer.span_reader import SpanReader
from assistant.answer.term_statistics import TermStatistics, weighted_coverage
from assistant.citations import CitationNumbering, make_citation
from assistant.config import AnswerSettings
from assistant.index.view import IndexView
from assistant.sentences import content_terms
from assistant.types import Passage

# The parts of a sentence's lexical score (`ScoredSentence.parts`), in the order of SCORE_WEIGHTS:
# meaning (bi-encoder cosine), the question's terms in the sentence (terms only in its passage count
# half: "the agency" refers back to a name its passage gave), the passage's coverage overall, whether
# the sentence offers the answer type the question asks for (or misses it), and whether it spells out
# the acronym asked about.
SCORE_PARTS = ("cosine", "sentence_terms", "passage_terms", "type_offered", "type_missing", "expansion_offered")
# Hand-set, and kept on measurement (evals/fit_sentence_score.py -> evals/results/sentence_score.json):
# weights learned on the fit parts of SQuAD 2.0, MTRAG Cloud and FiQA rank the first answering
# sentence worse on some report part. Pointwise logistic: MRR lower on Cloud, FiQA and the corpus;
# a ranking fit (coordinate ascent on fit MRR, cosine 0.79): Cloud 0.738 -> 0.783 and FiQA 0.745 -> 0.761
# but SQuAD 0.834 -> 0.799 and the news corpus 0.848 -> 0.748 (top-1 0.793 -> 0.636). The acronym part
# earns its place on the news corpus (evals/measure_fitted_rules.py: accuracy 0.734 without it, 0.766
# with); a "newest source first when asked for the latest" part was removed there: no report set moved.
SCORE_WEIGHTS = (0.45, 0.35, 0.20, 0.10, -0.10, 0.25)
# Lexical path: a second sentence is quoted only when nearly as good as the first. Kept on measurement
# (evals/measure_answer_constants.py -> evals/results/answer_constants.json): one sentence (margin 0; scores
# never tie) answers fewer report questions (accuracy SQuAD 0.427 -> 0.407, Cloud 0.535 -> 0.478, FiQA 0.405
# -> 0.357, news 0.741 -> 0.727); the fit pick, 0.16, loses Cloud (0.529) and quote precision (news 0.703 -> 0.617).
_EXTRA_SENTENCE_MARGIN = 0.08
_REQUIRED_TYPES = {"number", "date", "person", "place"}
_REFERS_BACK = re.compile(r"^(this|that|these|those|it|its|they|their|he|she|his|her|such|the latter|the former)\b", re.I)


@dataclass(frozen=True)
class ScoredSentence:
    passage: Passage
    text: str
    score: float
    position: int  # sentence order within the passage
    start: int = 0  # offsets of `text` in the passage
    end: int = 0
    cosine: float = 0.0  # bi-encoder cosine of question and sentence
    parts: tuple[float, ...] = ()  # the score's parts (SCORE_PARTS); score = their sum weighted by SCORE_WEIGHTS
    # Where the sentence the scorer rated starts in the passage, when the quote also holds the sentence it was
    # read after (answer.sentence_context): the short-answer reader reads from here, not the context sentence.
    rated_start: int | None = None


def _merge_overlaps(chosen: Sequence[ScoredSentence]) -> list[ScoredSentence]:
    """One quote per stretch of a passage: quotes of the same passage that overlap once
    widened ("This will..." pulls in the sentence before) become one span, where the first of them stood."""
    merged: list[ScoredSentence] = []
    for sentence in chosen:
        for k, kept in enumerate(merged):
            same = kept.passage.chunk_id == sentence.passage.chunk_id
            if same and sentence.start <= kept.end and kept.start <= sentence.end:
                start, end = min(kept.start, sentence.start), max(kept.end, sentence.end)
                merged[k] = replace(kept, text=kept.passage.text[start:end], start=start, end=end)
                break
        else:
            merged.append(sentence)
    return merged


def _with_context_passages(draft: AnswerDraft, request: AnswerRequest, chosen: Sequence[ScoredSentence]) -> AnswerDraft:
    """The draft with the chunks it quotes that retrieval did not return listed as context passages."""
    retrieved = {p.chunk_id for p in request.passages}
    extra = {s.passage.chunk_id: s.passage for s in chosen if s.passage.chunk_id not in retrieved}
    return replace(draft, context_passages=tuple(extra.values())) if extra else draft


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, settings: AnswerSettings, view: IndexView, *,
                 scorer: tuple[AnswerScorer, Calibration] | None = None, reader: SpanReader | None = None,
                 collection_threshold: float | None = None) -> None:
        """`collection_threshold`: this collection's own abstention point (assistant.collection_calibration);
        a threshold set in the settings wins over it, and it over the calibration's global one."""
        self._settings = settings
        self._collection_threshold = collection_threshold
        self._reader = reader
        self._view = view
        self._stats = TermStatistics(view)
        self._scorer = scorer

    def _spans(self, passage: Passage) -> list[tuple[int, int, int]]:
        """(row, start, end) of each sentence of a passage in the sentence index."""
        index = self._view.sentences
        return [(row, int(index.starts[row]), int(index.ends[row])) for row in index.rows_for(passage.chunk_id)]

    def score_sentences(self, request: AnswerRequest) -> list[ScoredSentence]:
        question = request.question
        question_terms = {t: self._stats.idf(t) for t in set(content_terms(question))}
        kind = expected_type(question)
        sentences = self._view.sentences
        scored: list[ScoredSentence] = []
        for passage in request.passages:
            spans = self._spans(passage)
            if not spans:
                continue
            passage_terms = set(content_terms(passage.text))
            passage_cover = weighted_coverage(question_terms, passage_terms)
            cosines = sentences.rows_float32([row for row, _, _ in spans]) @ request.query_vector
            for position, ((_, start, end), cosine) in enumerate(zip(spans, cosines)):
                text = passage.text[start:end]
                if text.rstrip().endswith("?") or text.startswith("#"):
                    continue  # a question in the document (an FAQ heading) or a Markdown heading answers nothing
                cover = weighted_coverage(question_terms, set(content_terms(text)), passage_terms)
                offered = kind is not None and offers_type(text, kind, question)
                typed = kind is not None and kind != "expansion"
                parts = (float(cosine), cover, passage_cover, float(typed and offered), float(typed and not offered),
                         float(kind == "expansion" and offered))
                score = sum(w * p for w, p in zip(SCORE_WEIGHTS, parts))
                scored.append(ScoredSentence(passage, text, score, position, start, end, float(cosine), parts))
        return sorted(scored, key=lambda s: (-s.score, s.passage.chunk_id, s.position))

    def answer(self, request: AnswerRequest) -> AnswerDraft:
        ranked = self.score_sentences(request)
        if self._scorer is not None:
            return self._answer_learned(request, ranked, *self._scorer)
        if not ranked or ranked[0].score < self._settings.abstain_threshold:
            return abstention(ABSTAIN_TEXT)
        chosen = self._choose(request.question, ranked)
        kind = expected_type(request.question)
        chosen = _merge_overlaps([self._with_context(s, kind, request.question) for s in chosen])
        if kind in _REQUIRED_TYPES and not any(offers_type(s.text, kind, request.question) for s in chosen):
            # A "how many" question met only by "an unspecified number of ...": on topic, but no answer.
            return abstention(ABSTAIN_TEXT)
        return _with_context_passages(self._render(request.question, chosen, ()), request, chosen)

    def evidence(self, request: AnswerRequest, ranked: Sequence[ScoredSentence] | None = None,
                 scorer: AnswerScorer | None = None) -> list[tuple[ScoredSentence, float]]:
        """The best lexical candidates re-read by the learned scorer: (sentence, logit), best first."""
        scorer = scorer or (self._scorer[0] if self._scorer is not None else None)
        if scorer is None:
            raise ValueError("evidence() needs the learned answer scorer")
        top = list(ranked if ranked is not None else self.score_sentences(request))[:self._settings.scorer_candidates]
        if not top:
            return []
        read = [s.text for s in top]
        # "previous": each sentence is read again after the one before it ("The vault will be moved to ..."
        # after the sentence that names the vault); the better reading counts and is quoted.
        widened = [self._with_previous(s) for s in top] if self._settings.sentence_context == "previous" else []
        again = [i for i, w in enumerate(widened) if w is not None]
        all_logits = [float(x) for x in scorer.score(request.scored_question, read + [widened[i].text for i in again])]
        logits = all_logits[:len(top)]
        for i, logit in zip(again, all_logits[len(top):]):
            if logit > logits[i]:
                top[i], logits[i] = widened[i], logit
        order = sorted(range(len(top)), key=lambda i: (-logits[i], i))
        return [(top[i], logits[i]) for i in order]

    def _with_previous(self, sentence: ScoredSentence) -> ScoredSentence | None:
        """The sentence with the one before it in its passage (None for a passage's first sentence)."""
        if sentence.position == 0:
            return None
        start = self._spans(sentence.passage)[sentence.position - 1][1]
        return replace(sentence, text=sentence.passage.text[start:sentence.end], start=start, rated_start=sentence.start)

    def judged(self, request: AnswerRequest, scored: Sequence[tuple[ScoredSentence, float]]) -> list[list[float]]:
        """The confidence model's feature rows (`answerability.FEATURES`) of the scored candidates."""
        candidates = [CandidateText(s.text, s.passage.text, logit, s.score, s.cosine) for s, logit in scored]
        return candidate_features(request.scored_question, candidates, self._stats.idf, self._stats.max_idf)

    @property
    def threshold(self) -> float | None:
        """The abstention point of the learned path (None on the lexical one)."""
        if self._scorer is None:
            return None
        if self._settings.confidence_threshold is not None:
            return self._settings.confidence_threshold
        return self._collection_threshold if self._collection_threshold is not None else self._scorer[1].threshold

    def confidence(self, request: AnswerRequest) -> float:
        """The calibrated confidence of the answer the learned path would quote (0 with no candidate)."""
        if self._scorer is None:
            raise ValueError("confidence() needs the learned answer scorer")
        return self._judge(request, self.score_sentences(request), *self._scorer)[2]

    def _judge(self, request: AnswerRequest, ranked: Sequence[ScoredSentence], scorer: AnswerScorer,
               calibration: Calibration) -> tuple[list[tuple[ScoredSentence, float]], list[tuple[float, int]], float]:
        """(scored candidates, their selector order: the most likely answer first, not the scorer's
        top; the chosen one's calibrated confidence, 0 with no candidate)."""
        scored = self.evidence(request, ranked, scorer)
        if not scored:
            return scored, [], 0.0
        rows = self.judged(request, scored)
        judged = calibration.ranked(rows)
        return scored, judged, calibration.confidence_of(rows, judged[0][1])

    def _answer_learned(self, request: AnswerRequest, ranked: Sequence[ScoredSentence], scorer: AnswerScorer,
                        calibration: Calibration) -> AnswerDraft:
        """Quote what the calibrated model finds supported; abstain below the operating point."""
        scored, judged, confidence = self._judge(request, ranked, scorer, calibration)
        if not scored:
            return abstention(ABSTAIN_TEXT, confidence=0.0)
        if confidence < (self.threshold or 0.0):
            return abstention(ABSTAIN_TEXT, confidence=confidence)
        bar = quote_bar(request.question, max_sentences=self._settings.max_sentences,
                        max_sentences_several=self._settings.max_sentences_several, ratio=calibration.second_quote_ratio)
        picked = choose_quotes(request.question, [scored[i][0].text for _, i in judged], [p for p, _ in judged], bar,
                               [scored[i][0].passage.source for _, i in judged])
        chosen = [scored[judged[k][1]][0] for k in picked]
        notes: tuple[str, ...] = ()
        kind = expected_type(request.question)
        chosen = _merge_overlaps([self._with_context(s, kind, request.question) for s in chosen])
        if confidence < UNSURE_BELOW:
            notes += (f"Unsure: the quoted passages may not answer this (confidence {confidence:.0%}).",)
        draft = _with_context_passages(self._render(request.question, chosen, notes), request, chosen)
        return replace(draft, confidence=confidence)

    def _choose(self, question: str, ranked: list[ScoredSentence]) -> list[ScoredSentence]:
        """The lexical path's quotes: the best sentence and those within the margin of it."""
        bar = quote_bar(question, max_sentences=self._settings.max_sentences,
                        max_sentences_several=self._settings.max_sentences_several, margin=_EXTRA_SENTENCE_MARGIN)
        picked = choose_quotes(question, [s.text for s in ranked], [s.score for s in ranked], bar, [s.passage.source for s in ranked])
        return [ranked[k] for k in picked]

    def _with_context(self, sentence: ScoredSentence, kind: str | None, question: str) -> ScoredSentence:
        """Widen the quote to a contiguous span: the previous sentence when this one opens with a
        reference ("This will be..."), the next one when only it holds the expected answer type."""
        refers_back = bool(_REFERS_BACK.match(sentence.text))
        if refers_back and sentence.position == 0:
            sentence = self._in_chunk_before(sentence) or sentence
        spans = self._spans(sentence.passage)
        start, end = sentence.start, sentence.end
        if refers_back and sentence.position > 0:
            start = spans[sentence.position - 1][1]
        if kind not in (None, "expansion") and not offers_type(sentence.text, kind, question) and sentence.position + 1 < len(spans):
            _, next_start, next_end = spans[sentence.position + 1]
            if offers_type(sentence.passage.text[next_start:next_end], kind, question):
                end = next_end
        if (start, end) == (sentence.start, sentence.end):
            return sentence
        return replace(sentence, text=sentence.passage.text[start:end], start=start, end=end)

    def _in_chunk_before(self, sentence: ScoredSentence) -> ScoredSentence | None:
        """The same sentence where the chunk before repeats it (chunks overlap), with its antecedent
        before it there: a chunk boundary must not cut "This will be the first..." from what "This" is."""
        chunk = self._view.chunk_before(sentence.passage.chunk_id)
        if chunk is None:
            return None
        passage = Passage.of(chunk, sentence.passage.score, sentence.passage.scores)
        for position, (_, start, end) in enumerate(self._spans(passage)):
            if position > 0 and chunk.text[start:end] == sentence.text:
                return replace(sentence, passage=passage, position=position, start=start, end=end)
        return None

    def _render(self, question: str, chosen: Sequence[ScoredSentence], notes: tuple[str, ...]) -> AnswerDraft:
        numbering = CitationNumbering()
        parts, citations = [], []
        for sentence in chosen:
            n = numbering.number(sentence.passage)
            parts.append(f"{sentence.text} [{n}]")
            citations.append(make_citation(n, sentence.passage, sentence.text))
        text = " ".join(parts)
        read = [s.passage.text[s.rated_start:s.end] if s.rated_start is not None and s.start <= s.rated_start < s.end
                else s.text for s in chosen]
        return AnswerDraft(text=text, citations=tuple(citations), notes=notes,
                           short_answer=short_answer(question, read, self._reader))

    def stream(self, request: AnswerRequest) -> Iterator[str | AnswerDraft]:
        """The answer's text sentence by sentence, each quote's [n] with its last sentence, then the
        draft. Chosen as a whole first: which sentences to quote depends on all of them."""
        draft = self.answer(request)
        yield from answer_pieces(draft.text)
        yield draft

