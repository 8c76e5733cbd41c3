"""Starting the web page: safe bind defaults, credentials, and the main command end to end."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import free_port, make_settings, stop_process, unique_collection

from assistant.config import PROJECT_ROOT
from ui.errors import UIConfigError
from ui.server import check_bind, serve

STARTUP_CEILING_S = 600  # how long we wait for a cold start on a slow CI machine; not a performance check


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_INDEX_DIR=str(tmp_path / "store"), ASSISTANT_COLLECTION=unique_collection("ui"), **extra)
    return env


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


# -- refusing unsafe binds ----------------------------------------------------------------------------
def test_serve_refuses_all_interfaces_without_credentials_before_loading_anything(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "store")
    with pytest.raises(UIConfigError, match=r"refusing to serve on 0\.0\.0\.0:7860 without credentials"):
        serve(settings, host="0.0.0.0", port=7860)
    assert not (tmp_path / "store").exists()


def test_credentials_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_UI_USER", "alice")
    monkeypatch.setenv("ASSISTANT_UI_PASSWORD", "correct horse")
    settings = make_settings(tmp_path / "store")
    assert check_bind("0.0.0.0", 7860, settings.ui.user, settings.ui.password) == ("alice", "correct horse")


@pytest.mark.server
@pytest.mark.parametrize("command", [["-m", "ui"], ["-m", "assistant", "serve"]], ids=["python -m ui", "assistant serve"])
def test_command_refuses_all_interfaces_without_credentials(tmp_path: Path, command: list[str]) -> None:
    port = free_port()
    done = subprocess.run([sys.executable, *command, "--host", "0.0.0.0", "--port", str(port)], cwd=PROJECT_ROOT,
                          env=clean_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith(f"error: refusing to serve on 0.0.0.0:{port} without credentials")
    assert "ASSISTANT_UI_USER and ASSISTANT_UI_PASSWORD are not set" in message
    assert not port_is_open(port) and not (tmp_path / "store").exists()


# -- credentials enforced ----------------------------------------------------------------------------------
@pytest.mark.server
@pytest.mark.slow
def test_page_with_credentials_requires_sign_in(bundled_engine) -> None:
    from ui.server import start

    settings = bundled_engine.settings.with_(ui={"user": "alice", "password": "correct horse"})
    running = start(settings, host="127.0.0.1", port=free_port(), engine=bundled_engine, log=lambda *_: None)
    try:
        assert running.auth
        url = running.url.rstrip("/")
        with httpx.Client(timeout=30) as client:
            assert client.get(f"{url}/config").status_code == 401
            assert client.post(f"{url}/login", data={"username": "alice", "password": "wrong"}).status_code >= 400
            assert client.get(f"{url}/config").status_code == 401
            assert client.post(f"{url}/login", data={"username": "alice", "password": "correct horse"}).status_code == 200
            config = client.get(f"{url}/config")
            assert config.status_code == 200 and "Document Q&A assistant" in config.text
    finally:
        running.close()


# -- the main command ---------------------------------------------------------------------------------------
@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, int, list[str]]]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--port", str(port)], cwd=PROJECT_ROOT,
                               env=clean_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    lines: list[str] = []
    try:
        yield process, port, lines
    finally:
        stop_process(process)


@pytest.mark.server
@pytest.mark.slow
def test_main_command_builds_the_index_and_serves_on_loopback(served, tmp_path: Path) -> None:
    process, port, lines = served
    deadline = time.monotonic() + STARTUP_CEILING_S
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line.rstrip())
        if line.startswith("Assistant ready on"):
            break
    assert lines and lines[-1] == f"Assistant ready on http://127.0.0.1:{port}/  (Ctrl+C to stop)", "\n".join(lines)
    assert any("Loading the index" in line for line in lines)
    assert (tmp_path / "store" / "chroma").is_dir()  # built into the configured store on first start
    page = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
    assert page.status_code == 200 and ("Document Q&amp;A assistant" in page.text or "Document Q&A assistant" in page.text)
