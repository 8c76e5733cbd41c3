"""Turn a follow-up into a standalone query. Deterministic: when the follow-up refers back
(pronouns, "there", ellipsis), carry the salient terms of earlier turns into the query."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.sentences import STOPWORDS, split_sentences, words
from assistant.types import Turn

# Words that point back to something said before, whatever else the message holds.
_REFERRING = {
    "it", "its", "it's", "itself", "they", "them", "their", "theirs", "he", "him", "his", "she", "her", "hers",
    "there", "such", "former", "latter", "same", "else", "also", "too", "again", "other", "another",
}
# Words that point back only in some positions: "that" after a noun opens a relative clause ("the
# law that ..."), and "one" counts only after a selector ("which one"), never in "one of the ...";
# see `_refers_in_context`.
_DEMONSTRATIVE_WORDS = {"this", "that", "these", "those"}
_ONE_WORDS = {"one", "ones"}
_ONE_SELECTORS = {"which", "the", "this", "that", "other", "same", "another", "first", "last", "next", "previous", "older", "newer"}
_ELLIPSIS_OPENERS = ("and ", "what about", "how about", "and what", "and where", "and when", "and who", "and how", "why not", "what else")
# A follow-up with at most this many content words leans on the conversation even without a pronoun
# ("Within what time frame?", "Any fees?"). Chosen on the MTRAG fit parts by
# evals/measure_followup_detection.py (results/followup_detection.json).
SHORT_CONTENT_WORDS = 0
_MAX_CARRIED_TERMS = 8


def _refers_in_context(tokens: Sequence[str], i: int) -> bool:
    """Does the demonstrative or "one" at position i point back (not a relative clause or count)?"""
    token, before = tokens[i], tokens[i - 1] if i > 0 else None
    after = tokens[i + 1] if i + 1 < len(tokens) else None
    if token in _DEMONSTRATIVE_WORDS:
        return before is None or before in STOPWORDS  # "that" after a content word opens a relative clause
    return before in _ONE_SELECTORS and after != "of"  # "which one", "the other one"; not "one of the"


def refers_back(message: str, short_content_words: int = SHORT_CONTENT_WORDS) -> bool:
    """Does the message point back to something said before (pronoun, demonstrative, ellipsis), or say
    too little on its own (at most `short_content_words` content words)?"""
    lowered = message.strip().lower()
    tokens = words(lowered)
    if any(t in _REFERRING for t in tokens):
        return True
    if any(t in _DEMONSTRATIVE_WORDS | _ONE_WORDS and _refers_in_context(tokens, i) for i, t in enumerate(tokens)):
        return True
    if lowered.startswith(_ELLIPSIS_OPENERS):
        return True
    return sum(t not in STOPWORDS for t in tokens) <= short_content_words


def salient_terms(text: str) -> list[str]:
    """Names, acronyms, numbers and longer content words, in order, without duplicates."""
    seen: set[str] = set()
    out: list[str] = []
    for raw in re.findall(r"[A-Za-z][A-Za-z0-9\-’']*|\d+", text):
        lower = raw.lower().replace("’", "'")
        if lower in STOPWORDS or lower in _REFERRING or lower in seen:
            continue
        if raw[0].isupper() or raw.isupper() or raw.isdigit() or len(raw) >= 6:
            seen.add(lower)
            out.append(raw)
    return out


_NAME_RUN = re.compile(r"\b[A-Z][\w’'\-]*(?:\s+(?:[A-Z]\.\s+)?[A-Z][\w’'\-]*)+")
_MARKER = re.compile(r"\[\d+\]")
_MAX_ANSWER_NAMES = 2


def answer_names(answer: str) -> list[str]:
    """Multi-word names in an earlier answer ("Marie Curie", "Gen. John A. Smith"), the
    referents of "he", "she" and "there" more often than the question's own terms."""
    text = _MARKER.sub(" ", answer.split("\n\nNote:")[0])
    names: list[str] = []
    for match in _NAME_RUN.finditer(text):
        run = match.group(0)
        tokens = run.split()
        if tokens[0].lower() in STOPWORDS:     # "The Center", "It Will" at a sentence start
            tokens = tokens[1:]
        if len(tokens) >= 2 and " ".join(tokens) not in names:
            names.append(" ".join(tokens))
    return names


_PERSON_PRONOUNS = {"he", "him", "his", "she", "her", "hers"}
_MAX_ANSWER_WORDS = 3


def answer_words(answer: str) -> list[str]:
    """Capitalised words inside the first sentence of an earlier answer (not at its start)."""
    text = _MARKER.sub(" ", answer.split("\n\nNote:")[0])
    sentences = split_sentences(text.strip())
    first = sentences[0] if sentences else ""
    tokens = re.findall(r"[A-Za-z][\w’'\-]*", first)[1:]
    return [t for t in tokens if t[0].isupper() and not t.isupper() and t.lower() not in STOPWORDS]


def rewrite_followup(message: str, history: Sequence[Turn], short_content_words: int = SHORT_CONTENT_WORDS) -> str:
    """The standalone form of `message` given the earlier turns (unchanged when it stands alone)."""
    message = message.strip()
    if not history or not refers_back(message, short_content_words):
        return message
    tokens = words(message)
    present = set(tokens)
    carried: list[str] = []

    def carry(term: str) -> None:
        if term.lower() not in present and term.lower() not in {c.lower() for c in carried}:
            carried.append(term)

    # The most recent question matters most; older questions add context. "he"/"she" usually point
    # at a person named in the last answer, "that"/"this" at a thing named there.
    for term in salient_terms(history[-1].standalone_question or history[-1].question):
        carry(term)
    last_answer = history[-1].answer
    if present & _PERSON_PRONOUNS:
        for name in answer_names(last_answer)[:_MAX_ANSWER_NAMES]:
            for term in salient_terms(name):
                carry(term)
    if present & _DEMONSTRATIVE_WORDS:
        for term in answer_words(last_answer)[:_MAX_ANSWER_WORDS]:
            carry(term)
    for turn in reversed(history[:-1]):
        if len(carried) >= _MAX_CARRIED_TERMS:
            break
        for term in salient_terms(turn.standalone_question or turn.question):
            carry(term)
    if not carried:
        return message
    return f"{message} ({' '.join(carried[:_MAX_CARRIED_TERMS + _MAX_ANSWER_WORDS])})"


def asked_form(message: str, history: Sequence[Turn]) -> str:
    """The follow-up as the answer scorer reads it: the user's words, and where they refer back, the
    referent in natural words ("Who created it? (Ukraine Defense Contact Group)"), never the keyword pile
    retrieval uses. The referent is the last answer's short answer, else the first name it gives, else
    the last question. Read when `answer.followup_scoring` is "asked": chosen on the MTRAG fit parts over
    the bare turn and the last question as the referent, but not the default (evals/results/asked_form.json)."""
    message = message.strip()
    if not history or not refers_back(message):
        return message
    last = history[-1]
    referent = (last.short_answer or next(iter(answer_names(last.answer)), None)
                or (last.standalone_question or last.question).strip().rstrip("?"))
    return f"{message} ({referent})"
