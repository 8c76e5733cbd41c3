"""Scale benchmark: how indexing, serving and retrieval quality behave at about 10k, 30k and 100k chunks.

Each size is a real-text corpus (one JSONL file of {id, title, text} records) indexed through the
real `Assistant` / `build_index` path into its own embedded Chroma store under --workdir:

- the 2,067 SQuAD v1.1 dev passages, always included in full (so the quality questions stay answerable),
- then the MTRAG IBM Cloud documentation passages (11,870 passages, about 31k chunks),
- then the docstrings of the Python standard library and of the installed packages on this machine
  (one record per module; its functions' and classes' docstrings under their names), sorted by path.

A size takes records in that order until it reaches its chunk count (a size below the SQuAD
chunk count takes a prefix of the SQuAD passages). The baseline row `squad-only` indexes the SQuAD
passages alone, so the R@5 column shows how retrieval degrades as the haystack grows.

Per size (build, updates and serving each in a fresh subprocess, so peak RSS is per phase):
build throughput (chunks/s, sentences/s) next to the embedder's raw throughput on the same sentence
texts, build and serving peak RSS, on-disk size of the store folder, cold start (process start to
the first `Assistant.ask` answer), a no-op re-index, a one-document update (with where its time
goes), retrieval and ask() p50/p95, and R@5 of a seeded sample of SQuAD report-split questions.

`--embedder stand-in` (the default) replaces MiniLM with STAND-IN HASHED VECTORS: signed feature
hashing of word tokens into 384 dimensions, L2-normalised. It is deterministic and roughly lexical,
NOT a language model: it exists because embedding 100k chunks with MiniLM on 2 CPU cores takes
hours. Throughput, memory, disk and update figures are about the pipeline around the embedder;
R@5 with it measures the lexical/hybrid path (BM25 + hashed bag of words), not MiniLM.

    python evals/bench_scale.py --sizes 10000,30000 --workdir /tmp/bench-scale
    python evals/bench_scale.py --sizes 3000 --embedder real --out /tmp/scale-real.json
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import hashlib
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from bench_retrieval import rss_mib, watch_memory

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import assistant  # noqa: F401  (sets the offline environment before the ML stack loads)
from assistant.config import BENCHMARKS_DIR, PROJECT_ROOT, Settings, load_settings
from assistant.index.run import IndexReport
from assistant.jsonl import read_json_lines

# The full SQuAD pool beside the checkout; a plain clone (and its test) reads the sample vendored under evals/data/.
SQUAD_DIR = next((folder for folder in (BENCHMARKS_DIR / "squad-v1.1-dev", PROJECT_ROOT / "evals" / "data" / "squad-v1.1-dev")
                  if (folder / "passages.jsonl").is_file()), BENCHMARKS_DIR / "squad-v1.1-dev")
MTRAG_PASSAGES = BENCHMARKS_DIR / "mtrag-cloud" / "passages.jsonl"
DEFAULT_OUT = REPO / "evals" / "results" / "scale.json"
STAND_IN = "stand-in"
REAL = "real"
STAND_IN_MODEL = "stand-in-hash-384"   # the fingerprint's model name, so a stand-in index never passes for MiniLM
QUESTION_SEED = 1234
UPDATE_MARK = " This paragraph was revised for the one-document update benchmark."
RAW_SAMPLE_REAL = 1500     # sentences the real model embeds for its raw throughput (the whole set takes hours)
MIN_DOCSTRING_CHARS = 40
MIN_MODULE_CHARS = 200


# -- the stand-in embedder ------------------------------------------------------------------------
class StandInEmbedder:
    """STAND-IN, NOT A LANGUAGE MODEL: signed feature hashing of lower-cased word tokens into 384
    dimensions, L2-normalised. Deterministic and roughly lexical; used only so the pipeline can be
    measured at 100k chunks on a CPU (MiniLM would take hours). Same interface as `Embedder`."""

    name = STAND_IN_MODEL
    dimension = 384
    _token = re.compile(r"\w+")

    def __init__(self) -> None:
        self._slots: dict[str, int] = {}   # token -> signed slot (sign * (column + 1)), hashed once

    def _slot(self, token: str) -> int:
        slot = self._slots.get(token)
        if slot is None:
            digest = int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")
            slot = (digest % self.dimension + 1) * (1 if (digest >> 32) & 1 else -1)
            self._slots[token] = slot
        return slot

    def embed_texts(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        rows: list[int] = []
        slots: list[int] = []
        for row, text in enumerate(texts):
            for token in self._token.findall(text.lower()):
                rows.append(row)
                slots.append(self._slot(token))
        signed = np.asarray(slots, dtype=np.int64)
        flat = np.asarray(rows, dtype=np.int64) * self.dimension + np.abs(signed) - 1
        counts = np.bincount(flat, weights=np.sign(signed).astype(np.float64), minlength=len(texts) * self.dimension)
        vectors = counts.reshape(len(texts), self.dimension).astype(np.float32)
        norms = np.linalg.norm(vectors, axis=1)
        empty = norms == 0
        vectors[empty, 0] = 1.0    # a text without word tokens still gets a unit vector
        norms[empty] = 1.0
        return vectors / norms[:, None]

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_texts([text])[0]


def make_bench_embedder(kind: str, settings: Settings):
    if kind == STAND_IN:
        return StandInEmbedder()
    from assistant.retrieval.embedding import make_embedder

    return make_embedder(settings.embedding)


# -- real text sources ----------------------------------------------------------------------------
def squad_records() -> Iterator[dict]:
    """The SQuAD passages, report-split articles first, so that a size below the SQuAD chunk count
    still holds passages the quality questions ask about."""
    from assistant.evaluation.splits import article_of, squad_article_split

    report = set(squad_article_split().report)
    records = read_json_lines(SQUAD_DIR / "passages.jsonl")
    for record in sorted(records, key=lambda r: article_of(r["id"]) not in report):
        yield {"id": record["id"], "title": record["title"], "text": record["text"], "part": "squad"}


def mtrag_records() -> Iterator[dict]:
    for record in read_json_lines(MTRAG_PASSAGES):
        yield {"id": record["id"], "title": record.get("title") or "", "text": record["text"], "part": "mtrag"}


def module_docstrings(path: Path) -> str:
    """The module's, classes' and functions' docstrings as `name` + text blocks ('' when unreadable)."""
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError, OSError):
        return ""
    blocks: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node)
            if doc and len(doc) >= MIN_DOCSTRING_CHARS:
                blocks.append(doc if isinstance(node, ast.Module) else f"{node.name}\n{doc}")
    return "\n\n".join(blocks)


