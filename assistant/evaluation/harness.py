"""Run a suite's items through the real `ask()` / `ChatSession`, score them, and write the run.

A run directory holds:
    results.jsonl   one line per asked question (a conversation gives one line per turn)
    summary.json    aggregate metrics, latency per stage, the config hash and the settings
    report.md       the Markdown report, with charts/metrics.png and charts/latency.png
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import platform
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from assistant.config import PROJECT_ROOT, Settings
from assistant.conversation.session import ChatSession
from assistant.errors import AssistantError, IndexMismatchError
from assistant.evaluation.errors import EvalError
from assistant.evaluation.gold import GoldItem
from assistant.evaluation.report import write_report
from assistant.evaluation.scoring import RANK_DEPTH, score_turn, summarize
from assistant.evaluation.suites import Suite
from assistant.facade import Assistant
from assistant.jsonl import read_json_lines
from assistant.types import Answer, Passage, Turn

if TYPE_CHECKING:  # the index stack is heavy to import; the harness only names its report type
    from assistant.index.run import IndexReport

DEFAULT_REPORTS_DIR = PROJECT_ROOT / "evals" / "reports"

log = logging.getLogger(__name__)


class Engine(Protocol):
    """What the harness needs of an engine: an `Assistant`, or a test's deterministic stand-in."""

    def ask(self, question: str, *, top_k: int | None = None, history: Sequence[Turn] = ()) -> Answer: ...

    def retrieve(self, query: str, *, top_k: int = 10) -> list[Passage]: ...

    def index(self, corpus: Path | str | None = None, *, rebuild: bool = False, show_progress: bool = False) -> IndexReport: ...


class Session(Protocol):
    def ask(self, message: str) -> Answer: ...


SessionFactory = Callable[[Engine], Session]


def _default_session_factory(engine: Engine) -> Session:
    return ChatSession(engine=engine)


@dataclass(frozen=True)
class RunResult:
    out_dir: Path
    rows: tuple[dict[str, Any], ...]
    summary: dict[str, Any]


def _ask_turns(engine: Engine, item: GoldItem, session_factory: SessionFactory) -> Iterable[dict[str, Any]]:
    session = session_factory(engine) if item.turns else None
    for index, turn in enumerate(item.all_turns):
        answer: Answer | None = None
        error = None
        started = time.perf_counter()
        try:
            answer = session.ask(turn.question) if session is not None else engine.ask(turn.question)
        except AssistantError as exc:
            error = f"{type(exc).__name__}: {exc}"
        wall = time.perf_counter() - started
        query = answer.standalone_question if answer is not None and answer.standalone_question else turn.question
        try:
            ranking = engine.retrieve(query, top_k=RANK_DEPTH)
        except AssistantError as exc:
            ranking, error = [], error or f"{type(exc).__name__}: {exc}"
        yield score_turn(item, index, turn, answer, ranking, error=error, wall_s=wall)


def run_items(
    engine: Engine,
    items: Sequence[GoldItem],
    *,
    session_factory: SessionFactory = _default_session_factory,
    progress: bool = True,
    desc: str = "eval",
) -> list[dict[str, Any]]:
    """Ask every item (conversations in one fresh session each) and return the scored rows."""
    from tqdm import tqdm

    rows: list[dict[str, Any]] = []
    passed = 0
    bar = tqdm(total=len(items), desc=desc, unit="item", disable=not progress, dynamic_ncols=True)
    try:
        for item in items:
            for row in _ask_turns(engine, item, session_factory):
                rows.append(row)
                passed += row["metrics"]["pass"]
            bar.update(1)
            bar.set_postfix(acc=f"{passed / len(rows):.3f}", refresh=False)
    finally:
        bar.close()
    return rows


