"""`usage` of a generated answer through /v1/chat/completions: the tokens the language model read and
wrote, as its OpenAI-compatible server counted them, in the completion and, when asked for with
stream_options.include_usage, in the stream's last chunk. OpenAI's own client against the real app,
served in-process over a real index, answering through a fake OpenAI-compatible model server.
(An extractive answer's usage stays all zeros: test_http_streaming.py.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import make_settings
from llm_fixtures import FAKE_USAGE, FakeOpenAI, fake_openai_server
from served_api import openai_client

from assistant import Assistant

pytestmark = [pytest.mark.slow, pytest.mark.server]

LIGHTHOUSE = """ date 2023-05-02 Varnholm lighthouse restored

The Varnholm lighthouse stands on a granite skerry at the mouth of the Lysa fjord. It was designed by the engineer Signe Dahl and first lit in 1872.
"""
QUESTION = "Who designed the Varnholm lighthouse?"
GENERATED = "The Varnholm lighthouse was designed by the engineer Signe Dahl [1]."


@pytest.fixture(scope="module")
def model_server() -> Iterator[FakeOpenAI]:
    with fake_openai_server(GENERATED) as server:
        yield server


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, embedder, model_server: FakeOpenAI) -> Assistant:
    root = tmp_path_factory.mktemp("http-usage")
    (root / "docs").mkdir()
    (root / "docs" / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    settings = make_settings(root / "store", corpus=root / "docs", answer={"answerer": "openai", "on_backend_error": "raise"},
                             llm={"base_url": model_server.base_url, "model": "fake-model", "api": "chat", "timeout_s": 30})
    engine = Assistant(settings, embedder=embedder)
    engine.index()
    return engine


@pytest.fixture(scope="module")
def client(engine: Assistant) -> Iterator[object]:
    with openai_client(engine) as client:
        yield client


def test_generated_answer_reports_the_model_servers_counts(client, engine: Assistant, model_server: FakeOpenAI) -> None:
    response = client.chat.completions.create(model=engine.settings.store.collection,
                                              messages=[{"role": "user", "content": QUESTION}])
    assert response.choices[0].message.content == GENERATED and response.model_extra["notes"] == []  # generated, not a fallback
    assert response.usage is not None and response.usage.model_dump(exclude_none=True) == FAKE_USAGE
    assert model_server.requests[-1][1]["stream_options"] == {"include_usage": True}  # asked of the model server


def test_streamed_answer_reports_them_in_the_last_chunk(client, engine: Assistant) -> None:
    chunks = list(client.chat.completions.create(model=engine.settings.store.collection, stream=True,
                                                 stream_options={"include_usage": True},
                                                 messages=[{"role": "user", "content": QUESTION}]))
    last, rest = chunks[-1], chunks[:-1]
    assert last.choices == [] and last.usage is not None and last.usage.model_dump(exclude_none=True) == FAKE_USAGE
    assert all(c.usage is None for c in rest) and rest[-1].model_extra["text"] == GENERATED
    assert sum(1 for c in rest if c.choices and c.choices[0].delta.content) > 1  # streamed as the model wrote it
