"""Questions made from a collection's own sentences, to see how confident the answerer is on it.

The answer scorer's confidence shifts with the kind of text (an answered question scores lower on
forum posts than on encyclopaedia prose), so one abstention threshold cannot serve every collection.
Asking the collection questions whose answers it is known to hold gives that collection's own
scale without a single labelled question (`assistant.collection_calibration` turns it into the
collection's abstention threshold).

A probe question keeps a sample of the sentence's content words and asks for a span of it with a
question word that fits the span (a date: "When", a figure: "How many", a name after "in/at/from":
"Where", another name: "Who"; otherwise "What"), so it is worded more loosely than the sentence, as
users ask.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from assistant.answer.answer_types import first_typed_span
from assistant.index.view import IndexView
from assistant.sentences import STOPWORDS

_TOKEN = re.compile(r"[A-Za-z0-9][\w’'.-]*[A-Za-z0-9]|[A-Za-z0-9]")
# Sentences shorter than this hold too little to ask about; longer ones are lists or run-ons.
MIN_WORDS, MAX_WORDS = 8, 45


@dataclass(frozen=True)
class ProbeShape:
    """How many of the sentence's content words a probe keeps: `share` of them, within [least, most].
    Real questions share fewer (a median of 2 content words, 17-25% of the answer sentence's, on the
    fit parts of SQuAD 2.0, MTRAG Cloud and FiQA: evals/probe_rows.py --overlap); the scale fitted
    over the probes' confidence (evals/fit_collection_threshold.py) absorbs the difference."""

    share: float = 0.5
    least: int = 3
    most: int = 6


@dataclass(frozen=True)
class ProbeQuestion:
    question: str
    answer: str          # the span of `sentence` the question asks for (the whole sentence for "What")
    sentence: str


_ASKED_WITH = {"date": "When", "number": "How many", "place": "Where", "person": "Who"}


def _answer_span(sentence: str) -> tuple[str, str]:
    """(question word, span of the sentence it asks for); "What" and no span when nothing is typed."""
    typed = first_typed_span(sentence)
    return (_ASKED_WITH[typed[0]], typed[1]) if typed else ("What", "")


def content_tokens(text: str) -> list[str]:
    """The words of `text` that are not stop words, as written."""
    return [t for t in _TOKEN.findall(text) if t.lower() not in STOPWORDS]


def make_probe(sentence: str, rng: random.Random, shape: ProbeShape = ProbeShape()) -> ProbeQuestion | None:
    """An answerable probe question about `sentence`, or None when the sentence is unsuitable."""
    n_words = len(_TOKEN.findall(sentence))
    if not MIN_WORDS <= n_words <= MAX_WORDS or sentence.rstrip().endswith("?"):
        return None
    wh, span = _answer_span(sentence)
    asked = set(_TOKEN.findall(span.lower()))
    pool = [t for t in content_tokens(sentence) if t.lower() not in asked]
    if len(pool) < shape.least:
        return None
    keep = max(shape.least, min(shape.most, round(shape.share * len(pool))))
    kept = sorted(rng.sample(range(len(pool)), keep))
    words = [pool[i] for i in kept]
    return ProbeQuestion(f"{wh} {' '.join(words)}?", span or sentence, sentence)


def collection_probes(view: IndexView, limit: int, *, seed: int, shape: ProbeShape = ProbeShape()) -> list[ProbeQuestion]:
    """Up to `limit` probe questions about the collection's sentences, drawn in a seeded order."""
    index = view.sentences
    order = list(range(len(index)))
    random.Random(seed).shuffle(order)
    rng = random.Random(seed)
    found: list[ProbeQuestion] = []
    for row in order:
        if len(found) >= limit:
            break
        sentence = view.chunks[index.chunk_ids[row]].text[int(index.starts[row]):int(index.ends[row])]
        probe = make_probe(sentence, rng, shape)
        if probe is not None:
            found.append(probe)
    return found
