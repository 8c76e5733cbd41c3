"""Sentence segmentation (NLTK Punkt, line by line): exact offsets, abbreviations, initials, line breaks."""

from __future__ import annotations

import re

import pytest

from assistant import sentences
from assistant.config import PROJECT_ROOT
from assistant.sentences import sentence_spans, split_sentences

VARIED = [
    "Dr. Smith met Mr. Jones at 5 p.m. on Monday. They talked for an hour.",
    "Bring tools (e.g. a hammer) and food, i.e. bread. Then go home!",
    'He said "stop." Then he left the room. Was it late? Yes!',
    "  Leading space. Trailing space.  \r\nA Windows line. End.\r\n",
    "Headline without a period\n\nFirst sentence here. Second one.\n\n\n  Indented paragraph. ",
    "The car costs $5.50 today (3.5% more). See www.example.org... Or not?! Fine.",
    "Ünïcödé façade café. Ça va? Oui — très bien. 東京は大きい。 Done.",
    "\t\tTabs\tinside. Then\u00a0a no-break space. Last",
    "One.Two. Three.\nFour...\n\n...five. (Six.) [Seven.] 'Eight.'",
    "",
    "   \n\n  ",
    "x",
]


def _bundled_texts() -> list[str]:
    return [path.read_text(encoding="utf-8") for path in sorted((PROJECT_ROOT / "corpus").glob("*.txt"))]


@pytest.mark.parametrize("text", VARIED + _bundled_texts())
def test_spans_are_exact_ordered_trimmed_and_within_one_line(text: str) -> None:
    spans = sentence_spans(text)
    assert split_sentences(text) == [text[s:e] for s, e in spans]
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)  # in order, non-overlapping, non-empty
        piece = text[start:end]
        assert piece == piece.strip() and len(piece) >= 3
        assert "\n" not in piece  # a line break always ends a sentence
        previous_end = end


@pytest.mark.parametrize("text", _bundled_texts())
def test_no_text_is_lost_between_sentences(text: str) -> None:
    """Apart from whitespace, only fragments under three characters may fall between spans."""
    spans = sentence_spans(text)
    gaps = [text[a:b] for a, b in zip([0] + [e for _, e in spans], [s for s, _ in spans] + [len(text)])]
    assert all(len(gap.strip()) < 3 for gap in gaps)
    assert sum(e - s for s, e in spans) > 0.9 * len(re.sub(r"\s+", " ", text).strip())


@pytest.mark.parametrize(("text", "expected"), [
    ("Dr. Smith met Mr. Jones at 5 p.m. on Monday. They talked for an hour.",
     ["Dr. Smith met Mr. Jones at 5 p.m. on Monday.", "They talked for an hour."]),
    ("Bring tools (e.g. a hammer) and food, i.e. bread. Then go home.",
     ["Bring tools (e.g. a hammer) and food, i.e. bread.", "Then go home."]),
    ("The room holds approx. forty people. Case No. 81 was heard. The vote was 52 vs. 48 in the end.",
     ["The room holds approx. forty people.", "Case No. 81 was heard.", "The vote was 52 vs. 48 in the end."]),
    ("Plans were drawn by Gen. Patton in Jan. 1944 for the U.S. Army. They worked.",
     ["Plans were drawn by Gen. Patton in Jan. 1944 for the U.S. Army.", "They worked."]),
])
def test_abbreviations_do_not_end_a_sentence(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_an_abbreviation_still_ends_a_sentence_before_a_likely_sentence_start() -> None:
    assert split_sentences("They sold apples, pears, etc. While prices rose, sales fell.") == [
        "They sold apples, pears, etc.", "While prices rose, sales fell."]


@pytest.mark.parametrize(("text", "first"), [
    ("John F. Kennedy was elected in 1960. He was young.", "John F. Kennedy was elected in 1960."),
    ("The novel by J. R. R. Tolkien appeared in 1954. It sold well.", "The novel by J. R. R. Tolkien appeared in 1954."),
])
def test_initials_do_not_end_a_sentence(text: str, first: str) -> None:
    assert split_sentences(text)[0] == first and len(split_sentences(text)) == 2


def test_line_and_paragraph_breaks_end_sentences() -> None:
    text = "Headline without a period\nFirst sentence here. Second one.\n\nA sentence broken\nacross two lines."
    assert split_sentences(text) == ["Headline without a period", "First sentence here.", "Second one.",
                                     "A sentence broken", "across two lines."]


def test_closing_quotes_and_brackets_stay_with_their_sentence() -> None:
    assert split_sentences('He said "stop." Then (after a pause.) he left.') == ['He said "stop."', "Then (after a pause.) he left."]


def test_a_lower_case_continuation_is_not_a_new_sentence() -> None:
    text = "Some writers[who?] used the term. Others did not."
    assert split_sentences(text) == ["Some writers[who?] used the term.", "Others did not."]
    assert [text[s:e] for s, e in sentence_spans(text, lowercase_continues=False)][:2] == ["Some writers[who?]", "used the term."]


def test_punkt_model_is_read_from_llama_index_cache_without_downloading(monkeypatch) -> None:
    import nltk

    def refuse(*args, **kwargs):
        raise AssertionError("the Punkt model must never be downloaded")

    monkeypatch.setattr(nltk, "download", refuse)
    sentences._tokenizer.cache_clear()
    try:
        assert split_sentences("It works offline. Nothing is fetched.") == ["It works offline.", "Nothing is fetched."]
        assert any(path.endswith("_static/nltk_cache") for path in nltk.data.path)
    finally:
        sentences._tokenizer.cache_clear()


def test_a_line_punkt_gives_up_on_is_kept_as_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    import nltk.redos

    text = "First line. It has two sentences.\nSecond line here. Also two."
    assert len(sentence_spans(text)) == 4  # loads the model first: the guard below should hit splitting only
    monkeypatch.setattr(nltk.redos, "DEFAULT_TIMEOUT", 1e-9)  # NLTK's backtracking guard now gives up at once
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == ["First line. It has two sentences.", "Second line here. Also two."]
