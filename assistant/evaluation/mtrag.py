"""The `mtrag` suite: MTRAG's real multi-turn conversations, one domain at a time, on a sub-pool.

Domains (`--domain`): `cloud` (IBM Cloud technical documentation, the default) and `fiqa`
(personal-finance forum answers). Data: `../shared/benchmarks/mtrag-<domain>/` when it is beside the
checkout, else the conversations and gated sub-pool vendored in `evals/data/mtrag-<domain>/` (their
READMEs name the licence). Indexing a whole pool (11,870 / 14,085 passages) takes ~30 min on 2 cores,
so the suite indexes a *sub-pool*: every passage any conversation names (gold and judged
non-relevant) plus a seeded sample of the others up to `pool`. Every figure is labelled "sub-pool",
with its domain and part.

Each labelled turn is asked three ways: the last turn alone, with the benchmark's history (earlier
questions and reference answers, rewritten by the assistant), and the benchmark's own rewrite.
Conversations are split into fit and report parts by a seeded hash of their id (`part_of`).
evals/bench_mtrag_abstention.py uses the same loaders.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any, Literal

from assistant.config import Settings
from assistant.errors import IndexMismatchError
from assistant.evaluation.errors import EvalError
from assistant.evaluation.harness import Engine
from assistant.evaluation.metrics import document_ranking, mean
from assistant.evaluation.mtrag_data import (
    ANSWERABLE,
    DEFAULT_DOMAIN,
    DEFAULT_POOL,
    SEED,
    Domain,
    MtragTurn,
    load_turns,
    select_turns,
    subpool_settings,
    write_subpool,
)
from assistant.facade import Assistant
from assistant.retrieval.embedding import Embedder
from assistant.types import Answer, Turn

Mode = Literal["last_turn", "with_history", "rewrite"]
MODES: tuple[Mode, ...] = ("last_turn", "with_history", "rewrite")
K = 5


# -- pure metrics -------------------------------------------------------------------------------
def recall_at_k(ranked: Sequence[str], gold: Collection[str], k: int = K) -> float | None:
    """Share of the gold passages found in the top k (None without gold)."""
    if not gold:
        return None
    return len(set(ranked[:k]) & set(gold)) / len(set(gold))


def ndcg_at_k(ranked: Sequence[str], gold: Collection[str], k: int = K) -> float | None:
    """Binary-relevance nDCG@k (None without gold)."""
    if not gold:
        return None
    gains = sum(1 / math.log2(i + 2) for i, pid in enumerate(ranked[:k]) if pid in gold)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(set(gold)))))
    return gains / ideal


def query_for(turn: MtragTurn, mode: Mode) -> tuple[str, tuple[Turn, ...]]:
    """(question, history) sent for a mode; the rewrite falls back to the question where the benchmark has none."""
    if mode == "with_history":
        return turn.question, tuple(Turn(question=q, answer=a) for q, a in turn.history)
    if mode == "rewrite":
        return (turn.rewrite or turn.question), ()
    return turn.question, ()


def score_row(turn: MtragTurn, mode: Mode, answer: Answer) -> dict[str, Any]:
    """One results row: the answer's retrieval (passage ids are the sources), its kind and support."""
    ranked = document_ranking(p.source for p in answer.passages)
    cited = [c.source for c in answer.citations]
    supported = answer.kind == "answer" and bool(set(cited) & set(turn.gold))
    return {
        "key": turn.key, "dataset": turn.dataset, "turn": turn.index, "label": turn.label, "mode": mode,
        "question": turn.question, "sent": query_for(turn, mode)[0], "standalone_question": answer.standalone_question,
        "gold": list(turn.gold), "ranking": ranked, "cited": cited,
        "recall@5": recall_at_k(ranked, turn.gold), "ndcg@5": ndcg_at_k(ranked, turn.gold),
        "kind": answer.kind, "abstained": answer.abstained, "clarified": answer.kind == "clarification",
        "supported": supported, "confidence": answer.confidence,
        "titles": [p.title or p.source for p in answer.passages], "history_turns": len(turn.history),
    }


def _share(rows: Sequence[dict[str, Any]], key: str) -> float | None:
    return mean(float(bool(r[key])) for r in rows) if rows else None


def three_way_table(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per mode: retrieval of MTRAG's answerable turns (first vs later), answer support, abstention,
    false abstention, and MTRAG-UN's clarification share (underspecified vs answerable turns)."""
    table: dict[str, dict[str, Any]] = {}
    for mode in MODES:
        sub = [r for r in rows if r["mode"] == mode]
        retrieval = [r for r in sub if r["dataset"] == "mtrag" and r["label"] in ANSWERABLE and r["gold"]]
        first, later = [r for r in retrieval if r["turn"] == 0], [r for r in retrieval if r["turn"] > 0]
        answerable = [r for r in sub if r["label"] in ANSWERABLE]
        unanswerable = [r for r in sub if r["label"] == "UNANSWERABLE"]
        underspecified = [r for r in sub if r["label"] == "UNDERSPECIFIED"]
        table[mode] = {
            "recall@5_first": mean(r["recall@5"] for r in first), "recall@5_later": mean(r["recall@5"] for r in later),
            "ndcg@5_first": mean(r["ndcg@5"] for r in first), "ndcg@5_later": mean(r["ndcg@5"] for r in later),
            "answer_support": _share([r for r in answerable if r["dataset"] == "mtrag"], "supported"),
            "abstention_unanswerable": _share(unanswerable, "abstained"),
            "false_abstention": _share(answerable, "abstained"),
            "clarified_underspecified": _share(underspecified, "clarified"),
            "clarified_answerable": _share([r for r in answerable if r["dataset"] == "mtrag-un"], "clarified"),
            "n_first": len(first), "n_later": len(later), "n_answerable": len(answerable),
            "n_unanswerable": len(unanswerable), "n_underspecified": len(underspecified),
        }
    return table


def _fmt(value: Any) -> str:
    return "—" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))


