"""The HTTP API served for its tests (pytest puts this folder on the path of the test modules in it):
a real `assistant serve --api` process over collections the test builds, or the app over an engine
served in-process, with OpenAI's client."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from conftest import free_port, make_settings
from servers import clean_env, launch

from assistant import Assistant
from assistant.engine_pool import EnginePool
from assistant.retrieval.embedding import Embedder
from assistant.serving.http_api.app import create_app
from assistant.serving.http_api.serving import start_server


@dataclass(frozen=True)
class Served:
    url: str          # http://127.0.0.1:PORT
    default: str      # the collection the server was started with
    other: str        # a second collection, reachable by its name
    store: Path
    output: str       # the server's output up to its ready line


@contextmanager
def serve_collections(root: Path, embedder: Embedder, collections: Mapping[str, Mapping[str, str]],
                      **env: str) -> Iterator[Served]:
    """Index each collection (its name -> its files, file name -> text) into root/store from its own
    corpus folder, then serve them with `assistant serve --api` started with the first (the default;
    the second is `other`) and `env` on top of a clean environment; stopped on exit."""
    store = root / "store"
    for collection, files in collections.items():
        corpus = root / collection
        corpus.mkdir()
        for name, text in files.items():
            (corpus / name).write_text(text, encoding="utf-8")
        Assistant(make_settings(store, corpus=corpus, store={"collection": collection}), embedder=embedder).index()
    default, other = list(collections)[:2]
    port = free_port()
    server = launch(["serve", "--api", "--port", str(port), "--collection", default], clean_env(store, **env),
                    root / "server.log")
    try:
        output = server.wait_for("Assistant API ready on")
        yield Served(f"http://127.0.0.1:{port}", default, other, store, output)
    finally:
        server.stop()


@contextmanager
def v1_client(served: Served, **headers: str) -> Iterator[httpx.Client]:
    """An HTTP client for the served API's /v1 routes."""
    with httpx.Client(base_url=f"{served.url}/v1", headers=headers, timeout=300) as client:
        yield client


@contextmanager
def app_url(engine: Assistant) -> Iterator[str]:
    """The app over `engine`, served in this process on a free port: its base URL (ends with '/')."""
    running = start_server(create_app(engine.settings, EnginePool(engine)), "127.0.0.1", 0)
    try:
        yield running.url
    finally:
        running.close()


@contextmanager
def openai_client(engine: Assistant) -> Iterator[object]:
    """OpenAI's own client against the app over `engine`, served in-process."""
    from openai import OpenAI

    with app_url(engine) as url, OpenAI(base_url=f"{url}v1", api_key="unused", max_retries=0, timeout=300) as client:
        yield client
