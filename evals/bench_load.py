"""Load test: N concurrent chat sessions, each a 3-turn conversation, through the running web server's
page (gradio_client, as a program would call the app), its OpenAI-compatible API (httpx) and in-process
`ask()` threads (one Assistant, a ChatSession per thread). Prints, per path and N: answers, errors,
throughput (answers/s over the run's wall time), p50 and p95 seconds per answer, and where throughput
stops growing. Writes evals/results/load.json. Prints figures; asserts nothing.

    python evals/bench_load.py [--sizes 1,5,20,50] [--concurrency 4] [--paths ui,openai,ask]
                               [--url http://127.0.0.1:7860/] [--out evals/results/load.json]

Without --url it starts `python -m assistant serve` itself on a free port over the bundled corpus, with a
private index folder (ASSISTANT_INDEX_DIR) and ASSISTANT_UI__CONCURRENCY set to --concurrency."""

from __future__ import annotations

import argparse
import html
import itertools
import json
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(PROJECT_ROOT))

from evals.common import RESULTS, percentile  # noqa: E402

DEFAULT_OUT = RESULTS / "load.json"
READY_PREFIX = "Assistant ready on "
STARTUP_CEILING_S = 600  # a cold start builds the index; a ceiling, not a measurement
CHAT_API = "/respond"    # ui/chat_panel.py wires `respond` to the question box (Gradio names the endpoint after it)

# Our own conversations about the bundled corpus: an opening question, then follow-ups that lean on it.
CONVERSATIONS: tuple[tuple[str, str, str], ...] = (
    ("What will the NSATU mission do for Ukraine?", "How many people will work for it?", "And where is it headquartered?"),
    ("What is the joint training centre NATO set up with Ukraine called?", "Where is it?", "When should it be fully working?"),
    ("Which city hosted NATO's 2024 summit?", "What did the allies promise Ukraine there?", "How much money was pledged?"),
    ("What jets did France say it would send to Ukraine?", "Who announced it?", "When was that?"),
)

Ask = Callable[[str], str]  # one turn of one session: the question in, the answer's text out


# -- figures (pure) -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadRow:
    path: str
    sessions: int
    answers: int
    errors: int
    wall_s: float
    throughput: float  # answers per second of wall time
    p50_s: float
    p95_s: float


def summarise(path: str, sessions: int, latencies: Sequence[float], errors: int, wall_s: float) -> LoadRow:
    return LoadRow(path, sessions, len(latencies), errors, round(wall_s, 3),
                   round(len(latencies) / wall_s, 2) if wall_s > 0 else math.nan,
                   round(percentile(latencies, 50), 3), round(percentile(latencies, 95), 3))


def format_table(rows: Sequence[LoadRow]) -> str:
    """A Markdown table, one line per (path, N)."""
    lines = ["| path | N sessions | answers | errors | answers/s | p50 s | p95 s |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r.path} | {r.sessions} | {r.answers} | {r.errors} | {r.throughput:.2f} | {r.p50_s:.2f} | {r.p95_s:.2f} |"
              for r in rows]
    return "\n".join(lines)


def saturation(rows: Sequence[LoadRow], gain: float = 1.1) -> int | None:
    """The smallest N after which throughput grows by less than `gain`x (None: it kept growing)."""
    ordered = sorted(rows, key=lambda r: r.sessions)
    for before, after in itertools.pairwise(ordered):
        if after.throughput < before.throughput * gain:
            return before.sessions
    return None


# -- running sessions -------------------------------------------------------------------------------------
@dataclass
class _Tally:
    latencies: list[float]
    failures: list[str]
    lock: threading.Lock