def docstring_records() -> Iterator[dict]:
    """Docstrings of the standard library, then of the installed packages, one record per module."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    purelib = Path(sysconfig.get_paths()["purelib"])
    for root, part in ((stdlib, "stdlib-docstrings"), (purelib, "package-docstrings")):
        for path in sorted(root.rglob("*.py")):
            relative = path.relative_to(root)
            if part == "stdlib-docstrings" and relative.parts[0] == "site-packages":
                continue
            text = module_docstrings(path)
            if len(text) >= MIN_MODULE_CHARS:
                module = ".".join(relative.with_suffix("").parts)
                yield {"id": f"{part}:{relative.as_posix()}", "title": module, "text": text, "part": part}


def all_records() -> Iterator[dict]:
    yield from squad_records()
    yield from mtrag_records()
    yield from docstring_records()


def chunk_count(record: dict, settings: Settings) -> int:
    """Chunks the indexer will make of this record (the same cleaning and splitter)."""
    from assistant.ingest.chunking import chunk_documents
    from assistant.ingest.loaders import make_document

    title = (record["title"] or "").replace("_", " ") or None
    return len(chunk_documents([make_document(record["id"], record["text"], title=title)], settings.chunking))


def build_pool(workdir: Path, settings: Settings, chunks_needed: int, *, all_squad: bool) -> list[dict]:
    """Records in corpus order with their chunk counts, cached in the workdir and extended on demand
    (to `chunks_needed`, and through every SQuAD passage when `all_squad`)."""
    pool_path = workdir / "pool.jsonl"
    pool = read_json_lines(pool_path) if pool_path.exists() else []
    have = sum(r["chunks"] for r in pool)

    def enough() -> bool:
        return have >= chunks_needed and not (all_squad and pool and pool[-1]["part"] == "squad")

    if enough():
        return pool
    seen = {r["id"] for r in pool}
    records = all_records()
    with pool_path.open("a", encoding="utf-8") as out:
        for record in records:
            if record["id"] in seen:
                continue
            record["chunks"] = chunk_count(record, settings)
            if record["chunks"] == 0:
                continue
            have += record["chunks"]
            pool.append(record)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            if enough():
                return pool
    print(f"note: all real text found gives {have} chunks, fewer than {chunks_needed}", file=sys.stderr)
    return pool


def take(pool: Sequence[dict], target: int | None) -> list[dict]:
    """A prefix of the pool: all SQuAD passages, then more until `target` chunks (None: SQuAD alone)."""
    squad = [r for r in pool if r["part"] == "squad"]
    if target is None:
        return squad
    out: list[dict] = []
    total = 0
    for record in pool:
        if total >= target:
            break
        out.append(record)
        total += record["chunks"]
    return out


def composition(records: Sequence[dict]) -> dict[str, dict[str, int]]:
    parts: dict[str, dict[str, int]] = {}
    for record in records:
        entry = parts.setdefault(record["part"], {"records": 0, "chunks": 0})
        entry["records"] += 1
        entry["chunks"] += record["chunks"]
    return parts


def write_corpus(path: Path, records: Sequence[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps({"id": record["id"], "title": record["title"], "text": record["text"]}, ensure_ascii=False) + "\n")


def update_target(records: Sequence[dict]) -> str:
    """The record the one-document update edits: the middle distractor, else the middle SQuAD passage."""
    others = [r for r in records if r["part"] != "squad"] or list(records)
    return others[len(others) // 2]["id"]


def edit_one_record(corpus: Path, record_id: str) -> None:
    """Rewrite the corpus with one record's text changed (a new edition of one document)."""
    lines = corpus.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        record = json.loads(line)
        if record["id"] == record_id:
            record["text"] += UPDATE_MARK
            lines[i] = json.dumps(record, ensure_ascii=False)
            break
    else:
        raise KeyError(f"record {record_id!r} is not in {corpus}")
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")


