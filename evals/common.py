"""What the eval scripts share: where their data lies, and the latency figures they report.

Paths are resolved from this checkout (`assistant.config`): benchmarks too large to vendor are read
in place from `../shared/benchmarks/` beside the repository, vendored samples from `evals/data/`.
JSON Lines are read with `assistant.jsonl.read_json_lines`, the project's one reader."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from assistant.config import BENCHMARKS_DIR, PROJECT_ROOT
from assistant.evaluation import metrics

EVALS_DATA = PROJECT_ROOT / "evals" / "data"
# The domains whose fit parts train, fit or calibrate anything, and those reported (the bundled news
# corpus is report only): one list for every fitting and measuring script.
FIT_DOMAINS = ("squad2", "cloud", "fiqa")
REPORT_DOMAINS = ("squad2", "cloud", "fiqa", "corpus")
RESULTS = PROJECT_ROOT / "evals" / "results"


def benchmark(name: str) -> Path:
    """A benchmark folder beside the checkout (`../shared/benchmarks/<name>`), never a machine's absolute path."""
    return BENCHMARKS_DIR / name


def percentile(values: Sequence[float], q: float) -> float:
    """`metrics.percentile` (linear interpolation, numpy's default) as a figure for a table or a JSON
    row: nan, not None, when there are no values."""
    found = metrics.percentile(values, q)
    return math.nan if found is None else found


def p50_p95(durations: Sequence[float]) -> tuple[float, float]:
    """The median and 95th percentile of some durations (in their unit)."""
    return percentile(durations, 50), percentile(durations, 95)


@contextmanager
def patched(obj: object, name: str, value: object) -> Iterator[None]:
    """`obj.name` set to `value` for the block (a measurement script trying a constant's alternatives
    in its own process), then restored."""
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)
