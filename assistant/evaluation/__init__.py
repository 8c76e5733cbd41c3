"""Offline, deterministic evaluation: gold sets, metrics, suites, the harness, reports, compare and gate.

Light to import: the engine, tqdm and matplotlib are imported only when a run needs them.
"""

from assistant.evaluation.errors import EvalError, GoldFormatError
from assistant.evaluation.gold import GoldItem, GoldTurn, load_gold

__all__ = ["EvalError", "GoldFormatError", "GoldItem", "GoldTurn", "load_gold", "build_suite", "run_suite", "compare_runs", "check_gate", "load_thresholds"]


def __getattr__(name: str):  # noqa: ANN202
    # lazy re-exports, so `import assistant.evaluation` stays cheap
    if name == "build_suite":
        from assistant.evaluation.suites import build_suite

        return build_suite
    if name == "run_suite":  # lazy
        from assistant.evaluation.harness import run_suite

        return run_suite
    if name == "compare_runs":  # lazy
        from assistant.evaluation.compare import compare_runs

        return compare_runs
    if name in ("check_gate", "load_thresholds"):  # lazy
        from assistant.evaluation import gate

        return getattr(gate, name)
    raise AttributeError(name)
