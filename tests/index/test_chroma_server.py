"""The client/server path: index and ask against a real `chroma run` process on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.errors import StoreUnavailableError
from tests.conftest import free_port, make_settings

pytestmark = [pytest.mark.slow, pytest.mark.server]


def test_index_and_ask_through_chroma_server(chroma_server: str, tmp_path: Path, embedder):
    settings = make_settings(tmp_path / "manifests", store={"chroma_url": chroma_server})
    engine = Assistant(settings, embedder=embedder)
    report = engine.index()
    assert report.documents == 5 and report.chunks_embedded > 0
    assert not (tmp_path / "manifests" / "chroma").exists()  # vectors live in the server, not locally
    answer = engine.ask("In which city in Poland did the Ukrainian delegation meet NATO representatives?")
    assert "Bydgoszcz" in answer.text and answer.citations
    assert Assistant(settings, embedder=embedder).index().chunks_embedded == 0  # incremental over HTTP too
    info = engine.info()
    assert info["store"] == f"Chroma server {chroma_server}" and info["status"] == "ready"
    assert info["store_chunks"] == info["chunks"] == report.chunks  # counted by the server itself


def test_server_down_gives_clear_error(tmp_path: Path, embedder):
    settings = make_settings(tmp_path, store={"chroma_url": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(StoreUnavailableError, match=r"cannot reach the Chroma server at http://127\.0\.0\.1:\d+.*chroma run"):
        Assistant(settings, embedder=embedder).ask("What is the JATEC center?")


def test_info_against_an_unreachable_server_reports_the_connection_error(tmp_path: Path) -> None:
    """Even with a local manifest present, `info` never passes it off as the server's state."""
    port = free_port()
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(tmp_path), "ASSISTANT_CHROMA_URL": f"http://127.0.0.1:{port}"}
    run = subprocess.run([sys.executable, "-m", "assistant", "info"], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.startswith(f"error: cannot reach the Chroma server at http://127.0.0.1:{port}")


def test_a_local_store_manifest_is_not_taken_for_the_servers(chroma_server: str, tmp_path: Path, embedder) -> None:
    """Pointing a folder that holds a local index at a new server builds anew on the server instead
    of trusting a manifest whose chunks are not there."""
    local = make_settings(tmp_path, store={"collection": "moving"})
    Assistant(local, embedder=embedder).index()
    served = local.with_(store={"chroma_url": chroma_server})
    engine = Assistant(served, embedder=embedder)
    answer = engine.ask("In which city in Poland did the Ukrainian delegation meet NATO representatives?")
    assert "Bydgoszcz" in answer.text and engine.view().manifest.store == f"Chroma server {chroma_server}"
