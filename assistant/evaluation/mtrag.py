"""The `mtrag` suite: MTRAG Cloud (real multi-turn conversations over IBM Cloud docs) on a sub-pool.

Data: `../shared/benchmarks/mtrag-cloud/` (read in place, never copied into the repo; its README
names the licence). Indexing the whole pool (11,870 passages) takes ~27 min on 2 cores, so the suite
indexes a *sub-pool*: every passage any conversation names (gold and judged non-relevant) plus a
seeded sample of the others up to `pool`. Every figure is labelled "sub-pool" and with its part.

Each labelled turn is asked three ways: the last turn alone, with the benchmark's history (earlier
questions and reference answers, rewritten by the assistant), and the benchmark's own rewrite.
Conversations are split into fit and report parts by a seeded hash of their id (`part_of`).
evals/bench_mtrag_abstention.py uses the same loaders.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from assistant.config import BENCHMARKS_DIR, PROJECT_ROOT, Settings
from assistant.errors import IndexMismatchError
from assistant.evaluation.errors import EvalError
from assistant.evaluation.metrics import document_ranking, mean
from assistant.jsonl import read_json_lines
from assistant.types import Answer, Turn

FULL_DATA = BENCHMARKS_DIR / "mtrag-cloud"
# What a plain clone has: the conversations and the gated sub-pool, written by evals/vendor_mtrag.py.
VENDORED_DATA = PROJECT_ROOT / "evals" / "data" / "mtrag-cloud"
DATA = FULL_DATA if (FULL_DATA / "passages.jsonl").is_file() else VENDORED_DATA
WORK = PROJECT_ROOT / "evals" / "reports" / "mtrag-subpool"  # git-ignored, like every run folder
COLLECTION = "eval-mtrag-subpool"
SEED = 20261129
DEFAULT_POOL = 3000
GATED_POOL = 1000  # what CI indexes (about 2,700 chunks) and `--gate` has thresholds for
ANSWERABLE = frozenset({"ANSWERABLE", "PARTIAL"})
LABELS = ANSWERABLE | {"UNANSWERABLE", "UNDERSPECIFIED"}
Mode = Literal["last_turn", "with_history", "rewrite"]
MODES: tuple[Mode, ...] = ("last_turn", "with_history", "rewrite")
K = 5


def part_of(conversation_id: str, seed: int = SEED) -> str:
    """A stable, seeded half of the conversations: the same id always lands on the same side."""
    digest = hashlib.sha256(f"{seed}:{conversation_id}".encode()).digest()
    return "report" if digest[0] % 2 else "fit"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """A benchmark file, or an EvalError saying where the benchmark was expected."""
    try:
        return read_json_lines(path)
    except FileNotFoundError:
        raise EvalError(f"MTRAG data not found: {path} (expected the benchmark under {DATA})") from None
    except json.JSONDecodeError as exc:
        raise EvalError(f"{path}: not JSON lines ({exc})") from None


@dataclass(frozen=True)
class MtragTurn:
    """One labelled turn with the benchmark's history (earlier questions and reference answers)."""

    dataset: str                      # "mtrag" or "mtrag-un"
    conversation_id: str
    index: int                        # position in its conversation (0 = first turn)
    question: str
    label: str                        # ANSWERABLE / PARTIAL / UNANSWERABLE / UNDERSPECIFIED
    gold: tuple[str, ...]
    rewrite: str | None
    history: tuple[tuple[str, str], ...]

    @property
    def answerable(self) -> bool:
        return self.label in ANSWERABLE

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.conversation_id}/t{self.index}"


def labelled_turns(conversations: Iterable[dict[str, Any]], dataset: str, *, last_only: bool,
                   labels: Collection[str] = LABELS) -> list[MtragTurn]:
    """The labelled turns (CONVERSATIONAL ones skipped), each with the history before it."""
    found = []
    for conversation in conversations:
        turns = conversation["turns"]
        for i, turn in enumerate(turns):
            if (last_only and i != len(turns) - 1) or turn.get("answerability") not in labels:
                continue
            history = tuple((t["question"], t.get("reference_answer") or "") for t in turns[:i])
            found.append(MtragTurn(dataset, conversation["id"], i, turn["question"], turn["answerability"],
                                   tuple(turn.get("gold_passage_ids") or ()), turn.get("rewrite"), history))
    return found


def load_turns(data: Path = DATA, labels: Collection[str] = LABELS) -> tuple[list[dict[str, Any]], list[MtragTurn]]:
    """(all conversations of both files, their labelled turns: every turn of MTRAG, the last of MTRAG-UN)."""
    conversations = read_jsonl(data / "conversations.jsonl")
    underspecified = read_jsonl(data / "conversations_un.jsonl")
    turns = labelled_turns(conversations, "mtrag", last_only=False, labels=labels)
    turns += labelled_turns(underspecified, "mtrag-un", last_only=True, labels=labels)
    return conversations + underspecified, turns