# -- questions ------------------------------------------------------------------------------------
def squad_questions(passage_ids: set[str], sample: int) -> list[dict]:
    """A seeded sample of SQuAD v1.1 questions of the report-split articles whose passage is indexed."""
    from assistant.evaluation.splits import article_of, squad_article_split

    report = set(squad_article_split().report)
    questions = [q for q in read_json_lines(SQUAD_DIR / "questions.dev.jsonl")
                 if q["gold_passage_ids"] and all(p in passage_ids for p in q["gold_passage_ids"])
                 and article_of(q["gold_passage_ids"][0]) in report]
    questions.sort(key=lambda q: q["id"])
    picked = random.Random(QUESTION_SEED).sample(questions, min(sample, len(questions)))
    return [{"question": q["question"], "gold": q["gold_passage_ids"]} for q in picked]


# -- measurement helpers --------------------------------------------------------------------------
def rss_parts_mib() -> dict[str, float]:
    """Anonymous vs file-backed resident memory: memory-mapped index files count as file-backed
    (page cache the kernel can drop), the heap as anonymous."""
    parts = {}
    with open("/proc/self/status") as status:
        for line in status:
            name = line.split(":")[0]
            if name in ("RssAnon", "RssFile"):
                parts[f"{name.lower()}_mib"] = round(int(line.split()[1]) / 1024)
    return parts


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@contextmanager
def peak_rss() -> Iterator[dict[str, float]]:
    """Peak resident memory while the block runs, in MiB (bench_retrieval's sampler)."""
    result: dict[str, float] = {}
    with watch_memory() as peak:
        yield result
    result["peak_mib"] = peak.peak_mib