def table_markdown(table: dict[str, dict[str, Any]]) -> str:
    names = list(next(iter(table.values())).keys())
    lines = ["| metric | " + " | ".join(table) + " |", "|---|" + "---|" * len(table)]
    lines += [f"| {name} | " + " | ".join(_fmt(table[mode][name]) for mode in table) + " |" for name in names]
    return "\n".join(lines)


def ask_turns(engine: Engine, turns: Sequence[MtragTurn], modes: Sequence[Mode] = MODES,
              progress: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
    """Ask each turn every way (one engine, no session state) and score it."""
    rows = []
    for turn in turns:
        for mode in modes:
            question, history = query_for(turn, mode)
            rows.append(score_row(turn, mode, engine.ask(question, history=history)))
        if progress is not None:
            progress(1)
    return rows


def open_subpool(settings: Settings, *, domain: Domain = DEFAULT_DOMAIN, pool: int = DEFAULT_POOL,
                 progress: bool = True, embedder: Embedder | None = None) -> tuple[Assistant, list[MtragTurn], int, int, float]:
    """Index the domain's sub-pool (incrementally) and open its engine: (engine, labelled turns,
    passages, of which named by the conversations, index seconds)."""
    conversations, turns = load_turns(domain.data)
    corpus, n_passages, n_named = write_subpool(pool, conversations, domain.data, domain.work)
    engine = Assistant(subpool_settings(settings, corpus, pool, domain), embedder=embedder)
    started = time.perf_counter()
    try:
        engine.index(show_progress=progress)
    except IndexMismatchError:  # the suite's own derived collection, built with other settings: rebuild it
        engine.index(rebuild=True, show_progress=progress)
    return engine, turns, n_passages, n_named, time.perf_counter() - started


def run_mtrag(settings: Settings, *, pool: int = DEFAULT_POOL, part: str = "report", sample: int | None = None,
              out_dir: Path | None = None, progress: bool = True, domain: Domain = DEFAULT_DOMAIN,
              embedder: Embedder | None = None, modes: Sequence[Mode] = MODES) -> tuple[Path, dict[str, Any]]:
    """Index the domain's sub-pool (incrementally), ask the part's turns three ways, write results.jsonl,
    summary.json and report.md; returns (run folder, summary)."""
    from tqdm import tqdm

    if part not in ("fit", "report"):
        raise EvalError(f"--part must be 'fit' or 'report', got {part!r}")
    started = time.perf_counter()
    engine, turns, n_passages, n_named, index_s = open_subpool(settings, domain=domain, pool=pool, progress=progress,
                                                             embedder=embedder)
    suite_settings = engine.settings
    chosen = select_turns(turns, part, sample)
    bar = tqdm(total=len(chosen), desc=f"mtrag {domain.name} {part}", unit="turn", disable=not progress, dynamic_ncols=True)
    try:
        rows = ask_turns(engine, chosen, modes, progress=bar.update)
    finally:
        bar.close()
    label = (f"{domain.title}, sub-pool of {n_passages} passages ({n_named} named by the conversations, the rest "
             f"seeded), {part} part")
    summary = {
        "suite": domain.suite, "domain": domain.name, "label": label, "part": part, "pool": pool, "sample": sample, "seed": SEED,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "n_turns": len(chosen), "modes": list(modes), "clarify": suite_settings.answer.clarify, "scorer": suite_settings.answer.scorer,
        "settings_hash": suite_settings.config_hash(), "index_s": round(index_s, 1),
        "wall_s": round(time.perf_counter() - started, 1), "table": three_way_table(rows),
    }
    summary["metrics"] = gate_metrics(summary["table"])
    out_dir = out_dir or domain.work.parent / f"mtrag-{domain.name}-{part}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
    write_mtrag_run(out_dir, rows, summary)
    return out_dir, summary


def gate_metrics(table: dict[str, dict[str, float]]) -> dict[str, float]:
    """The table's rates as flat `<mode>.<metric>` names the quality gate reads (counts left out),
    plus what history adds over the last turn alone: the issue's targets are stated that way."""
    metrics = {f"{mode}.{name}": float(value) for mode, row in table.items() for name, value in row.items()
               if not name.startswith("n_") and value is not None}  # None: no turn of that kind was asked
    with_history, alone = metrics.get("with_history.false_abstention"), metrics.get("last_turn.false_abstention")
    if with_history is not None and alone is not None:
        metrics["history_false_abstention_increase"] = with_history - alone
    return metrics


def write_mtrag_run(out_dir: Path, rows: Sequence[dict[str, Any]], summary: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    report = (f"# {summary['label']}\n\nFigures are on a **sub-pool** and the **{summary['part']} part** of "
              f"the conversations (seed {summary['seed']}): not comparable with the full pool or the paper. "
              f"{summary['n_turns']} turns, each asked three ways; clarify {'on' if summary['clarify'] else 'off'}.\n\n"
              f"{table_markdown(summary['table'])}\n")
    (out_dir / "report.md").write_text(report, encoding="utf-8")
