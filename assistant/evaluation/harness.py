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
from assistant.errors import AssistantError, IndexMismatchError
from assistant.evaluation import metrics as m
from assistant.evaluation.errors import EvalError
from assistant.evaluation.gold import GoldItem, GoldTurn
from assistant.evaluation.signals import answer_span, confidence_of, has_short_answer_field, short_answer_of
from assistant.evaluation.suites import Suite
from assistant.evaluation.reliability import run_reliability
from assistant.evaluation.tradeoff import summarize_tradeoff
from assistant.types import Answer, Passage, Turn

if TYPE_CHECKING:  # the index stack is heavy to import; the harness only names its report type
    from assistant.index.run import IndexReport

DEFAULT_REPORTS_DIR = PROJECT_ROOT / "evals" / "reports"
RANK_DEPTH = 10  # documents scored for hit@k / MRR@10

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
    from assistant import ChatSession  # imported late: keeps this module light to import

    return ChatSession(engine=engine)


@dataclass(frozen=True)
class RunResult:
    out_dir: Path
    rows: tuple[dict[str, Any], ...]
    summary: dict[str, Any]


def score_turn(
    item: GoldItem,
    turn_index: int,
    turn: GoldTurn,
    answer: Answer | None,
    ranking: Sequence[Passage],
    *,
    error: str | None = None,
    wall_s: float = 0.0,
) -> dict[str, Any]:
    """One results.jsonl row: what was asked, what came back, and its metrics."""
    gold_sources = set(turn.sources)
    ranked_docs = m.document_ranking(p.source for p in ranking)
    if answer is None:  # the question raised a typed error: a failed item, not a crashed run
        abstained, text, citations, passages, timings = False, "", (), (), {}
        span, short, (confidence, confidence_source) = "", None, (None, "none")
    else:
        abstained, text = answer.abstained, answer.text
        citations, passages, timings = answer.citations, answer.passages, dict(answer.timings)
        span, short, (confidence, confidence_source) = answer_span(answer), short_answer_of(answer), confidence_of(answer)
    timings["wall"] = wall_s
    retrieved_ids = {p.chunk_id for p in passages}
    answered = answer is not None and not abstained
    alias = answered and m.alias_match(text, turn.answers)
    metrics: dict[str, Any] = {
        "hit@1": m.hit_at_k(ranked_docs, gold_sources, 1),
        "hit@5": m.hit_at_k(ranked_docs, gold_sources, 5),
        "mrr@10": m.mrr_at_k(ranked_docs, gold_sources, RANK_DEPTH),
        "citation_validity": m.citation_validity([c.chunk_id for c in citations], retrieved_ids),
        "citation_precision": m.citation_precision([c.source for c in citations], gold_sources),
    }
    if turn.answerable:
        metrics["alias_match"] = bool(alias)
        metrics["f1"] = m.max_token_f1(text, turn.answers) if answered else 0.0
        metrics["em"] = bool(answered and m.exact_match(text, turn.answers))
        metrics["short_f1"] = m.max_token_f1(span, turn.answers) if answered else 0.0
        metrics["short_em"] = bool(answered and m.exact_match(span, turn.answers))
        passed = bool(alias)
    else:
        passed = bool(answer is not None and abstained)
    metrics["pass"] = passed
    key = item.id if not item.turns else f"{item.id}/t{turn_index}"
    return {
        "key": key,
        "item_id": item.id,
        "turn": turn_index,
        "category": item.category,
        "question": turn.question,
        "standalone_question": answer.standalone_question if answer is not None else turn.question,
        "answerable": turn.answerable,
        "gold_answers": list(turn.answers),
        "gold_sources": list(turn.sources),
        "answer": text,
        "short_answer": short,
        "abstained": abstained,
        "confidence": confidence,
        "confidence_source": confidence_source,
        "answerer": answer.answerer if answer is not None else None,
        "config_hash": answer.config_hash if answer is not None else None,
        "notes": list(answer.notes) if answer is not None else [],
        "citations": [{"n": c.n, "source": c.source, "chunk_id": c.chunk_id, "date": str(c.date) if c.date else None, "quote": c.quote} for c in citations],
        "retrieved": [{"source": p.source, "chunk_id": p.chunk_id, "score": round(p.score, 6)} for p in passages],
        "ranking": ranked_docs,
        "metrics": metrics,
        "timings": timings,
        "error": error,
    }


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