def subpool_lines(size: int, conversations: Sequence[dict[str, Any]], data: Path = DATA, seed: int = SEED) -> str:
    """The sub-pool as JSON Lines: every passage the conversations name, then seeded others up to `size`.
    A folder without the full pool (the vendored sample) holds the gated sub-pool as written here."""
    vendored = data / f"passages-{size}.jsonl"
    if not (data / "passages.jsonl").is_file() and vendored.is_file():
        return vendored.read_text(encoding="utf-8")
    if not (data / "passages.jsonl").is_file():
        raise EvalError(f"{data} holds no {size}-passage sub-pool: pass --pool {GATED_POOL}, or put the MTRAG Cloud "
                        f"benchmark at {FULL_DATA}")
    named = {pid for c in conversations for t in c["turns"]
             for key in ("gold_passage_ids", "nonrelevant_passage_ids") for pid in (t.get(key) or [])}
    passages = read_jsonl(data / "passages.jsonl")
    others = [p for p in passages if p["id"] not in named]
    random.Random(seed).shuffle(others)
    chosen = [p for p in passages if p["id"] in named] + others[:max(0, size - len(named))]
    return "".join(json.dumps({"id": p["id"], "title": p.get("title") or "", "text": p["text"]}) + "\n" for p in chosen)


def write_subpool(size: int, conversations: Sequence[dict[str, Any]], data: Path = DATA, work: Path = WORK,
                  seed: int = SEED) -> tuple[Path, int, int]:
    """Write the sub-pool JSONL; returns (path, passages, of which named by the conversations)."""
    named = {pid for c in conversations for t in c["turns"]
             for key in ("gold_passage_ids", "nonrelevant_passage_ids") for pid in (t.get(key) or [])}
    body = subpool_lines(size, conversations, data, seed)
    chosen = [json.loads(line) for line in body.splitlines()]
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"passages-{size}.jsonl"
    if not path.is_file() or path.read_text(encoding="utf-8") != body:  # unchanged file: the index stays incremental
        path.write_text(body, encoding="utf-8")
    return path, len(chosen), len(named & {p["id"] for p in chosen})


def subpool_settings(settings: Settings, corpus: Path, pool: int) -> Settings:
    return settings.with_(corpus={"path": corpus}, store={"collection": f"{COLLECTION}-{pool}"})


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


def select_turns(turns: Sequence[MtragTurn], part: str, sample: int | None, seed: int = SEED) -> list[MtragTurn]:
    """The turns of one part. `sample` keeps every turn of the rare labels (unanswerable,
    underspecified) and a seeded sample of the answerable ones up to `sample` turns in all (every
    figure is per label, so its rate stays an estimate over that label; smaller samples nest)."""
    if sample is not None and sample < 1:
        raise EvalError(f"--sample must be at least 1, got {sample}")
    chosen = sorted((t for t in turns if part_of(t.conversation_id, seed) == part), key=lambda t: t.key)
    if sample is not None and sample < len(chosen):
        rare = [t for t in chosen if not t.answerable]
        answerable = [t for t in chosen if t.answerable]
        random.Random(seed).shuffle(answerable)
        chosen = sorted(rare + answerable[:max(0, sample - len(rare))], key=lambda t: t.key)
    return chosen


def ask_turns(engine: Any, turns: Sequence[MtragTurn], modes: Sequence[Mode] = MODES,
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


def run_mtrag(settings: Settings, *, pool: int = DEFAULT_POOL, part: str = "report", sample: int | None = None,
              out_dir: Path | None = None, progress: bool = True, data: Path = DATA, work: Path = WORK,
              embedder: Any = None, modes: Sequence[Mode] = MODES) -> tuple[Path, dict[str, Any]]:
    """Index the sub-pool (incrementally), ask the part's turns three ways, write results.jsonl,
    summary.json and report.md; returns (run folder, summary)."""
    from tqdm import tqdm

    from assistant import Assistant

    if part not in ("fit", "report"):
        raise EvalError(f"--part must be 'fit' or 'report', got {part!r}")
    conversations, turns = load_turns(data)
    chosen = select_turns(turns, part, sample)
    corpus, n_passages, n_named = write_subpool(pool, conversations, data, work)
    suite_settings = subpool_settings(settings, corpus, pool)
    engine = Assistant(suite_settings, embedder=embedder)
    started = time.perf_counter()
    try:
        engine.index(show_progress=progress)
    except IndexMismatchError:  # the suite's own derived collection, built with other settings: rebuild it
        engine.index(rebuild=True, show_progress=progress)
    index_s = time.perf_counter() - started
    bar = tqdm(total=len(chosen), desc=f"mtrag {part}", unit="turn", disable=not progress, dynamic_ncols=True)
    try:
        rows = ask_turns(engine, chosen, modes, progress=bar.update)
    finally:
        bar.close()
    label = f"sub-pool of {n_passages} passages ({n_named} named by the conversations, the rest seeded), {part} part"
    summary = {
        "suite": "mtrag", "label": label, "part": part, "pool": pool, "sample": sample, "seed": SEED,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "n_turns": len(chosen), "modes": list(modes), "clarify": suite_settings.answer.clarify, "scorer": suite_settings.answer.scorer,
        "settings_hash": suite_settings.config_hash(), "index_s": round(index_s, 1),
        "wall_s": round(time.perf_counter() - started, 1), "table": three_way_table(rows),
    }
    summary["metrics"] = gate_metrics(summary["table"])
    out_dir = out_dir or work.parent / f"mtrag-{part}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}"
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
    report = (f"# MTRAG Cloud — {summary['label']}\n\nFigures are on a **sub-pool** and the **{summary['part']} part** of "
              f"the conversations (seed {summary['seed']}): not comparable with the full pool or the paper. "
              f"{summary['n_turns']} turns, each asked three ways; clarify {'on' if summary['clarify'] else 'off'}.\n\n"
              f"{table_markdown(summary['table'])}\n")
    (out_dir / "report.md").write_text(report, encoding="utf-8")
