"""The abstention trade-off of a confidence signal. Pure functions, no I/O.

Abstaining whenever the signal is below a threshold t catches a share of the unanswerable questions
(abstained, higher is better) at the cost of a share of the answerable ones (false abstention,
lower is better). Sweeping t over every observed value traces the whole curve.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

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
