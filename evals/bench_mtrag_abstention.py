"""Abstention on MTRAG Cloud (IBM Cloud documentation, real multi-turn conversations), on a
sub-pool of its passages. Prints what share of unanswerable turns the assistant abstains on and
what share of answerable turns it wrongly abstains on, with the confidence trade-off.

    python evals/bench_mtrag_abstention.py [--pool 3000] [--part report]

Data: `../shared/benchmarks/mtrag-cloud/` (read in place, never copied into the repo; see its README
for the licence). Indexing its whole pool (11,870 passages) takes ~27 min on 2 cores, so this bench
indexes a *sub-pool*: every passage any conversation names (gold and judged non-relevant), plus a
seeded random sample of the other passages up to `--pool`. Figures are therefore labelled
"sub-pool": absolute numbers are not comparable with the full pool's or the paper's.

Turns: the labelled turns of `conversations.jsonl` (ANSWERABLE and PARTIAL count as answerable,
UNANSWERABLE as unanswerable; CONVERSATIONAL turns are skipped) and the last turn of each
`conversations_un.jsonl` conversation (ANSWERABLE/PARTIAL vs UNANSWERABLE; UNDERSPECIFIED is
skipped here: it wants a clarifying question, issue 11). Each is asked with the benchmark's history
(earlier questions and reference answers). Conversations are split into fit and report parts by a
seeded hash of their id; nothing here is fitted, and the figures printed are of `--part`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from pathlib import Path

from assistant import Assistant, ChatSession, load_settings
from assistant.config import PROJECT_ROOT
from assistant.evaluation.tradeoff import best_within, separation_auc, tradeoff_curve

DATA = PROJECT_ROOT.parent / "shared" / "benchmarks" / "mtrag-cloud"
WORK = PROJECT_ROOT / "evals" / "reports" / "mtrag-subpool"  # git-ignored, like every run folder
COLLECTION = "eval-mtrag-subpool"
SEED = 20261129
ANSWERABLE = {"ANSWERABLE", "PARTIAL"}


def part_of(conversation_id: str) -> str:
    """A stable, seeded half of the conversations: the same id always lands on the same side."""
    digest = hashlib.sha256(f"{SEED}:{conversation_id}".encode()).digest()
    return "report" if digest[0] % 2 else "fit"


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def labelled_turns(conversations: list[dict], last_only: bool) -> list[tuple[str, list[tuple[str, str]], str, bool]]:
    """(conversation id, history, question, answerable) of each labelled turn."""
    found = []
    for conversation in conversations:
        turns = conversation["turns"]
        for i, turn in enumerate(turns):
            if last_only and i != len(turns) - 1:
                continue
            label = turn.get("answerability")
            if label not in ANSWERABLE | {"UNANSWERABLE"}:
                continue
            history = [(t["question"], t.get("reference_answer") or "") for t in turns[:i]]
            found.append((conversation["id"], history, turn["question"], label in ANSWERABLE))
    return found


def write_subpool(size: int, conversations: list[dict]) -> Path:
    named = {pid for c in conversations for t in c["turns"]
             for key in ("gold_passage_ids", "nonrelevant_passage_ids") for pid in (t.get(key) or [])}
    passages = read_jsonl(DATA / "passages.jsonl")
    others = [p for p in passages if p["id"] not in named]
    random.Random(SEED).shuffle(others)
    chosen = [p for p in passages if p["id"] in named] + others[:max(0, size - len(named))]
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"passages-{size}.jsonl"
    path.write_text("".join(json.dumps({"id": p["id"], "title": p.get("title") or "", "text": p["text"]}) + "\n" for p in chosen),
                    encoding="utf-8")
    print(f"sub-pool: {len(chosen)} passages ({len(named)} named by the conversations, the rest a seeded sample)", flush=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=3000, help="passages in the sub-pool (at least the named ones)")
    parser.add_argument("--part", choices=("fit", "report"), default="report")
    args = parser.parse_args()
    conversations = read_jsonl(DATA / "conversations.jsonl")
    underspecified = read_jsonl(DATA / "conversations_un.jsonl")
    corpus = write_subpool(args.pool, conversations + underspecified)
    settings = load_settings().with_(corpus={"path": corpus}, store={"collection": f"{COLLECTION}-{args.pool}"})
    engine = Assistant(settings)
    started = time.perf_counter()
    report = engine.index()
    print(f"indexed: {report.chunks} chunks in {time.perf_counter() - started:.0f} s", flush=True)
    turns = [t for t in labelled_turns(conversations, False) + labelled_turns(underspecified, True) if part_of(t[0]) == args.part]
    answerable_conf, unanswerable_conf, abstained = [], [], {True: 0, False: 0}
    for _, history, question, answerable in turns:
        answer = ChatSession(engine=engine).ask(question, history=history)
        abstained[answerable] += answer.abstained
        (answerable_conf if answerable else unanswerable_conf).append(answer.confidence or 0.0)
    n_ans, n_un = len(answerable_conf), len(unanswerable_conf)
    best = best_within(tradeoff_curve(answerable_conf, unanswerable_conf), 0.10)
    auc = separation_auc(answerable_conf, unanswerable_conf)
    figures = {
        "command": f"python evals/bench_mtrag_abstention.py --pool {args.pool} --part {args.part}",
        "data": "MTRAG Cloud, sub-pool (see the script's docstring)", "part": f"{args.part} half of the conversations (seed {SEED})",
        "answerable_turns": n_ans, "unanswerable_turns": n_un,
        "unanswerable_abstained": round(abstained[False] / n_un, 3) if n_un else None,
        "false_abstention": round(abstained[True] / n_ans, 3) if n_ans else None,
        "tradeoff_at_fa10": None if best is None else round(best.abstained_unanswerable, 3),
        "auc": None if auc is None else round(auc, 3),
        "scorer": settings.answer.scorer,
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
