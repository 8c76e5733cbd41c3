"""Short answers: the phrase of a quote that answers a question asking for a kind of thing."""

from __future__ import annotations

import io

import pytest

from assistant.answer.short_answer import short_answer
from assistant.serving.cli import print_answer
from assistant.types import Answer


@pytest.mark.parametrize(("question", "quotes", "expected"), [
    ("When did the dockers' strike begin?", ["The dockers' strike began on March 3, 1921 in the northern mills."], "March 3, 1921"),
    ("What year did the siege end?", ["The siege ended in 1648 after a long winter."], "1648"),
    ("How many crates did the depot ship?", ["The depot shipped 142 crates of salt to the coast."], "142"),
    ("How much did a ferry ticket cost?", ["A ferry ticket cost $12.50 that summer."], "$12.50"),
    ("Where is the glass museum?", ["The glass museum stands in Old Harbour Street next to the quay."], "Old Harbour Street"),
    ("Who founded the orchard cooperative?", ["The orchard cooperative was founded by Mara Quillfeather in 1987."], "Mara Quillfeather"),
    # the phrase comes from the first quote that has one, and never repeats what the question says
    ("When did the 1921 strike end?", ["The 1921 strike was long.", "It ended in October 1921 with a pay rise."], "October 1921"),
])
def test_typed_questions_get_the_phrase(question: str, quotes: list[str], expected: str) -> None:
    found = short_answer(question, quotes)
    assert found == expected and any(found in q for q in quotes)


def test_questions_that_want_an_explanation_get_none() -> None:
    assert short_answer("Why did the bridge fail?", ["The bridge failed because its bolts corroded."]) is None
    assert short_answer("When did the strike begin?", ["Nobody remembers how it started."]) is None


def test_cli_prints_the_short_answer_first_and_bold() -> None:
    out = io.StringIO()
    print_answer(Answer(question="q", standalone_question="q", text="It opened in 1987. [1]", short_answer="1987"), out)
    assert out.getvalue().splitlines()[:2] == ["**1987**", "It opened in 1987. [1]"]
