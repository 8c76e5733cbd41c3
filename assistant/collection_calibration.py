"""Each collection's own abstention threshold, learned from questions made from its own text.

The learned answerer's confidence is shifted by the kind of text: on forum answers an answered
question scores lower than on encyclopaedia prose, so the one threshold fitted on Wikipedia refused
a quarter of the answerable questions on news. When a snapshot is loaded, the engine asks the
collection probe questions about its own sentences (assistant.answer.probe_questions) and sets the
threshold to a fitted multiple of a low quantile of their confidence (`PerCollection`, fitted by
evals/fit_collection_threshold.py on three domains' fit parts).

The result is stored beside the collection's manifest and reused while its key holds (the answer
models' calibration, the settings that shape answers, the corpus the collection mirrors) and the
collection has not grown or shrunk by more than a quarter, so a one-document upload does not pay for
a new probe. A threshold set in the settings skips all of this.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable
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
# A collection that grew or shrank by more than this share since its probe is probed again.
REPROBE_CHANGE = 0.25

# (question) -> (passages retrieved for it, its query vector)
Search = Callable[[str], tuple[tuple[Passage, ...], np.ndarray]]


@dataclass(frozen=True)
class CollectionThreshold:
    threshold: float
    statistic: float   # the probes' confidence quantile the threshold scales
    probes: int
    chunks: int        # the collection's size when probed
    key: str           # what it was computed for: calibration, answer settings, corpus (`probe_key`)

    def stale(self, chunks: int, key: str) -> bool:
        return self.key != key or abs(chunks - self.chunks) > REPROBE_CHANGE * max(1, self.chunks)


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
        found = CollectionThreshold(threshold=float(data["threshold"]), statistic=float(data["statistic"]),
                                    probes=int(data["probes"]), chunks=int(data["chunks"]), key=str(data["key"]))
        if not (math.isfinite(found.threshold) and 0.0 <= found.threshold <= 1.0):
            raise ValueError(f"threshold {found.threshold} is not a probability")
        return found
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring %s (%s); probing the collection again", threshold_path(settings), exc)
        return None


def probe_threshold(view: IndexView, search: Search, answerer: ExtractiveAnswerer, rule: PerCollection,
                    key: str) -> CollectionThreshold | None:
    """Ask the collection its probe questions; None when it has too little text for `rule.min_probes`."""
    probes = collection_probes(view, rule.probes, seed=PROBE_SEED, shape=ProbeShape(*rule.shape))
    if len(probes) < rule.min_probes:
        return None
    confidences = []
    for probe in probes:
        passages, vector = search(probe.question)
        confidences.append(answerer.confidence(AnswerRequest(question=probe.question, query_vector=vector, passages=passages)))
    statistic = float(np.quantile(confidences, rule.quantile))
    return CollectionThreshold(threshold=rule.scale * statistic, statistic=statistic, probes=len(probes),
                               chunks=len(view.chunks), key=key)


def collection_threshold(settings: Settings, view: IndexView, search: Search, answerer: ExtractiveAnswerer,
                         rule: PerCollection, key: str) -> float | None:
    """The collection's threshold: stored if still fresh, else probed now and stored (atomically)."""
    found = read_threshold(settings)
    if found is not None and not found.stale(len(view.chunks), key):
        return found.threshold
    found = probe_threshold(view, search, answerer, rule, key)
    if found is None:
        return None
    try:
        write_text(threshold_path(settings), json.dumps(asdict(found), indent=2) + "\n")
    except OSError as exc:  # a read-only index (a replica's mount): use it for this process only
        log.warning("could not store the collection's abstention threshold at %s (%s)", threshold_path(settings), exc)
    return found.threshold
