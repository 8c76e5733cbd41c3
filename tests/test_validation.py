"""Citation validation on canned model outputs (pure logic: no model, no index)."""

from __future__ import annotations

import datetime as dt

import pytest

from assistant.answer.validation import parse_markers, support_score, validate_answer
from assistant.types import Passage

PASSAGES = (
    Passage(chunk_id="a#0", source="a.txt", title="Mission", date=dt.date(2024, 6, 26), score=1.0,
            text="The mission will be based at a U.S. military installation in Wiesbaden, Germany. "
                 "It will be headed by a three-star general."),
    Passage(chunk_id="b#0", source="b.txt", title="Alliance", date=dt.date(2024, 6, 14), score=0.9,
            text="NATO has 32 member states. About 700 personnel will take part."),
)


def test_out_of_range_marker_is_dropped_and_valid_ones_are_renumbered_by_first_appearance() -> None:
    result = validate_answer("About 700 personnel will take part [2][7]. The mission is based in Wiesbaden [1].", PASSAGES, 0.5)
    assert result.dropped == (7,)
    assert "[7]" not in result.text
    assert result.text == "About 700 personnel will take part [1]. The mission is based in Wiesbaden [2]."
    assert [(c.n, c.source) for c in result.citations] == [(1, "b.txt"), (2, "a.txt")]
    assert result.has_valid_citation and result.unsupported == ()


def test_citation_quotes_the_best_supporting_sentence_verbatim() -> None:
    result = validate_answer("It is headed by a three-star general [1].", PASSAGES, 0.5)
    (citation,) = result.citations
    assert citation.quote == "It will be headed by a three-star general."
    assert PASSAGES[0].text[citation.start:citation.end] == citation.quote
    assert citation.support == pytest.approx(1.0)
    assert citation.date == dt.date(2024, 6, 26)


def test_output_without_markers_has_no_valid_citation() -> None:
    result = validate_answer("The mission will be based in Wiesbaden.", PASSAGES, 0.5)
    assert result.citations == ()
    assert not result.has_valid_citation
    assert result.unsupported == ("The mission will be based in Wiesbaden.",)


def test_sentence_its_cited_passage_does_not_support_is_flagged() -> None:
    result = validate_answer("The mission is in Wiesbaden [1]. Paris is the capital of France [2].", PASSAGES, 0.5)
    assert result.unsupported == ("Paris is the capital of France.",)
    assert result.has_valid_citation  # the first sentence still stands


def test_a_wrong_figure_is_not_supported_even_when_words_match() -> None:
    assert support_score("NATO has 30 member states", PASSAGES[1].text) == 0.0
    assert support_score("NATO has 32 member states", PASSAGES[1].text) == 1.0
    result = validate_answer("NATO has 30 member states [2].", PASSAGES, 0.5)
    assert not result.has_valid_citation


@pytest.mark.parametrize("raw", ["", "   \n ", "[1]"])
def test_empty_output_has_nothing_valid(raw: str) -> None:
    result = validate_answer(raw, PASSAGES, 0.5)
    assert result.text == "" and result.citations == () and not result.has_valid_citation


def test_marker_after_the_full_stop_stays_with_its_sentence() -> None:
    result = validate_answer("The mission is in Wiesbaden. [1] NATO has 32 member states. [2]", PASSAGES, 0.5)
    assert result.text == "The mission is in Wiesbaden [1]. NATO has 32 member states [2]."
    assert [s.cited for s in result.sentences] == [(0,), (1,)]


def test_uncited_sentence_may_lean_on_passages_cited_elsewhere() -> None:
    result = validate_answer("About 700 personnel will take part. NATO has 32 member states [2].", PASSAGES, 0.5)
    assert result.unsupported == ()
    assert [c.n for c in result.citations] == [1]


def test_parse_markers_reads_lists() -> None:
    assert parse_markers("Claim [1, 3] and more [2].") == ("Claim and more.", [1, 3, 2])
