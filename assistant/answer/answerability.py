"""What the confidence model reads about a candidate sentence, besides the scorer's logit.

SQuAD 2.0's unanswerable questions were written to look answerable from their paragraph: the
paragraph is on topic, but the question names something it never mentions (another entity, year
or number), or negates what it says. The cross-encoder alone misses many of these, so the
confidence model (`confidence.py`) also sees whether the question's key constraint is met: which of
its terms, names, numbers and negations the candidate's sentence and passage actually hold.

Every feature is general (no word list of any corpus); their weights are learned by
`evals/calibrate_answer_scorer.py` on fit articles the scorer never trained on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.answer.answer_types import expected_type, offers_type
from assistant.sentences import content_terms, stem, words

_NUMBER = re.compile(r"(?<![\w-])\d[\d,.]*(?![\w-])")


def numbers_in(text: str) -> set[str]:
    """The figures a text gives, one spelling each ('1,200.' -> '1200'), so the same number compares equal."""
    return {n.rstrip(".,").replace(",", "") for n in _NUMBER.findall(text)}

FEATURES = (
    "logit",               # the cross-encoder's score of (question, sentence)
    "margin",              # logit minus the best other candidate's: a clear winner or a toss-up
    "lexical",             # the hand-weighted lexical score that shortlisted the sentence
    "cosine",              # bi-encoder cosine of question and sentence
    "missing_in_passage",  # idf-weighted share of the question's terms its passage lacks
    "missing_in_sentence",  # the same for the sentence (terms only in the passage count half)
    "rarest_missing",      # idf of the rarest question term the passage lacks, over the largest idf
    "name_missing",        # a capitalised name of the question is not in the passage
    "number_missing",      # a number of the question is not in the passage
    "negation_unmatched",  # the question negates ("not", "never", "n't") and the sentence doesn't
    "type_offered",        # the question asks for a date/number/place/person and the sentence has one
    "type_missing",        # ... and the sentence has none
)

_NEGATION = re.compile(r"\b(?:not|never|no|none|nor|without|cannot)\b|n[’']t\b", re.I)
# A capitalised word not at the start of the question: a name the passage must mention.
_NAME = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w’'-]+")


@dataclass(frozen=True)
class CandidateText:
    """The texts and scores of one candidate sentence."""

    sentence: str
    passage: str
    logit: float
    lexical: float
    cosine: float


# A question term found only in the sentence's passage, not the sentence, counts half: "the agency"
# refers back to a name its passage gave. The sentence score and the missing-term features share it.
# Kept on measurement (evals/measure_answer_constants.py -> evals/results/answer_constants.json, sentence
# score): the fit parts' pick, 0.25, ranks worse on two report parts (top-1 Cloud 0.623 -> 0.613, news
# 0.793 -> 0.777; SQuAD 0.740 -> 0.747); 0 and 1 lose more (news MRR 0.845 -> 0.840 and 0.788; FiQA 0.745
# -> 0.734 and 0.709). The feature's weight is fitted with the confidence model at this value.
CONTEXT_TERM_CREDIT = 0.5


def _missing_share(weights: dict[str, float], present: set[str], partly: set[str] = frozenset()) -> float:
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    missing = sum(w if t not in present and t not in partly else (1.0 - CONTEXT_TERM_CREDIT) * w if t not in present else 0.0
                  for t, w in weights.items())
    return missing / total


def logit_margins(logits: Sequence[float]) -> list[float]:
    """Each candidate's logit minus the best other candidate's (0 for a lone candidate)."""
    values = list(logits)
    return [logit - max(values[:i] + values[i + 1:]) if len(values) > 1 else 0.0 for i, logit in enumerate(values)]


def candidate_features(question: str, candidates: Sequence[CandidateText], idf: Callable[[str], float],
                       max_idf: float) -> list[list[float]]:
    """One row of `FEATURES` per candidate, in the candidates' order."""
    weights = {t: idf(t) for t in set(content_terms(question))}
    names = {stem(w) for name in _NAME.findall(question.strip()) for w in words(name)} - {""}
    numbers = numbers_in(question)
    negated = bool(_NEGATION.search(question))
    kind = expected_type(question)
    typed = kind is not None and kind != "expansion"
    margins = logit_margins([c.logit for c in candidates])
    passages: dict[str, tuple[set[str], set[str], set[str]]] = {}  # candidates share few passages: read each once
    rows: list[list[float]] = []
    for i, c in enumerate(candidates):
        if c.passage not in passages:
            passages[c.passage] = (set(content_terms(c.passage)), {stem(w) for w in words(c.passage)}, numbers_in(c.passage))
        passage_terms, passage_words, passage_numbers = passages[c.passage]
        sentence_terms = set(content_terms(c.sentence))
        absent = [w for t, w in weights.items() if t not in passage_terms]
        offered = typed and offers_type(c.sentence, kind, question)
        rows.append([
            c.logit,
            margins[i],
            c.lexical,
            c.cosine,
            _missing_share(weights, passage_terms),
            _missing_share(weights, sentence_terms, passage_terms),
            max(absent) / max_idf if absent and max_idf > 0 else 0.0,
            float(bool(names - passage_words)),
            float(bool(numbers - passage_numbers)),
            float(negated and not _NEGATION.search(c.sentence)),
            float(offered),
            float(typed and not offered),
        ])
    return rows


# The question-level view the confidence model reads: the scorer's best logit over all candidates
# (how good the best-looking sentence is) and the full row of the sentence that will be quoted.
CONFIDENCE_FEATURES = ("best_logit", *(f"chosen_{name}" for name in FEATURES))


def confidence_features(rows: Sequence[Sequence[float]], chosen: int) -> list[float]:
    """One row of `CONFIDENCE_FEATURES` for quoting candidate `chosen` among `rows`."""
    logit = FEATURES.index("logit")
    return [max(row[logit] for row in rows), *rows[chosen]]
