"""The abstention trade-off of a confidence signal. Pure functions over numbers and result rows, no I/O.

Abstaining whenever the signal is below a threshold t catches a share of the unanswerable questions
(abstained, higher is better) at the cost of a share of the answerable ones (false abstention,
lower is better). Sweeping t over every observed value traces the whole curve.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_FALSE_ABSTENTION = 0.10


@dataclass(frozen=True)
class TradeoffPoint:
    """Abstain when confidence < threshold: the shares of each kind of question abstained on."""

    threshold: float
    abstained_unanswerable: float
    false_abstention: float


def _share_below(sorted_values: Sequence[float], threshold: float) -> float:
    return bisect.bisect_left(sorted_values, threshold) / len(sorted_values)


def tradeoff_curve(answerable: Sequence[float], unanswerable: Sequence[float]) -> list[TradeoffPoint]:
    """One point per distinct threshold, from abstaining on nothing to abstaining on everything.

    Thresholds are every observed value (abstain strictly below it) plus one above the maximum,
    so the curve runs from (0, 0) to (1, 1). Empty inputs leave the curve undefined: [].
    """
    if not answerable or not unanswerable:
        return []
    ans, unans = sorted(answerable), sorted(unanswerable)
    observed = sorted(set(ans) | set(unans))
    thresholds = [*observed, observed[-1] + 1.0]
    return [TradeoffPoint(t, _share_below(unans, t), _share_below(ans, t)) for t in thresholds]


def best_within(curve: Sequence[TradeoffPoint], max_false_abstention: float = DEFAULT_MAX_FALSE_ABSTENTION) -> TradeoffPoint | None:
    """The point abstaining on the most unanswerable questions with false abstention <= the bound.

    Ties go to the lower false abstention, then the lower threshold. None for an empty curve.
    """
    allowed = [p for p in curve if p.false_abstention <= max_false_abstention + 1e-12]
    if not allowed:
        return None
    return max(allowed, key=lambda p: (p.abstained_unanswerable, -p.false_abstention, -p.threshold))


def separation_auc(answerable: Sequence[float], unanswerable: Sequence[float]) -> float | None:
    """Probability that a random unanswerable question scores below a random answerable one (ties 1/2).

    0.5 is a signal no better than chance at telling them apart; None when either side is empty.
    """
    if not answerable or not unanswerable:
        return None
    ans = sorted(answerable)
    wins = sum(len(ans) - bisect.bisect_right(ans, u) + 0.5 * (bisect.bisect_right(ans, u) - bisect.bisect_left(ans, u))
               for u in unanswerable)
    return wins / (len(ans) * len(unanswerable))


# The order in which a run's confidence signal is chosen when its answers carry several.
_SIGNAL_PREFERENCE = ("confidence", "best_sentence_cosine", "top_passage_score")


def tradeoff_signal(rows: Sequence[dict[str, Any]]) -> str | None:
    """The one signal the run's trade-off curve is drawn over: the most preferred one any row carries."""
    present = {r.get("confidence_source") for r in rows}
    return next((name for name in _SIGNAL_PREFERENCE if name in present), None)


def tradeoff_scores(rows: Sequence[dict[str, Any]]) -> tuple[str | None, list[float], list[float]]:
    """(signal, answerable scores, unanswerable scores) over the rows that carry the run's signal.

    Rows with another signal (e.g. no confidence on an errored answer) are left out, never mixed in:
    two signals' scales are not comparable."""
    signal = tradeoff_signal(rows)
    kept = [r for r in rows if signal is not None and r.get("confidence_source") == signal]
    return (signal, [r["confidence"] for r in kept if r["answerable"]], [r["confidence"] for r in kept if not r["answerable"]])


def summarize_tradeoff(rows: Sequence[dict[str, Any]], max_false_abstention: float = DEFAULT_MAX_FALSE_ABSTENTION) -> dict[str, Any]:
    """The abstention trade-off of the run's confidence signal: its best point within the false-abstention
    bound and how well it separates unanswerable from answerable questions (AUC).

    The best point is read off this run's own questions: it says what the signal can do, not what a
    threshold chosen elsewhere achieves (that must be picked on a fit split)."""
    signal, answerable, unanswerable = tradeoff_scores(rows)
    best = best_within(tradeoff_curve(answerable, unanswerable), max_false_abstention)
    return {
        "signal": signal,
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "n_left_out": len(rows) - len(answerable) - len(unanswerable),
        "max_false_abstention": max_false_abstention,
        "at_max_false_abstention": None if best is None else {
            "threshold": best.threshold, "abstained_unanswerable": best.abstained_unanswerable, "false_abstention": best.false_abstention},
        "auc": separation_auc(answerable, unanswerable),
    }