def default_out_dir(suite_name: str, reports_dir: Path = DEFAULT_REPORTS_DIR) -> Path:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return reports_dir / f"{suite_name}-{stamp}"


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "__dataclass_fields__"):
        return {k: _jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _index_summary(report: Any) -> Any:
    """The index report with its long lists (added/changed/removed sources) reduced to counts."""
    data = _jsonable(report)
    if isinstance(data, dict):
        return {k: (len(v) if isinstance(v, list) and len(v) > 20 else v) for k, v in data.items()}
    return data


def write_run(out_dir: Path, rows: Sequence[dict[str, Any]], summary: dict[str, Any], *, charts: bool = True) -> None:
    """Write results.jsonl, summary.json, report.md and the charts into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "results.jsonl").open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_report(out_dir, rows, summary, charts=charts)


def _split_summary(suite: Suite) -> dict[str, Any] | None:
    """Which part of the article split the suite's questions come from (every SQuAD figure names it)."""
    if suite.split is None:
        return None
    return {"part": "report", "description": suite.split.describe("report"), "seed": suite.split.seed,
            "report_share": suite.split.report_share, "articles": list(suite.split.report)}


def run_suite(
    suite: Suite,
    *,
    engine: Engine | None = None,
    out_dir: Path | None = None,
    progress: bool = True,
    session_factory: SessionFactory = _default_session_factory,
    charts: bool = True,
) -> RunResult:
    """Index the suite's corpus (incrementally), ask every item, score, and write the run directory.

    engine: an `Assistant` built from `suite.settings` is made when none is given.
    """
    settings: Settings = suite.settings
    if not suite.items:
        raise EvalError(f"suite {suite.name!r} has no items")
    started = time.perf_counter()
    if engine is None:
        engine = Assistant(settings)
    index_started = time.perf_counter()
    try:
        index_report = engine.index(rebuild=False, show_progress=progress)
    except IndexMismatchError:
        # The suite's collection is the harness's own derived data: rebuild it for the current settings.
        log.warning("collection %r was built with other settings; rebuilding it", settings.store.collection)
        index_report = engine.index(rebuild=True, show_progress=progress)
    index_s = time.perf_counter() - index_started
    warm_started = time.perf_counter()
    engine.retrieve("warm up", top_k=1)  # load the index view and models once, outside the per-question timings
    warmup_s = time.perf_counter() - warm_started
    rows = run_items(engine, suite.items, session_factory=session_factory, progress=progress, desc=suite.name)
    hashes = sorted({r["config_hash"] for r in rows if r["config_hash"]})
    summary: dict[str, Any] = {
        "suite": suite.name,
        "description": suite.description,
        "created_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "config_hash": hashes[0] if len(hashes) == 1 else (",".join(hashes) or settings.config_hash()),
        "settings_hash": settings.config_hash(),
        "answerer": settings.answer.answerer,
        "sample": suite.sample,
        "limit": suite.limit,
        "n_items": len(suite.items),
        "n_questions": len(rows),
        "split": _split_summary(suite),
        **summarize(rows),
        "index": {"seconds": round(index_s, 3), "warmup_seconds": round(warmup_s, 3), "report": _index_summary(index_report)},
        "wall_s": round(time.perf_counter() - started, 3),
        "python": platform.python_version(),
        "settings": settings.model_dump(mode="json"),
    }
    out_dir = out_dir or default_out_dir(suite.name)
    write_run(out_dir, rows, summary, charts=charts)
    return RunResult(out_dir=out_dir, rows=tuple(rows), summary=summary)


def load_run(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read a run directory (or its summary.json) back: (summary, rows)."""
    path = Path(path)
    run_dir = path.parent if path.name == "summary.json" else path
    summary_path, rows_path = run_dir / "summary.json", run_dir / "results.jsonl"
    if not summary_path.is_file():
        raise EvalError(f"no eval run at {path}: {summary_path} does not exist")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        rows = read_json_lines(rows_path) if rows_path.is_file() else []
    except (json.JSONDecodeError, OSError) as exc:
        raise EvalError(f"cannot read eval run {run_dir}: {exc}") from None
    return summary, rows
