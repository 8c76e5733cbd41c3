"""Reliability of a confidence: do answers given with confidence p turn out right a share p of the
time? Binned shares, the expected calibration error, and the chart (Agg backend, PNG)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

RELIABILITY_BINS = 10


def reliability_bins(confidences: Sequence[float], correct: Sequence[float], bins: int = RELIABILITY_BINS) -> list[dict[str, Any]]:
    """Per equal-width confidence bin with answers in it: count, mean confidence, share correct."""
    conf, right = np.asarray(confidences, dtype=float), np.asarray(correct, dtype=float)
    rows = []
    for k in range(bins):
        low, high = k / bins, (k + 1) / bins
        mask = (conf >= low) & ((conf < high) if k < bins - 1 else (conf <= high))
        if mask.any():
            rows.append({"bin": f"{low:.1f}-{high:.1f}", "n": int(mask.sum()), "mean_confidence": round(float(conf[mask].mean()), 3),
                         "share_correct": round(float(right[mask].mean()), 3)})
    return rows


def expected_calibration_error(rows: Sequence[dict[str, Any]]) -> float | None:
    """Count-weighted mean gap between confidence and share correct over the bins (0 = calibrated)."""
    total = sum(r["n"] for r in rows)
    if not total:
        return None
    return round(sum(r["n"] * abs(r["mean_confidence"] - r["share_correct"]) for r in rows) / total, 4)


def run_reliability(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Reliability of an eval run's answered questions that carry a calibrated confidence (an
    unanswerable question answered counts as wrong). None when no answer carries one."""
    answered = [r for r in rows if r.get("confidence_source") == "confidence" and not r["abstained"] and not r.get("error")]
    if not answered:
        return None
    bins = reliability_bins([r["confidence"] for r in answered], [float(r["metrics"]["pass"]) for r in answered])
    return {"n_answered": len(answered), "bins": bins, "ece": expected_calibration_error(bins)}


def plot_reliability(bins: Sequence[dict[str, Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5, 5))
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    axis.plot([b["mean_confidence"] for b in bins], [b["share_correct"] for b in bins], marker="o", label="answer confidence")
    for b in bins:
        axis.annotate(str(b["n"]), (b["mean_confidence"], b["share_correct"]), textcoords="offset points", xytext=(4, -10), fontsize=7)
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1)
    axis.set_xlabel("confidence (calibrated on the fit split)")
    axis.set_ylabel("share of those answers that are right")
    axis.set_title(title)
    axis.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
