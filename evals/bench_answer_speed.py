"""ask() latency per stage on the bundled corpus: the learned path on torch and on ONNX Runtime, and
the lexical path, side by side in one process (rounds interleaved, so a busy machine slows all alike).

    python evals/bench_answer_speed.py [--rounds 5] [--threads N] [--out evals/results/answer_speed.json]
    python evals/bench_answer_speed.py --configs onnx,onnx-previous,onnx-previous6,lexical   # answer.sentence_context

Stages: embed (the query), retrieve, answer (all of the answerer), and inside it score (the answer
scorer's calls) and read (the short-answer reader's). Prints p50/p95 ms per stage and configuration,
the learned/lexical ratio of the p50 totals, and the agreement of the answers across runtimes (same
quoted text and short answer). Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import Assistant, load_settings  # noqa: E402
from assistant.answer.confidence import load_calibration  # noqa: E402
from assistant.answer.scorer import DEFAULT_MODEL_DIR, AnswerScorer, make_answer_scorer  # noqa: E402
from assistant.answer.span_reader import Span, SpanReader, make_span_reader  # noqa: E402
from assistant.config import PROJECT_ROOT, InferenceSettings, Settings  # noqa: E402
from evals.bench_index import QUESTIONS  # noqa: E402
from evals.common import RESULTS, p50_p95  # noqa: E402


class TimedScorer:
    """An answer scorer that adds each call's milliseconds to a shared list."""

    def __init__(self, inner: AnswerScorer, spent: list[float]) -> None:
        self._inner, self._spent = inner, spent

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self._inner.score(question, sentences)
        finally:
            self._spent.append((time.perf_counter() - started) * 1000)


class TimedReader:
    def __init__(self, inner: SpanReader, spent: list[float]) -> None:
        self._inner, self._spent = inner, spent

    def read(self, question: str, sentence: str, *, limit: int = 1) -> list[Span]:
        started = time.perf_counter()
        try:
            return self._inner.read(question, sentence, limit=limit)
        finally:
            self._spent.append((time.perf_counter() - started) * 1000)


def engine_for(base: Settings, name: str, spent: dict[str, list[float]], batch_size: int | None) -> Assistant:
    if name == "lexical":
        return Assistant(base.with_(answer={"scorer": "lexical", "short_answers": "patterns"}))
    # "onnx-previous": sentences also read after the one before; "onnx-previous6": and 6 candidates, not 12
    runtime, _, variant = name.partition("-")
    settings = base.with_(inference={"runtime": runtime})
    if variant.startswith("previous"):
        candidates = variant.removeprefix("previous")
        settings = settings.with_(answer={"sentence_context": "previous",
                                          **({"scorer_candidates": int(candidates)} if candidates else {})})
    scorer = make_answer_scorer(batch_size=batch_size, inference=settings.inference)
    calibration = load_calibration(DEFAULT_MODEL_DIR)
    reader = make_span_reader(inference=settings.inference)
    return Assistant(settings, answer_scorer=(TimedScorer(scorer, spent["score"]), calibration),
                     span_reader=TimedReader(reader, spent["read"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="asks of every question per configuration")
    parser.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads (default: its own)")
    parser.add_argument("--configs", default="torch,onnx,lexical")
    parser.add_argument("--batch-size", type=int, default=None, help="answer-scorer pairs per model call "
                        "(default: the runtime's own, scorer.ONNX_BATCH_SIZE or DEFAULT_BATCH_SIZE)")
    parser.add_argument("--out", type=Path, default=RESULTS / "answer_speed.json")
    args = parser.parse_args()
    names = args.configs.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        base = load_settings(corpus={"path": PROJECT_ROOT / "corpus"}, store={"path": Path(tmp)},
                         inference=InferenceSettings(threads=args.threads).model_dump())
        Assistant(base).index()
        spent = {name: {"score": [], "read": []} for name in names}
        loaded = {}
        for name in names:
            started = time.perf_counter()
            loaded[name] = engine_for(base, name, spent[name], args.batch_size)
            loaded[name].ask(QUESTIONS[0])  # load the snapshot, warm every model
            print(f"{name}: ready in {time.perf_counter() - started:.1f} s", flush=True)
        stages: dict[str, dict[str, list[float]]] = {name: {} for name in names}
        answers: dict[str, list[tuple[str, str | None]]] = {name: [] for name in names}
        for _ in range(args.rounds):
            for question in QUESTIONS:
                for name in names:
                    calls = {stage: len(values) for stage, values in spent[name].items()}
                    answer = loaded[name].ask(question)
                    answers[name].append((answer.text, answer.short_answer))
                    for stage, seconds in answer.timings.items():
                        stages[name].setdefault(stage, []).append(seconds * 1000)
                    for stage, values in spent[name].items():  # the model calls of this ask, summed
                        if name != "lexical":
                            stages[name].setdefault(stage, []).append(sum(values[calls[stage]:]))
    results: dict = {"command": "python " + " ".join(sys.argv), "questions": len(QUESTIONS), "rounds": args.rounds,
                     "threads": args.threads, "batch_size": args.batch_size, "configs": {}}
    for name in names:
        figures = {stage: p50_p95(values) for stage, values in stages[name].items()}
        results["configs"][name] = {stage: {"p50_ms": round(p50, 2), "p95_ms": round(p95, 2)}
                                    for stage, (p50, p95) in figures.items()}
    if "lexical" in names:
        lexical = results["configs"]["lexical"]["total"]["p50_ms"]
        for name in names:
            results["configs"][name]["total_vs_lexical"] = round(results["configs"][name]["total"]["p50_ms"] / lexical, 2)
    if "torch" in names and "onnx" in names:
        results["onnx_same_answers_as_torch"] = sum(a == b for a, b in zip(answers["onnx"], answers["torch"])) / len(answers["onnx"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