def run_sessions(n: int, open_session: Callable[[int], Ask], path: str,
                 conversations: Sequence[Sequence[str]] = CONVERSATIONS) -> tuple[LoadRow, list[str]]:
    """N threads, each opening its own session (outside the clock), then all asking their conversation's
    turns at once. Returns the row and the failures (an exception or an answer without text)."""
    tally = _Tally([], [], threading.Lock())
    sessions = [open_session(i) for i in range(n)]
    start = threading.Barrier(n + 1)

    def converse(i: int) -> None:
        ask, turns = sessions[i], conversations[i % len(conversations)]
        start.wait()
        for question in turns:
            began = time.perf_counter()
            try:
                text = ask(question)
            except Exception as err:  # noqa: BLE001  (a load test records every failure, whatever its kind, as an error)
                with tally.lock:
                    tally.failures.append(f"{question!r}: {type(err).__name__}: {err}")
                continue
            took = time.perf_counter() - began
            with tally.lock:
                if text.strip():
                    tally.latencies.append(took)
                else:
                    tally.failures.append(f"{question!r}: no answer text")

    threads = [threading.Thread(target=converse, args=(i,), name=f"session-{i}") for i in range(n)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    return summarise(path, n, tally.latencies, len(tally.failures), wall), tally.failures


# -- the three paths ------------------------------------------------------------------------------------
_TAGS = re.compile(r"<[^>]+>")


def _message_text(content: Any) -> str:
    """The text of a chatbot message as the client returns it (a string, a text part, or a list of them)."""
    if isinstance(content, list):
        return " ".join(_message_text(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text") or content.get("content") or "")
    return str(content or "")


def page_answer_text(history: Sequence[dict[str, Any]], notice: str) -> str:
    """The last answer's plain text from the chat endpoint's outputs; '' when the page showed an error."""
    if notice.strip() or not history:
        return ""
    last = history[-1]
    if last.get("role") != "assistant":
        return ""
    rendered = _message_text(last.get("content"))
    if 'class="ans failed"' in rendered:
        return ""
    return html.unescape(_TAGS.sub(" ", rendered)).strip()


def page_session(url: str) -> Callable[[int], Ask]:
    from gradio_client import Client

    def open_session(_: int) -> Ask:
        client = Client(url, verbose=False)  # its own session: the server keeps this chat's state for it
        history: list[dict[str, Any]] = []

        def ask(question: str) -> str:
            nonlocal history
            outputs = client.predict(question, history, "extractive", 5, [], "", "", api_name=CHAT_API)
            chat = outputs[0]  # the messages, or an update carrying them with the answers' thumbs (ui/feedback.py)
            history = list((chat.get("value") if isinstance(chat, dict) else chat) or [])
            return page_answer_text(history, str(outputs[2] or ""))

        return ask

    return open_session


def openai_session(url: str, model: str) -> Callable[[int], Ask]:
    import httpx

    def open_session(_: int) -> Ask:
        http = httpx.Client(base_url=url.rstrip("/") + "/v1", timeout=300)
        messages: list[dict[str, str]] = []

        def ask(question: str) -> str:
            messages.append({"role": "user", "content": question})
            reply = http.post("/chat/completions", json={"model": model, "messages": messages})
            reply.raise_for_status()
            text = reply.json()["choices"][0]["message"]["content"] or ""
            messages.append({"role": "assistant", "content": text})
            return text

        return ask

    return open_session


def ask_session(engine: Any) -> Callable[[int], Ask]:
    from assistant import ChatSession

    def open_session(_: int) -> Ask:
        chat = ChatSession(engine=engine)
        return lambda question: chat.ask(question).text

    return open_session


# -- the server ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(index_dir: Path, collection: str, concurrency: int) -> Iterator[str]:
    """`python -m assistant serve` on a free port over the bundled corpus; yields its URL once ready."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_INDEX_DIR=str(index_dir), ASSISTANT_COLLECTION=collection,
               ASSISTANT_UI__CONCURRENCY=str(concurrency))
    process = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--port", str(port)], cwd=PROJECT_ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + STARTUP_CEILING_S
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                raise RuntimeError("the server exited before it was ready:\n" + "\n".join(lines[-20:]))
            lines.append(line.rstrip())
            if line.startswith(READY_PREFIX):
                break
        else:
            raise RuntimeError(f"the server was not ready after {STARTUP_CEILING_S} s")
        # Keep reading its output so a chatty server never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def served_model(url: str) -> str:
    """The collection the server answers from (the first model /v1/models lists)."""
    import httpx

    reply = httpx.get(url.rstrip("/") + "/v1/models", timeout=30)
    reply.raise_for_status()
    return str(reply.json()["data"][0]["id"])


# -- main -----------------------------------------------------------------------------------------------------
def measure(path: str, open_session: Callable[[int], Ask], sizes: Sequence[int], log: Callable[[str], None]) -> list[LoadRow]:
    rows: list[LoadRow] = []
    for n in sizes:
        row, failures = run_sessions(n, open_session, path)
        rows.append(row)
        log(f"{path} N={n}: {row.answers} answers, {row.errors} errors, {row.throughput:.2f}/s, "
            f"p50 {row.p50_s:.2f} s, p95 {row.p95_s:.2f} s")
        for failure in failures[:3]:
            log(f"  failed: {failure}")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,5,20,50", help="comma-separated numbers of concurrent sessions")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="ASSISTANT_UI__CONCURRENCY for the server this script starts (default: the setting's)")
    parser.add_argument("--paths", default="ui,openai,ask", help="any of ui (page), openai (/v1), ask (in-process)")
    parser.add_argument("--url", help="a running server's URL instead of starting one")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]

    import assistant  # noqa: F401  (offline environment first)
    from assistant import Assistant, load_settings

    settings = load_settings()
    concurrency = args.concurrency or settings.ui.concurrency
    rows: list[LoadRow] = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        index_dir, collection = Path(tmp) / "index", "load"
        if {"ui", "openai"} & set(paths):
            with (served(index_dir, collection, concurrency) if not args.url else _given(args.url)) as url:
                print(f"server: {url} (queue concurrency {concurrency if not args.url else 'as configured there'})",
                      flush=True)
                if "ui" in paths:
                    rows += measure("page (gradio_client)", page_session(url), sizes, print)
                if "openai" in paths:
                    rows += measure("/v1/chat/completions", openai_session(url, served_model(url)), sizes, print)
        if "ask" in paths:
            ask_settings = settings.with_(store={"path": Path(tmp) / "ask-index", "collection": collection,
                                                 "chroma_url": None}, corpus={"path": PROJECT_ROOT / "corpus"})
            engine = Assistant(ask_settings)
            engine.index()
            engine.ask("warm up: what is NATO?")
            rows += measure("ask() threads", ask_session(engine), sizes, print)

    print()
    print(format_table(rows))
    saturated = {}
    for path in dict.fromkeys(r.path for r in rows):
        n = saturation([r for r in rows if r.path == path])
        saturated[path] = n
        print(f"{path}: " + (f"throughput stops growing after N={n}" if n else "throughput still growing at the largest N"))
    report = {"sizes": sizes, "concurrency": None if args.url else concurrency, "turns_per_session": 3,
              "cpus": os.cpu_count(), "when": time.strftime("%Y-%m-%d %H:%M"),
              "rows": [asdict(r) for r in rows], "saturates_after": saturated}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url if url.endswith("/") else url + "/"


if __name__ == "__main__":
    raise SystemExit(main())
