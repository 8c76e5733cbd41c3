"""Validate a generated answer against the passages it was given.

`[n]` markers are parsed; numbers that match no passage are dropped. Each sentence is scored against
the passage(s) it cites by lexical support (the share of its content terms found in the cited passage, zeroed
by figures the passage lacks); sentences below `min_support` are flagged. Citations are renumbered
1..m in order of first appearance, each quoting verbatim the passage sentence that best supports
what was said."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.citations import make_citation
from assistant.sentences import content_terms, sentence_spans, split_sentences
from assistant.types import Citation, Passage

_MARKER_GROUP = re.compile(r"\s*\[(\s*\d+\s*(?:[,;]\s*\d+\s*)*)\]")
_FIGURE = re.compile(r"^\d")


@dataclass(frozen=True)
class CitedSentence:
    text: str                  # the sentence as the model wrote it, markers removed
    cited: tuple[int, ...]     # valid passage indices (0-based, into the passages given)
    support: float             # best lexical support among the cited passages (1.0 when nothing to check)
    supported: bool


@dataclass(frozen=True)
class ValidatedAnswer:
    text: str                          # markers renumbered, invalid ones removed
    citations: tuple[Citation, ...]    # n = 1..m in order of first appearance
    sentences: tuple[CitedSentence, ...]
    unsupported: tuple[str, ...]
    dropped: tuple[int, ...]           # marker numbers that matched no passage

    @property
    def has_valid_citation(self) -> bool:
        """At least one in-range citation on a sentence its passage supports."""
        return any(s.cited and s.supported for s in self.sentences)


def support_score(claim: str, evidence: str) -> float:
    """Share of the claim's content terms found in the evidence, times the share of its figures found
    there (a wrong number makes a claim unsupported however many words it shares). 1.0 when the claim
    has no content terms."""
    terms = set(content_terms(claim))
    if not terms:
        return 1.0
    present = set(content_terms(evidence))
    coverage = len(terms & present) / len(terms)
    figures = {t for t in terms if _FIGURE.match(t)}
    if figures:
        coverage *= len(figures & present) / len(figures)
    return coverage


def best_supporting_sentence(claim: str, passage_text: str) -> tuple[str, float]:
    """The passage sentence (verbatim) that best supports the claim, and its support."""
    best, best_score = "", -1.0
    for start, end in sentence_spans(passage_text):
        sentence = passage_text[start:end]
        score = support_score(claim, sentence)
        if score > best_score:
            best, best_score = sentence, score
    return best, max(best_score, 0.0)


def parse_markers(sentence: str) -> tuple[str, list[int]]:
    """The sentence without its [n] / [n, m] markers, and the numbers in order."""
    numbers: list[int] = []
    for group in _MARKER_GROUP.finditer(sentence):
        numbers += [int(n) for n in re.split(r"[,;]", group.group(1))]
    return _MARKER_GROUP.sub("", sentence).strip(), numbers


def validate_answer(raw: str, passages: tuple[Passage, ...] | list[Passage], min_support: float) -> ValidatedAnswer:
    """Check a raw model output against the passages it was given (numbered from 1 in the prompt)."""
    parsed: list[tuple[str, list[int]]] = []
    dropped: list[int] = []
    for sentence in _segments(raw):
        bare, numbers = parse_markers(sentence)
        valid: list[int] = []
        for n in numbers:
            if 1 <= n <= len(passages):
                if n - 1 not in valid:
                    valid.append(n - 1)
            elif n not in dropped:
                dropped.append(n)
        if bare:
            parsed.append((bare, valid))
    cited_anywhere = sorted({i for _, valid in parsed for i in valid})
    numbering: dict[int, int] = {}          # passage index -> new number, in order of first appearance
    best_quote: dict[int, tuple[str, float]] = {}
    checked: list[CitedSentence] = []
    parts: list[str] = []
    for bare, valid in parsed:
        if not content_terms(bare):
            support = 1.0                   # nothing to check ("Yes.")
        else:
            # An uncited sentence may lean on the passages the rest of the answer cites.
            against = valid or cited_anywhere
            support = max((support_score(bare, passages[i].text) for i in against), default=0.0)
        checked.append(CitedSentence(bare, tuple(valid), round(support, 4), support >= min_support))
        for i in valid:
            numbering.setdefault(i, len(numbering) + 1)
            quote, score = best_supporting_sentence(bare, passages[i].text)
            if i not in best_quote or score > best_quote[i][1]:
                best_quote[i] = (quote, score)
        parts.append(_attach(bare, "".join(f" [{numbering[i]}]" for i in valid)))
    citations = tuple(
        make_citation(n, passages[i], best_quote[i][0], support=round(best_quote[i][1], 4))
        for i, n in sorted(numbering.items(), key=lambda item: item[1])
    )
    unsupported = tuple(s.text for s in checked if not s.supported)
    return ValidatedAnswer(text=" ".join(parts).strip(), citations=citations, sentences=tuple(checked),
                           unsupported=unsupported, dropped=tuple(dropped))


def _attach(sentence: str, markers: str) -> str:
    """Put the markers before the sentence's final punctuation: 'X is Y [1].'"""
    if not markers:
        return sentence
    match = re.search(r"[.!?]+[\"'”’)]*$", sentence)
    if match:
        return f"{sentence[:match.start()]}{markers}{sentence[match.start():]}"
    return sentence + markers


def _segments(raw: str) -> list[str]:
    """Sentences of the raw output, with a marker that follows a sentence end ('Claim. [1]') kept
    with that sentence rather than starting the next one."""
    out: list[str] = []
    for sentence in split_sentences(raw.strip()):
        leading = re.match(r"^(\s*\[[\d\s,;]+\])+", sentence)
        if out and leading:
            out[-1] += " " + leading.group(0).strip()
            sentence = sentence[leading.end():].strip()
            if not sentence:
                continue
        out.append(sentence)
    return out
