"""Short answers: the phrase of a quoted sentence that answers the question ("when?" -> the date).

With the learned reader (`span_reader.py`), the best of its phrases in the first quoted sentence
that is a *whole* phrase of the kind the question asks for; without it, typed patterns. A phrase is
whole when it cuts no word ("GF-220", never "220"), is not only stop words and closes what it opens;
it is of the asked kind when "how many" gets a number, "when" a date, "where" and "who" a name, and
"what does X stand for" the spelled-out name. When no phrase qualifies there is no short answer:
the quotes stand on their own, as they do for "why ...?" and "how does ...?". The phrase is always a
substring of a quote, so it is cited by construction."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answer.answer_types import (
    expected_type,
    has_type,
    is_proper_name,
    quantity_end,
    typed_candidates,
)
from assistant.answer.span_reader import SpanReader
from assistant.sentences import STOPWORDS, stem, words

_EXPLANATION = re.compile(r"^\W*(?:why|how)\b(?!\s+(?:many|much|long|far|old|large|big|often|tall|high|deep|wide|few))", re.I)
# The reader's phrases tried per quote, best first. Its best phrase is of the asked kind for most
# typed questions; the next ones rescue a fragment ("220" -> the reader's "GF-220").
READER_SPANS = 5
_EDGE = " \t,;:"
_ABBREVIATION_END = re.compile(r"\b[A-Z]\.$")
_NAME_JOINED_BEFORE = re.compile(r"\b[A-Z][\w’'-]*,?\s+(?:and|of|for|&)\s+$")
_NAME_GOES_ON_BEFORE = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'-]*(?:,?\s+(?:and|of|for|&))?\s+$")
_POSSESSIVE = re.compile(r"[’']s$")
_NAME_GOES_ON_AFTER = re.compile(r"(?:\s+(?:of|for|&|and)\s+|\s+)[A-Z][a-z]")
_ASKS_WHERE = re.compile(r"\bwhere\b", re.I)  # "which city" names its type; "where" leans on the sentence
_LOCATIVE = re.compile(r"\b(?:in|at|near|from|to|into|outside|inside|across|around|through|along|within|on|over|via|based|headquartered)\s+(?:the\s+)?(?:\S+\s+)?$", re.I)
_NEXT_WORD = re.compile(r"\s+([A-Za-z%][a-z]*)\b")
_LEADING_PREPOSITION = re.compile(r"^(?:in|at|on|from|to|by|near|since|during)\s+", re.I)


def wants_explanation(question: str) -> bool:
    """'Why ...?' and 'How does ...?' want a reason or a process; 'How many ...?' wants a phrase."""
    return bool(_EXPLANATION.match(question))


def _joins(left: str, right: str) -> bool:
    """Do two adjacent characters belong to one word ('GF-220', "NATO's", '3.5')?"""
    return (left.isalnum() or left in "-'’._/") and right.isalnum() or left.isalnum() and right in "-'’_/"


def whole_phrase(sentence: str, start: int, end: int) -> tuple[int, int] | None:
    """The offsets of the phrase at [start, end) widened to whole words and trimmed of edge
    punctuation; None when it is only stop words or leaves a bracket or quote open."""
    while start > 0 and _joins(sentence[start - 1], sentence[start]):
        start -= 1
    while end < len(sentence) and _joins(sentence[end - 1], sentence[end]):
        end += 1
    while start < end and sentence[start] in _EDGE:
        start += 1
    while end > start and sentence[end - 1] in _EDGE:
        end -= 1
    if end > start and sentence[end - 1] == "." and not _ABBREVIATION_END.search(sentence[start:end]):
        end -= 1  # the sentence's full stop, not the one of "U.S."
    text = sentence[start:end]
    tokens = words(text)
    if not tokens or all(t in STOPWORDS for t in tokens):
        return None
    if text.count("(") != text.count(")") or text.count('"') % 2 or text.count("“") != text.count("”"):
        return None
    return start, end


def with_unit(sentence: str, end: int, question: str) -> int:
    """A quantity reaches over its unit ("40 billion" -> "40 billion euros") unless the question
    already names it ("How many crates...?" -> "142")."""
    match = _NEXT_WORD.match(sentence, end)
    if match is None:
        return end
    word = match.group(1).lower()
    if word in STOPWORDS or stem(word) in {stem(w) for w in words(question)}:  # "member" of "How many members"
        return end
    return match.end()


def cuts_a_name(sentence: str, start: int, end: int, kind: str) -> bool:
    """Does a capitalised phrase begin or end inside a longer name ("Patrol Command" of "Zonal Air,
    Sea, and Patrol Command"; "Mara" of "Mara Quillfeather")? A name goes on through capitalised
    words and through "and", "of", "for" or "&" between two of them; a title before a person's name
    ("Admiral Mara Quillfeather") and an apposition after a comma ("Norway, Mara Quillfeather") do not."""
    before, after = sentence[:start], sentence[end:]
    starts_inside = _NAME_JOINED_BEFORE if kind == "person" else _NAME_GOES_ON_BEFORE
    if sentence[start:start + 1].isupper() and starts_inside.search(before):
        return True
    return bool(sentence[end - 1:end].isalpha() and _NAME_GOES_ON_AFTER.match(after))


_CAPITALISED_BEFORE = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'-]*\s+$")
_CAPITALISED_AFTER = re.compile(r"\s+[A-Z][\w’'-]*")


def whole_name(sentence: str, start: int, end: int) -> tuple[int, int]:
    """The phrase widened over the capitalised words right before and after it (not the sentence's
    first word): a name the reader cut ("Defense Contact") becomes the whole name."""
    while (match := _CAPITALISED_BEFORE.search(sentence[:start])) is not None:
        start = match.start()
    while (match := _CAPITALISED_AFTER.match(sentence, end)) is not None:
        end = match.end()
    return start, end


def name_start(sentence: str, start: int, end: int) -> int:
    """Where the name that ends a phrase begins: "the engineer Mara Quillfeather" -> "Mara Quillfeather", "a U.S.
    depot in Lerwick" -> "Lerwick"; the phrase's own start when it is a name or ends in none."""
    for match in re.finditer(r"\S+", sentence[start:end]):
        if is_proper_name(sentence[start + match.start():end]):
            return start + match.start()
    return start


def fits(phrase: str, kind: str | None, question: str) -> bool:
    """Is the phrase of the kind the question asks for, and more than the question's own words?"""
    asked = set(words(question))
    if not set(words(phrase)) - asked - STOPWORDS:
        return False
    return kind is None or has_type(phrase, kind)


def pattern_short_answer(question: str, quotes: Sequence[str]) -> str | None:
    """The first phrase of the expected kind that the question doesn't already contain, from the
    quotes in the order given (best first)."""
    kind = expected_type(question)
    if kind is None:
        return None
    for quote in quotes:
        found = [c for c in typed_candidates(quote, kind, question) if c in quote]
        if found:
            return found[0]
    return None


def short_answer(question: str, quotes: Sequence[str], reader: SpanReader | None = None) -> str | None:
    kind = expected_type(question)
    if reader is None or kind == "expansion":  # an acronym's expansion is spelled out whole by the pattern
        return pattern_short_answer(question, quotes)
    if not quotes or wants_explanation(question):
        return None
    sentence = quotes[0]
    for span in reader.read(question, sentence, limit=READER_SPANS):
        found = whole_phrase(sentence, span.start, span.end)
        if found is None:
            continue
        start, end = found
        quantity = quantity_end(sentence[start:end]) if kind == "number" else None
        if quantity is not None:  # the figure and its unit, not the rest of the reader's phrase
            end = with_unit(sentence, start + quantity, question)
        if kind in ("place", "person"):
            start = name_start(sentence, start, end)
        possessive = _POSSESSIVE.search(sentence[start:end])  # "NATO’s" answers "which organisation" as "NATO"
        if possessive:
            end -= len(possessive.group(0))
        if kind is None and cuts_a_name(sentence, start, end, ""):
            start, end = whole_name(sentence, start, end)  # "Defense Contact" -> "Ukraine Defense Contact Group"
        if kind in ("place", "person") and cuts_a_name(sentence, start, end, kind):
            continue  # a piece of a longer name is a fragment, not the place or person asked for
        if kind == "place" and _ASKS_WHERE.search(question) and not _LOCATIVE.search(
                sentence[:start] + sentence[start:end].split(" ", 1)[0] + " "):
            continue  # a name the sentence does not put a place word before ("called ZAPC") is not where
        phrase = sentence[start:end]
        if kind in ("place", "date"):
            phrase = _LEADING_PREPOSITION.sub("", phrase)
        if phrase and fits(phrase, kind, question):
            return phrase
    return None
