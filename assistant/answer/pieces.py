"""Cutting a rendered answer into the pieces it streams as: each quoted sentence (a quote's last
sentence with its [n]), then each note paragraph. The pieces concatenate to the text exactly, so a
reader that joins the streamed deltas holds the final answer's text."""

from __future__ import annotations

import re

from assistant.sentences import sentence_spans

_MARKER = re.compile(r"\[\d+\]")
_PARAGRAPH = re.compile(r"\n\n")


def answer_pieces(text: str) -> list[str]:
    """`text` cut after each citation marker, between the sentences of a quote, and before each
    paragraph break; never an empty piece, and "".join(pieces) == text."""
    cuts = {0, len(text)}
    start = 0
    for marker in _MARKER.finditer(text):
        cuts.update(_inner_sentence_ends(text, start, marker.start()))
        cuts.add(marker.end())
        start = marker.end()
    paragraphs = [m.start() for m in _PARAGRAPH.finditer(text, start)]
    for end in [*paragraphs, len(text)]:  # after the last quote: a note or an abstention, sentence by sentence
        cuts.update(_inner_sentence_ends(text, start, end))
        cuts.add(end)
        start = end
    cuts.update(m.start() for m in _PARAGRAPH.finditer(text))
    bounds = sorted(cuts)
    return [text[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


def _inner_sentence_ends(text: str, start: int, end: int) -> list[int]:
    """Offsets (in `text`) of the ends of every sentence of text[start:end] but the last: its last
    sentence stays with what follows it (the [n] that cites it)."""
    spans = sentence_spans(text[start:end])
    return [start + span_end for _, span_end in spans[:-1]]
