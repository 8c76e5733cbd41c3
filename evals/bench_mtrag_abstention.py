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
seeded hash of their id (the loaders are shared with the `mtrag` eval suite,
assistant/evaluation/mtrag.py); nothing here is fitted, and the figures printed are of `--part`.
"""

from __future__ import annotations

import argparse
import json
import time

from assistant import Assistant, ChatSession, load_settings
from assistant.evaluation.mtrag_data import (
    ANSWERABLE,
    SEED,
    load_turns,
    part_of,
    subpool_settings,
    write_subpool,
)
from assistant.evaluation.tradeoff import best_within, separation_auc, tradeoff_curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=3000, help="passages in the sub-pool (at least the named ones)")
    parser.add_argument("--part", choices=("fit", "report"), default="report")
    args = parser.parse_args()
    conversations, labelled = load_turns(labels=ANSWERABLE | {"UNANSWERABLE"})
    corpus, n_passages, n_named = write_subpool(args.pool, conversations)
    print(f"sub-pool: {n_passages} passages ({n_named} named by the conversations, the rest a seeded sample)", flush=True)
    settings = subpool_settings(load_settings(), corpus, args.pool)
    engine = Assistant(settings)
    started = time.perf_counter()
    report = engine.index()
    print(f"indexed: {report.chunks} chunks in {time.perf_counter() - started:.0f} s", flush=True)
    turns = [(t.conversation_id, [(q, a) for q, a in t.history], t.question, t.answerable)
             for t in labelled if part_of(t.conversation_id) == args.part]
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
