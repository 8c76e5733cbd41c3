"""The three-way table on the full MTRAG pools (issue 30 item 5): last turn, our history, the benchmark's rewrite.

    python evals/bench_mtrag_full.py [--domains cloud,fiqa] [--part report] [--results evals/results/mtrag_full.json]

Indexes every passage of each domain's pool (`../shared/benchmarks/mtrag-<domain>/passages.jsonl`: 11,870
Cloud, 14,085 FiQA; about 15 minutes each on 2 cores), then asks the part's turns three ways, as the
`mtrag` suite does on its sub-pool, and adds BM25 alone over the same chunks with the same queries (the
issue's "overall R@5 >= 1.5x BM25's" compares against it). Resumable: the index run is incremental and
crash-safe, so a stopped run picks up where it stopped; each finished domain's figures are written to
the results file at once, and a domain already there is skipped unless `--again` is given.
Needs the full pools beside the checkout; a plain clone has only the vendored sub-pools.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.config import load_settings  # noqa: E402
from assistant.evaluation.metrics import document_ranking  # noqa: E402
from assistant.evaluation.mtrag import open_subpool, recall_at_k, run_mtrag  # noqa: E402
from assistant.evaluation.mtrag_data import DOMAINS, select_turns  # noqa: E402
from assistant.retrieval.bm25 import KeywordIndex  # noqa: E402

ALL = 10 ** 6  # a pool size above every domain's passage count: the whole pool


def bm25_recall(domain: str, part: str, pool: int) -> dict[str, float]:
    """R@5 of BM25 alone over the indexed chunks (documents in rank order), with each turn's own words
    and with the benchmark's rewrite: the baseline the issue's "1.5x BM25" target names."""
    engine, turns, *_ = open_subpool(load_settings(), domain=DOMAINS[domain], pool=pool, progress=False)
    view = engine.view()
    keyword = KeywordIndex(view.passage_terms)
    found: dict[str, list[float]] = {"last_turn": [], "rewrite": []}
    for turn in select_turns(turns, part, None):
        if not turn.answerable or not turn.gold:
            continue
        for mode, query in (("last_turn", turn.question), ("rewrite", turn.rewrite or turn.question)):
            ranked = document_ranking(view.chunks[cid].source for cid, _ in keyword.top(query, 50))
            value = recall_at_k(ranked, turn.gold)
            if value is not None:
                found[mode].append(value)
    return {f"bm25.{mode}.recall@5": round(sum(v) / len(v), 3) for mode, v in found.items() if v}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--domains", default="cloud,fiqa")
    parser.add_argument("--part", choices=("fit", "report"), default="report")
    parser.add_argument("--results", type=Path, default=ROOT / "evals" / "results" / "mtrag_full.json")
    parser.add_argument("--pool", type=int, default=ALL, help="passages (default: the whole pool; 1000 = the gated sub-pool, a smoke test)")
    parser.add_argument("--again", action="store_true", help="measure domains already in the results file again")
    args = parser.parse_args()
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    results["command"] = "python evals/bench_mtrag_full.py --part " + args.part
    for name in [d for d in args.domains.split(",") if d]:
        key = f"{name}-{args.part}" + ("" if args.pool == ALL else f"-pool{args.pool}")
        if key in results and not args.again:
            print(f"{key}: already measured (--again to redo)")
            continue
        if DOMAINS[name].data != DOMAINS[name].full_data:
            raise SystemExit(f"the full {name} pool is not beside this checkout (../shared/benchmarks/mtrag-{name}/)")
        started = time.perf_counter()
        out_dir, summary = run_mtrag(load_settings(), pool=args.pool, part=args.part, domain=DOMAINS[name])
        figures = {"label": summary["label"], "n_turns": summary["n_turns"], "table": summary["table"],
                   "index_s": summary["index_s"], **bm25_recall(name, args.part, args.pool),
                   "wall_s": round(time.perf_counter() - started, 1), "run": str(out_dir.relative_to(ROOT))}
        results[key] = figures
        args.results.write_text(json.dumps(results, indent=2) + "\n")  # each domain kept as soon as it is done
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