def folder_mib(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def percentile_ms(values: Sequence[float], q: float) -> float:
    return round(1000 * float(np.percentile(values, q)), 1) if values else 0.0


class StageTimer:
    """Inclusive wall time per named function while installed (nested stages overlap)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.labels: list[str] = []
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, attribute: str, label: str, *, static: bool = False) -> None:
        original = getattr(owner, attribute)
        self.labels.append(label)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started
                self.calls[label] = self.calls.get(label, 0) + 1

        raw = owner.__dict__.get(attribute) if isinstance(owner, type) else None
        setattr(owner, attribute, staticmethod(timed) if static else timed)
        self._undo.append(lambda: setattr(owner, attribute, raw if raw is not None else original))

    def restore(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()

    def table(self) -> list[dict[str, Any]]:
        """Stages in the order they were installed (roughly the order of a run), the ones that ran."""
        return [{"stage": label, "seconds": round(self.seconds[label], 3), "calls": self.calls[label]}
                for label in self.labels if label in self.seconds]


def install_update_timers() -> StageTimer:
    """Time the parts of an index run's steps that its report does not break down: public methods
    of the index's data formats and store, wrapped for one run and restored after. The steps
    themselves come from the run's own report (`IndexReport.stages`, see `update_breakdown`)."""
    from assistant import atomic
    from assistant.index import snapshot_writer
    from assistant.index.passage_terms import PassageTerms
    from assistant.index.sentence_index import SentenceIndex
    from assistant.index.sentence_vectors import SentenceVectors
    from assistant.index.store import StoreCollection
    from assistant.index.terms import BM25Terms
    from assistant.index.vector_segments import SegmentedVectors

    timer = StageTimer()
    timer.wrap(StoreCollection, "ids", "  Chroma: list every id (StoreCollection.ids)")
    timer.wrap(StoreCollection, "existing", "  Chroma: look up this run's ids (StoreCollection.existing)")
    timer.wrap(SentenceVectors, "__init__", "  of which: map previous sentence texts to vectors (SentenceVectors.__init__)")
    timer.wrap(atomic, "write_text", "  manifests + term counts (atomic.write_text)")
    timer.wrap(snapshot_writer, "save_chunks", "  of which: chunk segments, changed ones written, the rest linked (save_chunks)")
    timer.wrap(PassageTerms, "of_chunks", "  of which: passage BM25 terms (PassageTerms.of_chunks)", static=True)
    timer.wrap(SentenceIndex, "save", "  of which: sentence arrays + terms save (SentenceIndex.save)")
    timer.wrap(SegmentedVectors, "save", "    of which: vector segments, changed ones written, the rest linked (SegmentedVectors.save)")
    timer.wrap(BM25Terms, "assemble", "any BM25 terms assembly (BM25Terms.assemble, sentences + passages)", static=True)
    timer.wrap(StoreCollection, "delete_ids", "  Chroma: delete superseded chunks (StoreCollection.delete_ids)")
    return timer


def update_breakdown(report: IndexReport, timer: StageTimer) -> list[dict[str, Any]]:
    """The run's steps in order (its report's `stages`), then the parts the timer measured."""
    steps = [{"stage": name, "seconds": round(seconds, 3), "calls": 1} for name, seconds in report.stages.items()]
    return steps + timer.table()


# -- child processes ------------------------------------------------------------------------------
def job_settings(job: dict) -> Settings:
    settings = load_settings().with_(store={"path": job["store"], "collection": job["collection"], "chroma_url": None},
                                     corpus={"path": job["corpus"]})
    return settings.with_(embedding={"model": STAND_IN_MODEL}) if job["embedder"] == STAND_IN else settings


def sentence_texts(view) -> list[str]:
    index = view.sentences
    return [view.chunks[cid].text[int(s):int(e)] for cid, s, e in zip(index.chunk_ids, index.starts, index.ends)]


def raw_throughput(kind: str, settings: Settings, texts: Sequence[str]) -> dict[str, Any]:
    """Sentences/s of the embedder alone on the index's own sentence texts (a seeded sample for MiniLM)."""
    sample = list(texts)
    if kind == REAL and len(sample) > RAW_SAMPLE_REAL:
        sample = random.Random(QUESTION_SEED).sample(sample, RAW_SAMPLE_REAL)
    embedder = make_bench_embedder(kind, settings)
    embedder.embed_texts(sample[:32])  # warm-up (first-call allocations), not timed
    started = time.perf_counter()
    embedder.embed_texts(sample)
    seconds = time.perf_counter() - started
    return {"raw_sentences": len(sample), "raw_seconds": round(seconds, 2), "raw_sentences_per_s": round(len(sample) / seconds, 1)}


def child_build(job: dict) -> dict[str, Any]:
    """Build, no-op re-index, one-document update, raw embedder throughput."""
    from assistant import Assistant

    settings = job_settings(job)
    corpus = Path(job["corpus"])
    engine = Assistant(settings, embedder=make_bench_embedder(job["embedder"], settings), auto_index=False)
    with peak_rss() as build_memory:
        started = time.perf_counter()
        report = engine.index(corpus, rebuild=True)
        build_s = time.perf_counter() - started
    sentences = engine.view().manifest.sentences
    started = time.perf_counter()
    noop = engine.index(corpus)
    noop_s = time.perf_counter() - started
    edit_one_record(corpus, job["update_id"])
    timer = install_update_timers()
    with peak_rss() as update_memory:
        started = time.perf_counter()
        update = engine.index(corpus)
        update_s = time.perf_counter() - started
    timer.restore()
    texts = sentence_texts(engine.view())
    return {"chunks": report.chunks, "documents": report.documents, "sentences": sentences,
            "sentences_embedded": report.sentences_embedded, "build_s": round(build_s, 2),
            "build_peak_mib": round(build_memory["peak_mib"]), "noop_s": round(noop_s, 2),
            "noop_changed": len(noop.added) + len(noop.changed) + len(noop.removed),
            "update_s": round(update_s, 2), "update_changed": update.changed, "update_embedded_sentences": update.sentences_embedded,
            "update_peak_mib": round(update_memory["peak_mib"]), "update_breakdown": update_breakdown(update, timer),
            **raw_throughput(job["embedder"], settings, texts)}


def child_serve(job: dict) -> dict[str, Any]:
    """Cold start to the first answer, then retrieve/ask latencies, then R@5 on the quality sample."""
    from assistant import Assistant

    settings = job_settings(job)
    engine = Assistant(settings, embedder=make_bench_embedder(job["embedder"], settings), auto_index=False)
    latency_questions = [q["question"] for q in job["latency_questions"]]
    engine.ask(latency_questions[0])
    first_answer_at = time.time()
    rss_after_first = rss_mib()
    retrieve_s: list[float] = []
    ask_s: list[float] = []
    for question in latency_questions[1:]:
        started = time.perf_counter()
        engine.retrieve(question, top_k=settings.retrieval.top_k)
        retrieve_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        engine.ask(question)
        ask_s.append(time.perf_counter() - started)
    hits = 0
    for q in job["quality_questions"]:
        ranked = list(dict.fromkeys(p.source for p in engine.retrieve(q["question"], top_k=10)))[:5]
        hits += any(source in q["gold"] for source in ranked)
    quality = job["quality_questions"]
    return {"first_answer_at": first_answer_at, "rss_after_first_answer_mib": round(rss_after_first), **rss_parts_mib(),
            "serve_peak_mib": round(max_rss_mib()), "latency_questions": len(ask_s),
            "retrieve_p50_ms": percentile_ms(retrieve_s, 50), "retrieve_p95_ms": percentile_ms(retrieve_s, 95),
            "ask_p50_ms": percentile_ms(ask_s, 50), "ask_p95_ms": percentile_ms(ask_s, 95),
            "quality_questions": len(quality), "r5": round(hits / len(quality), 4) if quality else None}


def run_child(mode: str, job: dict, folder: Path) -> tuple[dict[str, Any], float]:
    """Run a child phase in a fresh interpreter; returns its result and the wall time it was spawned at."""
    job_path = folder / f"{mode}-job.json"
    result_path = folder / f"{mode}-result.json"
    job_path.write_text(json.dumps({**job, "result": str(result_path)}))
    result_path.unlink(missing_ok=True)
    spawned_at = time.time()
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", mode, "--job", str(job_path)], check=True)
    return json.loads(result_path.read_text()), spawned_at


# -- one row --------------------------------------------------------------------------------------
@dataclass
class Row:
    label: str
    target_chunks: int | None
    embedder: str
    made_of: dict[str, dict[str, int]]
    chunks: int = 0
    sentences: int = 0
    build_s: float = 0.0
    chunks_per_s: float = 0.0
    sentences_per_s: float = 0.0
    raw_sentences_per_s: float = 0.0
    build_peak_mib: float = 0.0
    serve_peak_mib: float = 0.0
    disk_mib: float = 0.0
    cold_start_s: float = 0.0
    noop_s: float = 0.0
    update_s: float = 0.0
    retrieve_p50_ms: float = 0.0
    retrieve_p95_ms: float = 0.0
    ask_p50_ms: float = 0.0
    ask_p95_ms: float = 0.0
    r5: float | None = None
    quality_questions: int = 0
    details: dict[str, Any] = field(default_factory=dict)


COLUMNS = ("label", "embedder", "chunks", "sentences", "build_s", "chunks_per_s", "sentences_per_s", "raw_sentences_per_s",
           "build_peak_mib", "serve_peak_mib", "disk_mib", "cold_start_s", "noop_s", "update_s",
           "retrieve_p50_ms", "retrieve_p95_ms", "ask_p50_ms", "ask_p95_ms", "r5")


def measure_size(label: str, target: int | None, records: Sequence[dict], quality_sample: int, latency_count: int,
                 embedder: str, workdir: Path, serve: bool = True) -> Row:
    folder = workdir / label
    store = folder / "store"
    shutil.rmtree(store, ignore_errors=True)
    corpus = folder / "corpus.jsonl"
    write_corpus(corpus, records)
    questions = squad_questions({r["id"] for r in records if r["part"] == "squad"}, quality_sample)
    job = {"store": str(store), "collection": f"scale-{label}", "corpus": str(corpus), "embedder": embedder,
           "update_id": update_target(records)}
    built, _ = run_child("build", job, folder)
    serve_job = {**job, "latency_questions": questions[:latency_count + 1], "quality_questions": questions}
    # --no-serve: build, no-op and update only (their figures); the serving columns stay empty
    served, spawned_at = run_child("serve", serve_job, folder) if serve else ({}, 0.0)
    row = Row(label, target, embedder, composition(records), chunks=built["chunks"], sentences=built["sentences"],
              build_s=built["build_s"], chunks_per_s=round(built["chunks"] / built["build_s"], 1),
              sentences_per_s=round(built["sentences"] / built["build_s"], 1),
              raw_sentences_per_s=built["raw_sentences_per_s"], build_peak_mib=built["build_peak_mib"],
              serve_peak_mib=served.get("serve_peak_mib", 0.0), disk_mib=round(folder_mib(store), 1),
              cold_start_s=round(served["first_answer_at"] - spawned_at, 2) if served else 0.0,
              noop_s=built["noop_s"], update_s=built["update_s"],
              retrieve_p50_ms=served.get("retrieve_p50_ms", 0.0), retrieve_p95_ms=served.get("retrieve_p95_ms", 0.0),
              ask_p50_ms=served.get("ask_p50_ms", 0.0), ask_p95_ms=served.get("ask_p95_ms", 0.0), r5=served.get("r5"),
              quality_questions=served.get("quality_questions", 0),
              details={"build": built, "serve": {k: v for k, v in served.items() if k != "first_answer_at"},
                       "update_record": job["update_id"]})
    return row


# -- output ---------------------------------------------------------------------------------------
def format_table(rows: Sequence[Row]) -> str:
    header = ("size", "embedder", "chunks", "sents", "build s", "chunk/s", "sent/s", "raw sent/s", "build MiB",
              "serve MiB", "disk MiB", "cold s", "no-op s", "1-doc s", "retr p50/p95 ms", "ask p50/p95 ms", "R@5")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        cells = (r.label, r.embedder, r.chunks, r.sentences, r.build_s, r.chunks_per_s, r.sentences_per_s, r.raw_sentences_per_s,
                 r.build_peak_mib, r.serve_peak_mib, r.disk_mib, r.cold_start_s, r.noop_s, r.update_s,
                 f"{r.retrieve_p50_ms:.0f}/{r.retrieve_p95_ms:.0f}", f"{r.ask_p50_ms:.0f}/{r.ask_p95_ms:.0f}",
                 "-" if r.r5 is None else f"{r.r5:.3f}")
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def format_notes(rows: Sequence[Row]) -> str:
    lines = []
    for r in rows:
        parts = ", ".join(f"{name} {v['records']} records / {v['chunks']} chunks" for name, v in r.made_of.items())
        serve = r.details["serve"]
        lines.append(f"- {r.label} ({r.embedder}): {parts}; R@5 over {r.quality_questions} SQuAD report-split questions; "
                     f"serving RSS after the first answer {serve.get('rss_after_first_answer_mib', '?')} MiB, at the end "
                     f"{serve.get('rssanon_mib', '?')} MiB anonymous + {serve.get('rssfile_mib', '?')} MiB file-backed; "
                     f"one-document update peak {r.details['build']['update_peak_mib']} MiB")
        lines.append("  one-document update breakdown (inclusive s): " + "; ".join(
            f"{s['stage'].strip()} {s['seconds']}" for s in r.details["build"]["update_breakdown"]))
    if any(r.embedder == STAND_IN for r in rows):
        lines.append("- stand-in = hashed bag-of-words vectors, NOT MiniLM: its R@5 measures the lexical/hybrid path; "
                     "raw sent/s is the stand-in's own throughput")
    return "\n".join(lines)


def merge_results(out: Path, rows: Sequence[Row], meta: dict | None) -> None:
    """Add these rows (and the run's description, once) to the results file, replacing earlier rows
    of the same size and embedder."""
    existing = json.loads(out.read_text()) if out.exists() else {"runs": [], "rows": []}
    keys = {(r.label, r.embedder) for r in rows}
    kept = [r for r in existing["rows"] if (r["label"], r["embedder"]) not in keys]
    runs = existing["runs"] + ([meta] if meta is not None else [])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"runs": runs, "rows": kept + [asdict(r) for r in rows]}, indent=1))


