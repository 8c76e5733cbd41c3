"""Turn a follow-up into a standalone query. Deterministic: when the follow-up refers back
(pronouns, "there", ellipsis), carry the salient terms of earlier turns into the query."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.sentences import STOPWORDS, words
from assistant.types import Turn

_REFERRING = {
    "it", "its", "it's", "itself", "they", "them", "their", "theirs", "he", "him", "his", "she", "her", "hers",
    "this", "that", "these", "those", "there", "then", "such", "former", "latter", "same", "one", "ones",
    "else", "also", "too", "again", "other", "another",
}
_ELLIPSIS_OPENERS = ("and ", "what about", "how about", "and what", "and where", "and when", "and who", "and how", "why not", "what else")
_SHORT_FOLLOWUP_WORDS = 4
_MAX_CARRIED_TERMS = 8


def refers_back(message: str) -> bool:
    lowered = message.strip().lower()
    tokens = words(lowered)
    if any(t in _REFERRING for t in tokens):
        return True
    if lowered.startswith(_ELLIPSIS_OPENERS):
        return True
    content = [t for t in tokens if t not in STOPWORDS]
    return len(content) <= 1 and len(tokens) <= _SHORT_FOLLOWUP_WORDS


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


def rewrite_followup(message: str, history: Sequence[Turn]) -> str:
    """The standalone form of `message` given the earlier turns (unchanged when it stands alone)."""
    message = message.strip()
    if not history or not refers_back(message):
        return message
    present = {w.lower() for w in words(message)}
    carried: list[str] = []
    # The most recent question matters most; its answer and older turns add context.
    sources = [history[-1].standalone_question or history[-1].question]
    sources += [t.standalone_question or t.question for t in reversed(history[:-1])]
    for text in sources:
        for term in salient_terms(text):
            if term.lower() not in present and term.lower() not in {c.lower() for c in carried}:
                carried.append(term)
        if len(carried) >= _MAX_CARRIED_TERMS:
            break
    if not carried:
        return message
    return f"{message} ({' '.join(carried[:_MAX_CARRIED_TERMS])})"
