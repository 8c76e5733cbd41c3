"""Each collection's own abstention threshold, learned from questions made from its own text.

The learned answerer's confidence is shifted by the kind of text: on forum answers an answered
question scores lower than on encyclopaedia prose, so the one threshold fitted on Wikipedia refused
a quarter of the answerable questions on news. When a snapshot is loaded, the engine asks the
collection probe questions about its own sentences (assistant.answer.probe_questions) and sets the
threshold to a fitted multiple of a low quantile of their confidence (`PerCollection`, fitted by
evals/fit_collection_threshold.py on three domains' fit parts).

The result is stored beside the collection's manifest and reused while its key holds (the answer
models' calibration, the settings that shape answers, the corpus the collection mirrors) and the
collection's text has not changed by more than about a fifth (added, removed or replaced chunks alike,
estimated from a bottom-k sketch of the chunks' content hashes), so a one-document upload does not pay
for a new probe. A collection too small to probe stores that too (no threshold: the global one holds),
so its sentences are not scanned again at every load. A threshold set in the settings skips all of this.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from assistant.answer.base import AnswerRequest
from assistant.answer.confidence import PerCollection
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.probe_questions import ProbeShape, collection_probes
from assistant.atomic import write_text
from assistant.config import Settings
from assistant.index.manifest import collection_dir
from assistant.index.view import IndexView
from assistant.types import Passage

log = logging.getLogger(__name__)

PROBE_SEED = 20261206
THRESHOLD_FILE = "answer_threshold.json"
# A collection whose text changed by more than this share since its probe is probed again: growth by a
# quarter, or a fifth of its chunks replaced, takes the chunks' Jaccard similarity under 1 / (1 + 0.25).
REPROBE_CHANGE = 0.25
SKETCH_SIZE = 256  # bottom-k content hashes: the Jaccard estimate's standard error is ~0.025 at k=256

# (question) -> (passages retrieved for it, its query vector)
Search = Callable[[str], tuple[tuple[Passage, ...], np.ndarray]]


def content_sketch(texts: Iterable[str], size: int = SKETCH_SIZE) -> tuple[int, ...]:
    """The `size` smallest 64-bit hashes of the distinct chunk texts (a bottom-k MinHash sketch)."""
    hashes = {int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest(), "big") for t in texts}
    return tuple(heapq.nsmallest(size, hashes))


def sketch_similarity(first: Sequence[int], second: Sequence[int], size: int = SKETCH_SIZE) -> float:
    """Estimated Jaccard similarity of the two sketched sets: the share of the union's k smallest
    hashes that both hold (exact when both sets have fewer than k members)."""
    if not first and not second:
        return 1.0
    a, b = set(first), set(second)
    union = heapq.nsmallest(size, a | b)
    return sum(1 for h in union if h in a and h in b) / len(union)


@dataclass(frozen=True)
class CollectionThreshold:
    threshold: float | None  # None: too little text to probe (the calibration's global threshold holds)
    statistic: float | None  # the probes' confidence quantile the threshold scales
    probes: int
    chunks: int              # the collection's size when probed
    key: str                 # what it was computed for: calibration, answer settings, corpus (`probe_key`)
    sketch: tuple[int, ...] = ()  # `content_sketch` of its chunks when probed

    def stale(self, sketch: Sequence[int], key: str) -> bool:
        return self.key != key or sketch_similarity(self.sketch, sketch) < 1.0 / (1.0 + REPROBE_CHANGE)


def probe_key(calibration: object, settings: Settings, corpus: str | None) -> str:
    """A probe holds only for the same answer models, answer-shaping settings and corpus."""
    blob = f"{calibration!r}|{settings.config_hash()}|{corpus or ''}"
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def threshold_path(settings: Settings) -> Path:
    return collection_dir(settings) / THRESHOLD_FILE


def read_threshold(settings: Settings) -> CollectionThreshold | None:
    """The stored threshold, or None when there is none or it is unreadable (it is then re-probed)."""
    try:
        data = json.loads(threshold_path(settings).read_text(encoding="utf-8"))
        found = CollectionThreshold(threshold=_optional_float(data["threshold"]), statistic=_optional_float(data["statistic"]),
                                    probes=int(data["probes"]), chunks=int(data["chunks"]), key=str(data["key"]),
                                    sketch=tuple(int(h) for h in data.get("sketch", ())))
        if found.threshold is not None and not (math.isfinite(found.threshold) and 0.0 <= found.threshold <= 1.0):
            raise ValueError(f"threshold {found.threshold} is not a probability")
        return found
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring %s (%s); probing the collection again", threshold_path(settings), exc)
        return None


def _optional_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def probe_threshold(view: IndexView, search: Search, answerer: ExtractiveAnswerer, rule: PerCollection,
                    key: str, sketch: tuple[int, ...]) -> CollectionThreshold:
    """Ask the collection its probe questions (no threshold when it has too little text for `rule.min_probes`)."""
    probes = collection_probes(view, rule.probes, seed=PROBE_SEED, shape=ProbeShape(*rule.shape))
    if len(probes) < rule.min_probes:
        return CollectionThreshold(threshold=None, statistic=None, probes=len(probes), chunks=len(view.chunks), key=key,
                                   sketch=sketch)
    confidences = []
    for probe in probes:
        passages, vector = search(probe.question)
        confidences.append(answerer.confidence(AnswerRequest(question=probe.question, query_vector=vector, passages=passages)))
    statistic = float(np.quantile(confidences, rule.quantile))
    return CollectionThreshold(threshold=rule.scale * statistic, statistic=statistic, probes=len(probes),
                               chunks=len(view.chunks), key=key, sketch=sketch)


def collection_threshold(settings: Settings, view: IndexView, search: Search, answerer: ExtractiveAnswerer,
                         rule: PerCollection, key: str) -> float | None:
    """The collection's threshold: stored if still fresh, else probed now and stored (atomically)."""
    found = read_threshold(settings)
    sketch = content_sketch(chunk.text for chunk in view.chunks.values())
    if found is not None and not found.stale(sketch, key):
        return found.threshold
    found = probe_threshold(view, search, answerer, rule, key, sketch)
    try:
        write_text(threshold_path(settings), json.dumps(asdict(found), indent=2) + "\n")
    except OSError as exc:  # a read-only index (a replica's mount): use it for this process only
        log.warning("could not store the collection's abstention threshold at %s (%s)", threshold_path(settings), exc)
    return found.threshold
