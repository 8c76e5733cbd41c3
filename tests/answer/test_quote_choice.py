"""Answers to questions that ask for several things quote every sentence needed (issue 28 item 5):
the pure choice logic, and the real answerer on a small collection of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answer.answer_types import expected_type, requested_count
from assistant.answer.quote_choice import (
    SEVERAL_LEXICAL_MARGIN,
    SEVERAL_QUOTE_RATIO,
    SEVERAL_WITHIN_MARGIN,
    SEVERAL_WITHIN_RATIO,
    QuoteBar,
    choose_quotes,
    quote_bar,
)


@pytest.mark.parametrize(("question", "count"), [
    ("Where is the ferry terminal?", None),
    ("What is the loan limit?", None),
    ("What are these small boats called?", None),           # asks for one name
    ("Where did two of the sailors go ashore?", None),      # the count is not what is asked for
    ("What does the permit cost?", None),
    ("Name the two rivers that meet at the town.", 2),
    ("Which three islands does the ferry serve?", 3),
    ("Who were both founders of the mill?", 2),
    ("What are the steps to cancel a subscription?", 0),
    ("On which dates is the market held?", 0),
    ("List the documents a tenant must bring.", 0),
    ("What risks does an unsecured loan carry?", 0),
])
def test_how_many_things_a_question_asks_for(question: str, count: int | None) -> None:
    assert requested_count(question) == count


def test_plural_and_counted_wh_nouns_keep_their_answer_type() -> None:
    assert expected_type("Which two cities signed the pact?") == "place"
    assert expected_type("On which dates is the market held?") == "date"
    assert expected_type("What other countries joined?") == "place"
    assert expected_type("What happened years ago?") is None


def test_a_capitalised_modifier_or_a_measure_word_keeps_the_answer_type() -> None:
    assert expected_type("In which Danish town was the ferry built?") == "place"
    assert expected_type("What Roman year is carved on the gate?") == "date"
    assert expected_type("What do towns pay for ferries?") is None  # "do" is a verb, not a modifier
    assert expected_type("What minimum amount does the lease require?") == "number"
    assert expected_type("What is the total cost of the new pier?") == "number"
    assert expected_type("What price did the painting fetch?") == "number"
    assert expected_type("What is the name of the pier?") is None


def test_one_thing_keeps_the_one_thing_bar() -> None:
    bar = quote_bar("Where is the ferry terminal?", max_sentences=2, max_sentences_several=5, ratio=0.7)
    assert bar == QuoteBar(2, 0.7)
    texts = ["It is on Pier Road.", "The pier was rebuilt.", "Boats leave hourly."]
    assert choose_quotes("Where is the ferry terminal?", texts, [0.9, 0.5, 0.4], bar) == [0]
    assert choose_quotes("Where is the ferry terminal?", texts, [0.9, 0.8, 0.7], bar) == [0, 1]


def test_several_things_quote_further_sentences_up_to_the_cap() -> None:
    question = "What are the steps to cancel a subscription?"
    bar = quote_bar(question, max_sentences=2, max_sentences_several=3, ratio=0.7)
    assert bar == QuoteBar(3, SEVERAL_QUOTE_RATIO, SEVERAL_WITHIN_RATIO)
    texts = ["First, sign in.", "Then open Billing.", "Finally press Cancel.", "Billing opened in 2001."]
    values = [0.9, 0.5, 0.4, 0.3]
    assert choose_quotes(question, texts, values, bar) == [0, 1, 2]
    # Far below the best, a sentence is not quoted however many are asked for.
    assert choose_quotes(question, texts, [0.9, 0.5, 0.01, 0.01], bar) == [0, 1]
    # The same text twice is quoted once.
    assert choose_quotes(question, ["Sign in.", "Sign in.", "Press Cancel."], [0.9, 0.8, 0.7], bar) == [0, 2]


def test_a_counted_typed_question_stops_once_the_quotes_hold_that_many() -> None:
    question = "Which two towns does the ferry serve?"
    bar = quote_bar(question, max_sentences=2, max_sentences_several=5, ratio=0.7)
    both = ["The ferry serves Arnhold and Brisk.", "It also stops at Colm in summer.", "Tickets cost five euros."]
    assert choose_quotes(question, both, [0.9, 0.8, 0.7], bar) == [0]
    apart = ["The ferry serves Arnhold.", "The ferry also calls at Brisk.", "It stops at Colm in summer."]
    assert choose_quotes(question, apart, [0.9, 0.8, 0.7], bar) == [0, 1]


def test_a_passage_already_quoted_may_have_its_own_looser_bar() -> None:
    bar = QuoteBar(4, 0.7, 0.2)
    texts, values = ["Step one.", "Elsewhere.", "Step two.", "Step three."], [0.9, 0.5, 0.3, 0.1]
    assert choose_quotes("What are the steps?", texts, values, bar, ["guide", "faq", "guide", "guide"]) == [0, 2]
    assert choose_quotes("What are the steps?", texts, values, bar) == [0]  # no passage ids: none is quoted yet


def test_lexical_bar_uses_a_margin() -> None:
    question = "What are the steps to cancel a subscription?"
    bar = quote_bar(question, max_sentences=2, max_sentences_several=5, margin=0.08)
    assert bar == QuoteBar(5, SEVERAL_LEXICAL_MARGIN, SEVERAL_WITHIN_MARGIN, ratio=False)
    below = 1.0 - SEVERAL_LEXICAL_MARGIN
    assert choose_quotes(question, ["a", "b", "c"], [1.0, below, below - 0.01], bar) == [0, 1]
    with pytest.raises(ValueError):
        quote_bar(question, max_sentences=2, max_sentences_several=5)


PROCEDURE = """# Renewing a reader's card at the Hollin Street library

To renew a reader's card, first bring a photo identity document to the front desk.
Next, the clerk checks the card number against the members' register and prints a renewal form.
After signing the renewal form, pay the yearly fee of six pounds at the cashier's window.
A new member must bring a passport or a driving licence as proof of identity.
A new member must also bring a recent utility bill as proof of address.
The library's reading room has forty seats and a view of the canal.
The building was designed by a local architect and opened after the war.
"""


def test_a_question_asking_for_several_things_quotes_each_one_cited(engine_factory, tmp_path: Path) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "membership.md").write_text(PROCEDURE, encoding="utf-8")
    engine = engine_factory(corpus=corpus)
    engine.index()
    several = engine.ask("What are the documents a new member must bring to the library?")
    assert not several.abstained, several.text
    quotes = " ".join(c.quote for c in several.citations)
    assert "passport" in quotes and "utility bill" in quotes, several.text
    assert all(f"[{c.n}]" in several.text for c in several.citations)
    assert not any(c.quote.startswith("#") for c in several.citations)  # a heading answers nothing
    one = engine.ask("How much is the yearly fee for a reader's card?")
    assert not one.abstained and len(one.citations) <= 2 and "six pounds" in one.text
