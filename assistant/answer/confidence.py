"""Calibrated confidence: the learned scorer's logit turned into the probability that the quoted
sentence answers the question, and the operating point below which the assistant abstains.

Both come from `evals/calibrate_answer_scorer.py`, fitted on the SQuAD 2.0 *fit* articles only
(Platt scaling: p = sigmoid(a * logit + b); threshold = the confidence that keeps false abstention
on answerable fit questions at the target, 10% by default) and shipped beside the scorer's weights."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ConfigError

CALIBRATION_FILE = "calibration.json"
# A calibrated probability under one half means the quote is more likely wrong than right: such an
# answer (still above the abstention point) is given with a note that it is unsure.
UNSURE_BELOW = 0.5


@dataclass(frozen=True)
class Calibration:
    a: float
    b: float
    threshold: float
    target_false_abstention: float

    def probability(self, logit: float) -> float:
        z = self.a * logit + self.b
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def load_calibration(folder: Path) -> Calibration:
    path = folder / CALIBRATION_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Calibration(a=float(data["a"]), b=float(data["b"]), threshold=float(data["threshold"]),
                           target_false_abstention=float(data["target_false_abstention"]))
    except FileNotFoundError:
        raise ConfigError(f"no calibration at {path}; create it with  python evals/calibrate_answer_scorer.py") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path} is not a valid calibration ({exc}); re-create it with  python evals/calibrate_answer_scorer.py") from exc
