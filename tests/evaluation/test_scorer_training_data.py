"""The answer scorer's added training signal (issue 28 item 2), as pure logic on our own sentences:
constraint-changed negatives, MTRAG's distant labels and seeded halves, and re-reading stored rows
with another scorer."""

from __future__ import annotations

import random

import numpy as np

from assistant.answer.answerability import FEATURES
from evals.answer_rows import Question
from evals.constraint_negatives import changed_constraint, constraints, replacements
from evals.mtrag_pairs import PoolSentences, answer_sentences, scorer_half
from evals.rescore_rows import LOGIT, MARGIN, rescored

ARTICLE = (
    "The Riverside bridge opened in 1931 after four years of work.",
    "Its designer, Clara Moreau, later built the harbour tower in Lisbon.",
    "A second crossing near Oporto followed in 1958 and carried 12 lanes.",
)


def test_a_met_constraint_is_swapped_for_another_of_its_kind() -> None:
    pool = replacements(ARTICLE)
    question = "When did the Riverside bridge open in 1931?"
    sentence = ARTICLE[0]
    for seed in range(20):
        variant = changed_constraint(question, sentence, pool, random.Random(seed))
        assert variant is not None and variant != question
        changed = set(variant.split()) - set(question.split())
        assert len(changed) == 1
        (new,) = changed
        new = new.rstrip("?")
        assert new not in sentence  # the answer sentence no longer meets the question
        assert new in {"1958", "Clara", "Moreau", "Lisbon", "Oporto"}


def test_a_year_is_replaced_by_a_year_and_a_name_by_a_name() -> None:
    pool = replacements(ARTICLE)
    variant = changed_constraint("What opened in 1931?", ARTICLE[0], pool, random.Random(3))
    assert variant == "What opened in 1958?"
    variant = changed_constraint("Which tower did Moreau build?", ARTICLE[1], pool, random.Random(3))
    assert variant is not None and "Moreau" not in variant
    assert variant.split()[3] in {"Riverside", "Oporto"}


def test_no_variant_when_the_sentence_meets_no_constraint_of_the_question() -> None:
    pool = replacements(ARTICLE)
    assert changed_constraint("Why was the bridge built?", ARTICLE[0], pool, random.Random(1)) is None
    assert changed_constraint("When did Oporto get a crossing?", ARTICLE[0], pool, random.Random(1)) is None


def test_first_words_and_question_words_are_not_names() -> None:
    assert constraints("When did Clara Moreau visit Lisbon in 1931?") == [
        ("Clara", "name"), ("Moreau", "name"), ("Lisbon", "name"), ("1931", "year")]
    assert constraints("Bridges carry 12 lanes") == [("12", "number")]


def test_scorer_half_is_stable_and_splits_conversations() -> None:
    ids = [f"conversation-{n}" for n in range(200)]
    halves = [scorer_half(i) for i in ids]
    assert halves == [scorer_half(i) for i in ids]
    assert set(halves) == {"train", "calibrate"}
    assert 70 < halves.count("train") < 130


def test_distant_positives_are_the_gold_sentences_the_answer_draws_on() -> None:
    pool = PoolSentences([
        {"id": "gold", "text": "Premium accounts include phone support around the clock. "
                               "The office moved to a new building last spring. "
                               "Support staff answer phone calls within five minutes for premium accounts."},
        {"id": "other", "text": "Phone support for premium accounts is described in the pricing guide."},
    ])
    reference = "Premium accounts get phone support, and calls are answered within five minutes."
    found = answer_sentences(pool, ("gold",), reference)
    assert found[0].startswith("Support staff answer")
    assert "The office moved" not in " ".join(found)
    near = pool.nearest("Do premium accounts get phone support?", 2, excluded=frozenset({"gold"}))
    assert [s.passage_id for s in near] == ["other"]


class ReversedLengthScorer:
    """Deterministic stand-in for a cross-encoder: shorter sentences score higher."""

    def score(self, question: str, sentences: list[str]) -> np.ndarray:
        return np.array([-float(len(s)) for s in sentences], dtype=np.float32)


def test_rescoring_replaces_logit_and_margin_and_reorders() -> None:
    texts = ("a long sentence here", "short", "medium one")
    rows = np.zeros((3, len(FEATURES)))
    rows[:, FEATURES.index("lexical")] = [0.3, 0.2, 0.1]
    q = Question("cloud", "fit", "c1", "k", "asked?", "asked?", True, rows, np.array([1.0, 0.0, 0.0]), 0.5,
                 texts, ("s1", "s2", "s3"))
    out = rescored(q, ReversedLengthScorer())
    assert out.texts == ("short", "medium one", "a long sentence here")
    assert list(out.labels) == [0.0, 0.0, 1.0]
    assert list(out.rows[:, LOGIT]) == [-5.0, -10.0, -20.0]
    assert list(out.rows[:, MARGIN]) == [5.0, -5.0, -15.0]
    assert list(out.rows[:, FEATURES.index("lexical")]) == [0.2, 0.1, 0.3]
    assert out.sources == ("s2", "s3", "s1")