def _micro(rows: Sequence[dict[str, Any]], metric: str, weight_key: str) -> float | None:
    """Citation metrics pooled over every citation, not averaged per answer."""
    num = den = 0.0
    for row in rows:
        value = row["metrics"].get(metric)
        if value is None:
            continue
        n = len(row[weight_key])
        num += value * n
        den += n
    return num / den if den else None


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate metrics (flat names, used by the gate and by compare) and per-category figures."""
    answerable = [r for r in rows if r["answerable"]]
    followups = [r for r in rows if r["turn"] >= 1]
    abst = m.abstention_scores([r["abstained"] for r in rows], [r["answerable"] for r in rows])
    metrics: dict[str, Any] = {
        "accuracy": m.mean(float(r["metrics"]["pass"]) for r in rows),
        "hit@1": m.mean(r["metrics"]["hit@1"] for r in rows),
        "hit@5": m.mean(r["metrics"]["hit@5"] for r in rows),
        "mrr@10": m.mean(r["metrics"]["mrr@10"] for r in rows),
        "answer_alias_accuracy": m.mean(float(r["metrics"]["alias_match"]) for r in answerable),
        "answer_f1": m.mean(r["metrics"]["f1"] for r in answerable),
        "answer_em": m.mean(float(r["metrics"]["em"]) for r in answerable),
        "citation_validity": _micro(rows, "citation_validity", "citations"),
        "citation_precision": _micro(rows, "citation_precision", "citations"),
        "abstention_precision": abst["precision"],
        "abstention_recall": abst["recall"],
        "abstention_f1": abst["f1"],
        "wrong_abstention_rate": m.mean(float(r["abstained"]) for r in answerable),
        "short_answer_em": m.mean(float(r["metrics"]["short_em"]) for r in answerable),
        "short_answer_f1": m.mean(r["metrics"]["short_f1"] for r in answerable),
        "followup_accuracy": m.mean(float(r["metrics"]["pass"]) for r in followups),
        "error_rate": m.mean(float(r["error"] is not None) for r in rows),
    }
    categories: dict[str, dict[str, Any]] = {}
    for cat in sorted({r["category"] for r in rows}):
        sub = [r for r in rows if r["category"] == cat]
        categories[cat] = {
            "n": len(sub),
            "accuracy": m.mean(float(r["metrics"]["pass"]) for r in sub),
            "hit@5": m.mean(r["metrics"]["hit@5"] for r in sub),
        }
        metrics[f"accuracy_{cat}"] = categories[cat]["accuracy"]
    tradeoff = summarize_tradeoff(rows)
    metrics["tradeoff_abstention_at_fa10"] = tradeoff["at_max_false_abstention"]["abstained_unanswerable"] if tradeoff["at_max_false_abstention"] else None
    metrics["abstention_auc"] = tradeoff["auc"]
    reliability = run_reliability(rows)
    metrics["calibration_error"] = reliability["ece"] if reliability else None
    latency = m.latency_summary(r["timings"] for r in rows)
    for stage in ("total", "wall"):
        if stage in latency:
            metrics[f"latency_{stage}_p50_s"] = latency[stage]["p50"]
            metrics[f"latency_{stage}_p95_s"] = latency[stage]["p95"]
    return {"metrics": metrics, "by_category": categories, "latency": latency, "abstention_counts": {k: abst[k] for k in ("tp", "fp", "fn")},
            "short_answer_source": "Answer.short_answer, else Answer.text" if has_short_answer_field() else "Answer.text (Answer has no short_answer)",
            "abstention_tradeoff": tradeoff, "reliability": reliability}


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
    from assistant.evaluation.report import write_report

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
        from assistant import Assistant

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
        rows = [json.loads(line) for line in rows_path.read_text(encoding="utf-8").splitlines() if line.strip()] if rows_path.is_file() else []
    except (json.JSONDecodeError, OSError) as exc:
        raise EvalError(f"cannot read eval run {run_dir}: {exc}") from None
    return summary, rows
