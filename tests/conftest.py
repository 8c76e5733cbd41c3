"""Shared fixtures: one real MiniLM embedder per test session, real Chroma stores in tmp dirs."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant import Assistant
from assistant._offline import apply_offline_env
from assistant.config import PROJECT_ROOT, Settings, load_settings
from assistant.retrieval.embedding import Embedder, make_embedder

apply_offline_env()  # tests load models and gradio directly too, not only through an engine or entry point

BUNDLED_CORPUS = PROJECT_ROOT / "corpus"


def unique_collection(prefix: str = "test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_settings(store_dir: Path, *, corpus: Path | None = None, **sections: dict) -> Settings:
    """Settings pointing at a private store folder and a unique collection."""
    store = {"path": store_dir, "collection": unique_collection(), "chroma_url": None, **sections.pop("store", {})}
    base = load_settings()
    return base.with_(store=store, corpus={"path": corpus or BUNDLED_CORPUS, **sections.pop("corpus", {})}, **sections)


def stop_process(process: subprocess.Popen) -> None:
    """Stop a server the test started: SIGTERM, then SIGKILL if it has not exited within 30 s."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real all-MiniLM-L6-v2, loaded once for the whole run."""
    return make_embedder(load_settings().embedding)


@pytest.fixture(scope="session")
def bundled_engine(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Assistant:
    """An extractive Assistant over the bundled corpus, indexed once per test session (read-only use!)."""
    settings = make_settings(tmp_path_factory.mktemp("bundled-store"))
    engine = Assistant(settings, embedder=embedder)
    engine.index()
    return engine


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Iterator[Path]:
    """A writable copy of the bundled corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(BUNDLED_CORPUS, target)
    yield target


@pytest.fixture
def engine_factory(tmp_path: Path, embedder: Embedder):
    """Build Assistants on private stores: engine_factory(corpus=..., answer={...})."""

    def build(**kwargs) -> Assistant:
        return Assistant(make_settings(tmp_path / f"store-{uuid.uuid4().hex[:6]}", **kwargs), embedder=embedder)

    return build


CHROMIUM = os.environ.get("ASSISTANT_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium driven by Playwright, one per test module (never a downloaded browser)."""
    from playwright import sync_api

    if not Path(CHROMIUM).exists():
        pytest.fail(f"no chromium at {CHROMIUM}: install it (apt-get install -y chromium) or set ASSISTANT_TEST_CHROMIUM")
    with sync_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def chroma_command() -> list[str]:
    exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    return [exe]


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    process = subprocess.Popen(
        [*chroma_command(), "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chroma server did not start on port {port}")
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
