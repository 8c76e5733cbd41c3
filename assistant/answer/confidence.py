"""Calibrated confidence: which candidate sentence to quote, the probability that it answers the
question, and the operating point below which the assistant abstains.

Two logistic models, fitted by `evals/calibrate_answer_scorer.py` on SQuAD 2.0 *fit* articles the
scorer never trained on (`calibration_articles`), ship beside the scorer's weights:
- the selector, over `answerability.FEATURES` of each candidate: which sentence most likely holds
  the answer (it re-ranks the scorer's order with the key-constraint signals);
- the confidence model, over `answerability.CONFIDENCE_FEATURES`: the probability that the chosen
  sentence holds the answer. Its threshold keeps false abstention on answerable questions at the
  target (10% by default), read off leave-one-article-out probabilities so that it holds on
  articles the models have not seen.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.answer.answerability import (
    CONFIDENCE_FEATURES,
    FEATURES,
    confidence_features,
)
from assistant.errors import ConfigError

CALIBRATION_FILE = "calibration.json"
# A calibrated probability under one half means the quote is more likely wrong than right: such an
# answer (still above the abstention point) is given with a note that it is unsure.
UNSURE_BELOW = 0.5
_FIX = ("re-create it with  python evals/calibrate_answer_scorer.py  and then  "
        "python evals/fit_collection_threshold.py --write  (the per-collection rule is fitted over the confidence model)")


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


@dataclass(frozen=True)
class LogisticModel:
    """p = sigmoid(bias + sum(weight * (x - mean) / scale)) over named features."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float

    def probability(self, row: Sequence[float]) -> float:
        return _sigmoid(self.bias + sum(w * (x - m) / s for w, x, m, s in zip(self.weights, row, self.mean, self.scale)))

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.features), "mean": list(self.mean), "scale": list(self.scale),
                "weights": list(self.weights), "bias": self.bias}

    @classmethod
    def from_json(cls, data: dict[str, Any], expected: tuple[str, ...], path: Path) -> "LogisticModel":
        model = cls(features=tuple(data["features"]), mean=tuple(map(float, data["mean"])), scale=tuple(map(float, data["scale"])),
                    weights=tuple(map(float, data["weights"])), bias=float(data["bias"]))
        if model.features != expected or not (len(expected) == len(model.mean) == len(model.scale) == len(model.weights)):
            raise ConfigError(f"{path} was fitted for other features than this version computes; {_FIX}")
        if any(s <= 0 for s in model.scale):
            raise ConfigError(f"{path} has a non-positive feature scale; {_FIX}")
        return model


@dataclass(frozen=True)
class PerCollection:
    """A collection's own abstention threshold: `scale` times the `quantile` of the confidence the
    answerer gives `probes` questions made from the collection's sentences (answer.probe_questions).
    Fitted by `evals/fit_collection_threshold.py` so that false abstention stays at the target on
    every fit domain; below `min_probes` (a collection with little text) the global threshold holds."""

    quantile: float
    scale: float
    probes: int
    min_probes: int
    shape: tuple[float, int, int]  # ProbeShape(share, least, most)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PerCollection":
        share, least, most = data["shape"]
        found = cls(quantile=float(data["quantile"]), scale=float(data["scale"]), probes=int(data["probes"]),
                    min_probes=int(data["min_probes"]), shape=(float(share), int(least), int(most)))
        if not (0 < found.quantile < 1 and found.scale > 0 and 0 < found.min_probes <= found.probes):
            raise ValueError("per_collection needs 0 < quantile < 1, scale > 0 and 0 < min_probes <= probes")
        if not (0 < share <= 1 and 1 <= least <= most):
            raise ValueError("per_collection shape needs 0 < share <= 1 and 1 <= least <= most")
        return found


@dataclass(frozen=True)
class Calibration:
    selector: LogisticModel
    confidence: LogisticModel
    threshold: float
    target_false_abstention: float
    # A second sentence is quoted when the selector finds it at least this share as likely as the
    # first: on the calibration articles (out-of-fold) it adds a quote to ~25% of answers and
    # raises answers holding the gold answer from 0.741 to 0.804 (evals/results/calibration.json).
    second_quote_ratio: float
    # None: one threshold for every collection (`threshold`); else `threshold` is the fallback.
    per_collection: PerCollection | None = None

    def ranked(self, rows: Sequence[Sequence[float]]) -> list[tuple[float, int]]:
        """(selector probability, candidate index), most likely answer first."""
        return sorted(((self.selector.probability(row), i) for i, row in enumerate(rows)), key=lambda pair: (-pair[0], pair[1]))

    def confidence_of(self, rows: Sequence[Sequence[float]], chosen: int) -> float:
        """P(candidate `chosen` answers the question), calibrated."""
        return self.confidence.probability(confidence_features(rows, chosen))


def load_calibration(folder: Path) -> Calibration:
    path = folder / CALIBRATION_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        selector, confidence = data["selector"], data["confidence"]
        threshold, target = float(data["threshold"]), float(data["target_false_abstention"])
        ratio = float(data["second_quote_ratio"])
        per_collection = PerCollection.from_json(data["per_collection"]) if data.get("per_collection") else None
    except FileNotFoundError:
        raise ConfigError(f"no calibration at {path}; create it with  python evals/calibrate_answer_scorer.py") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path} is not a valid calibration ({exc}); {_FIX}") from exc
    try:
        return Calibration(selector=LogisticModel.from_json(selector, FEATURES, path),
                           confidence=LogisticModel.from_json(confidence, CONFIDENCE_FEATURES, path),
                           threshold=threshold, target_false_abstention=target, second_quote_ratio=ratio,
                           per_collection=per_collection)
    except ConfigError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path} is not a valid calibration ({exc}); {_FIX}") from exc
