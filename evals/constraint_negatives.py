"""Unanswerable variants of answerable questions: change the key constraint the answer sentence meets.

SQuAD 2.0's unanswerable questions were written by changing what a paragraph states (another
entity, number or date); work that augments SQuAD 2.0 makes such questions automatically. Here an
answerable fit question's name, number or year that its answer sentence also contains is replaced by
another of the same kind from the same article (one the answer sentence does not contain): "When did
Luther arrive in Worms?" -> "When did Luther arrive in Erfurt?". The answer sentence no longer answers
the variant, so (variant, answer sentence) is a hard negative: on topic, nearly the same words, and
wrong on the one thing that matters.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence

_TOKEN = re.compile(r"[A-Za-z0-9][\w'.-]*[A-Za-z0-9]|[A-Za-z0-9]")
_YEAR = re.compile(r"^(?:1[5-9]\d\d|20\d\d)$")
_NUMBER = re.compile(r"^\d[\d,.]*$")
# Capitalised words that start clauses or questions rather than name something.
_NOT_NAMES = frozenset({"The", "A", "An", "In", "On", "At", "Of", "For", "To", "By", "As", "It", "He", "She", "They",
                        "This", "That", "These", "Those", "What", "Which", "Who", "Whom", "Whose", "When", "Where",
                        "Why", "How", "Is", "Are", "Was", "Were", "Did", "Do", "Does", "And", "But", "Or", "If"})


def kind_of(token: str) -> str | None:
    if _YEAR.match(token):
        return "year"
    if _NUMBER.match(token):
        return "number"
    if token[0].isupper() and token not in _NOT_NAMES and not token.isupper():
        return "name"
    return None


def constraints(text: str, *, skip_first: bool = True) -> list[tuple[str, str]]:
    """(token, kind) for the names, numbers and years of a text (its first word is not a name)."""
    tokens = _TOKEN.findall(text)
    return [(t, k) for i, t in enumerate(tokens) if (k := kind_of(t)) and not (skip_first and i == 0 and k == "name")]


def replacements(sentences: Iterable[str]) -> dict[str, list[str]]:
    """Kind -> the distinct tokens of that kind in an article's sentences (first words skipped)."""
    found: dict[str, list[str]] = {"year": [], "number": [], "name": []}
    seen: set[str] = set()
    for sentence in sentences:
        for token, kind in constraints(sentence):
            if token not in seen:
                seen.add(token)
                found[kind].append(token)
    return found


def changed_constraint(question: str, answer_sentence: str, pool: dict[str, list[str]], rng: random.Random) -> str | None:
    """The question with one constraint its answer sentence meets swapped for another of its kind, or None."""
    sentence_tokens = set(_TOKEN.findall(answer_sentence))
    question_tokens = set(_TOKEN.findall(question))
    met = [(t, k) for t, k in constraints(question) if t in sentence_tokens]
    rng.shuffle(met)
    for token, kind in met:
        others: Sequence[str] = [o for o in pool[kind] if o not in sentence_tokens and o not in question_tokens]
        if others:
            replacement = rng.choice(others)
            return re.sub(rf"(?<![\w-]){re.escape(token)}(?![\w-])", replacement, question, count=1)
    return None