def label_for(target: int | None) -> str:
    return "squad-only" if target is None else f"{target // 1000}k" if target % 1000 == 0 else str(target)


def run(sizes: Sequence[int], *, embedder: str, workdir: Path, out: Path | None, quality_sample: int = 200,
        latency_count: int = 50, baseline: bool = True, serve: bool = True) -> list[Row]:
    workdir.mkdir(parents=True, exist_ok=True)
    settings = load_settings()
    pool = build_pool(workdir, settings, max(sizes), all_squad=baseline)
    targets: list[int | None] = ([None] if baseline else []) + sorted(sizes)
    meta = {"when": dt.datetime.now().isoformat(timespec="seconds"), "command": " ".join(sys.argv), "squad": str(SQUAD_DIR),
            "embedder": embedder, "cpus": os.cpu_count(), "sizes": list(sizes)}
    rows: list[Row] = []
    for target in targets:
        label = label_for(target)
        print(f"[{dt.datetime.now():%H:%M:%S}] {label}: building and serving ({embedder} embedder)", flush=True)
        row = measure_size(label, target, take(pool, target), quality_sample, latency_count, embedder, workdir, serve)
        rows.append(row)
        print(format_table([row]).splitlines()[-1], flush=True)  # each row as soon as it is measured
        if out is not None:  # saved row by row, so a long run that is stopped keeps its finished sizes
            merge_results(out, [row], meta if len(rows) == 1 else None)
    print(format_table(rows))
    print(format_notes(rows))
    if out is not None:
        print(f"wrote {out}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,30000,100000", help="comma-separated chunk counts")
    parser.add_argument("--embedder", choices=(STAND_IN, REAL), default=STAND_IN)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-scale"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results JSON (rows of the same size and embedder are replaced)")
    parser.add_argument("--questions", type=int, default=200, help="SQuAD questions in the R@5 sample")
    parser.add_argument("--latency-questions", type=int, default=50)
    parser.add_argument("--no-baseline", action="store_true", help="skip the squad-only row")
    parser.add_argument("--no-serve", action="store_true",
                        help="build, no-op and one-document update only (serving columns left empty); use another --out")
    parser.add_argument("--child", choices=("build", "serve"), help=argparse.SUPPRESS)
    parser.add_argument("--job", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        job = json.loads(args.job.read_text())
        result = child_build(job) if args.child == "build" else child_serve(job)
        Path(job["result"]).write_text(json.dumps(result))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    run(sizes, embedder=args.embedder, workdir=args.workdir, out=args.out, quality_sample=args.questions,
        latency_count=args.latency_questions, baseline=not args.no_baseline, serve=not args.no_serve)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
