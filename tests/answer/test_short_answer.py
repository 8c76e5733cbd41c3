"""Short answers: the phrase of a quote that answers a question asking for a kind of thing."""

from __future__ import annotations

import io

import pytest

from assistant.answer.short_answer import short_answer, whole_name
from assistant.answer.span_reader import Span
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


def test_cli_prints_the_short_answer_first_and_bold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bold on a terminal, plain words when piped (tests/serving/test_cli_render.py covers the rest)."""
    monkeypatch.setenv("TERM", "xterm-256color")  # a dumb terminal gets no styling at all
    answer = Answer(question="q", standalone_question="q", text="It opened in 1987. [1]", short_answer="1987")
    piped = io.StringIO()
    print_answer(answer, piped)
    assert piped.getvalue().splitlines()[:2] == ["1987", "It opened in 1987. [1]"]
    terminal = type("Terminal", (io.StringIO,), {"isatty": lambda self: True})()
    print_answer(answer, terminal)
    assert terminal.getvalue().splitlines()[0] == "\x1b[1m1987\x1b[0m"


# -- the learned reader: a short answer is a whole phrase of the asked kind, or none ----------------
@pytest.fixture(scope="module", params=["onnx", "torch"])
def reader(request: pytest.FixtureRequest):
    """Both SpanReader implementations: ONNX Runtime (the default) and torch."""
    from assistant.answer.span_reader import make_span_reader
    from assistant.config import InferenceSettings

    return make_span_reader(inference=InferenceSettings(runtime=request.param))


@pytest.mark.parametrize(("question", "quote", "expected"), [
    # a code is one word: never its digits alone
    ("Which valve did the divers swap?", "The divers swapped valve KX-318 on the northern intake.", "KX-318"),
    # an acronym's answer is its whole spelled-out name, as the quote writes it
    ("What does ZAPC stand for?", "The Zonal Air Patrol Command (ZAPC) opened a base near the fjord.", "Zonal Air Patrol Command"),
    # a figure keeps its unit, unless the question already names it
    ("How much did the guild raise?", "The guild raised 12 million kroner for the new roof.", "12 million kroner"),
    ("How many barrels did the brewery fill?", "The brewery filled 640 barrels of stout before the frost.", "640"),
    ("Where did the ferry company move its office?", "The ferry company moved its office to Lerwick in the spring.", "Lerwick"),
])
def test_reader_short_answers_are_whole_phrases_of_the_asked_kind(reader, question: str, quote: str, expected: str) -> None:
    assert short_answer(question, [quote], reader) == expected


def test_no_short_answer_when_no_phrase_is_of_the_asked_kind(reader) -> None:
    # "who" wants a name; the quote only describes a group
    assert short_answer("Who runs the lighthouse trust?", ["The lighthouse trust is run by a board of volunteers."], reader) is None
    # "when" wants a date; the quote gives none
    assert short_answer("When did the mill close?", ["The mill closed after the owners fell out."], reader) is None


def test_reader_contract_best_spans_first_without_overlap(reader) -> None:
    sentence = "The ferry to Skye leaves Mallaig at 9 am and returns at 5 pm on weekdays."
    spans = reader.read("When does the ferry leave?", sentence, limit=4)
    assert 1 <= len(spans) <= 4
    assert [s.score for s in spans] == sorted((s.score for s in spans), reverse=True)
    assert all(sentence[s.start:s.end] == s.text for s in spans)
    assert all(a.end <= b.start or b.end <= a.start for i, a in enumerate(spans) for b in spans[i + 1:])
    assert reader.read("When does the ferry leave?", "   ", limit=4) == []


class _FixedReader:
    """A reader that always proposes one phrase (pure logic: what short_answer makes of a cut name)."""

    def __init__(self, phrase: str) -> None:
        self.phrase = phrase

    def read(self, question: str, sentence: str, *, limit: int = 1) -> list[Span]:
        start = sentence.index(self.phrase)
        return [Span(text=self.phrase, start=start, end=start + len(self.phrase), score=1.0)]


def test_a_name_the_reader_cut_is_widened_to_the_whole_name() -> None:
    sentence = "The ferries are run in parallel by the Northern Harbour Pilots Guild, which answers to the port."
    assert whole_name(sentence, sentence.index("Harbour"), sentence.index(" Guild")) == (
        sentence.index("Northern"), sentence.index(", which"))
    found = short_answer("Which body runs the ferries?", [sentence], _FixedReader("Harbour Pilots"))
    assert found == "Northern Harbour Pilots Guild"
    # the sentence's own first word is capitalised by grammar, not as part of a name
    opening = "Pilots of the guild run the ferries."
    assert whole_name(opening, opening.index("of"), opening.index(" the guild")) == (opening.index("of"), opening.index(" the guild"))
