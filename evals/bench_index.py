"""Benchmark the foundation: index build time (bundled corpus and SQuAD passages), re-index time
when nothing changed, ask() latency per stage, and peak memory. Prints figures; asserts nothing.

    python evals/bench_index.py [--squad PATH] [--questions N] [--out evals/results/index_bench.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from assistant import Assistant, load_settings
from assistant.config import PROJECT_ROOT
from evals.common import RESULTS, benchmark, percentile

DEFAULT_SQUAD = benchmark("squad-v1.1-dev") / "passages.jsonl"
QUESTIONS = [
    "Where will the NSATU mission be based?", "When is JATEC expected to become operational?",
    "How many personnel will the NATO effort involve?", "What does NATO stand for?",
    "Who led the Ukrainian delegation at the JATEC meeting?", "What is the minimum amount of the pledge?",
    "Which French aircraft were offered to Ukraine?", "Who created the Ukraine Defense Contact Group?",
]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_index(settings, corpus: Path) -> tuple[float, float, Assistant, int]:
    engine = Assistant(settings)
    engine.embedder  # load the model outside the timed region
    started = time.perf_counter()
    report = engine.index(corpus)
    build = time.perf_counter() - started
    started = time.perf_counter()
    again = engine.index(corpus)
    reindex = time.perf_counter() - started
    assert again.chunks_embedded == 0
    return build, reindex, engine, report.chunks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=DEFAULT_SQUAD)
    parser.add_argument("--repeat", type=int, default=5, help="asks per question for latency")
    parser.add_argument("--out", type=Path, default=RESULTS / "index_bench.json")
    args = parser.parse_args()
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = load_settings(store={"path": Path(tmp)})
        load_started = time.perf_counter()
        Assistant(base).embedder
        results["model_load_s"] = round(time.perf_counter() - load_started, 2)

        build, reindex, engine, chunks = time_index(base.with_(store={"collection": "bench-corpus"}), PROJECT_ROOT / "corpus")
        results["corpus"] = {"chunks": chunks, "build_s": round(build, 2), "reindex_unchanged_s": round(reindex, 3)}
        stages: dict[str, list[float]] = {}
        engine.ask(QUESTIONS[0])  # warm caches
        for _ in range(args.repeat):
            for question in QUESTIONS:
                for stage, seconds in engine.ask(question).timings.items():
                    stages.setdefault(stage, []).append(seconds * 1000)
        results["ask_p50_ms"] = {stage: round(percentile(v, 50), 2) for stage, v in stages.items()}

        if args.squad.exists():
            build, reindex, _, chunks = time_index(base.with_(store={"collection": "bench-squad"}), args.squad)
            results["squad"] = {"chunks": chunks, "build_s": round(build, 1), "reindex_unchanged_s": round(reindex, 2)}
        results["peak_rss_mb"] = round(peak_rss_mb(), 0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
