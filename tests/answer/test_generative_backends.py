"""Backends that fail: a server that is down or slow gives a clear BackendError or the configured
fallback within the timeout; a missing extra names it. And the OpenAI-compatible backend asks the
server for its token counts and reports them (zeros from a server that sends none)."""

from __future__ import annotations

import sys

import pytest
from llm_fixtures import (
    FAKE_USAGE,
    FakeOpenAI,
    SlowServer,
    engine_like,
    free_port_nobody_listens,
    llm_sections,
)

from assistant import Assistant
from assistant.config import load_settings
from assistant.errors import BackendError, MissingExtraError
from assistant.llm.base import TextStream
from assistant.llm.factory import make_backend
from assistant.llm.openai_compat import Event, _parse_event
from assistant.retrieval.embedding import Embedder
from assistant.types import TokenUsage

pytest_plugins = ("llm_fixtures",)  # its fixtures (slow_server, fake_openai), found by name

QUESTION = "In which city in Poland did the Ukrainian delegation meet NATO representatives?"


def openai_engine(bundled: Assistant, embedder: Embedder, base_url: str, **answer: object) -> Assistant:
    return engine_like(bundled, embedder, answer={"answerer": "openai", **answer},
                       llm={"base_url": base_url, "model": "nobody-serves-this", "timeout_s": 1.0, "api": "completions"})


@pytest.mark.slow
def test_server_down_is_a_one_line_backend_error(bundled_engine: Assistant, embedder: Embedder) -> None:
    url = f"http://127.0.0.1:{free_port_nobody_listens()}/v1"
    engine = openai_engine(bundled_engine, embedder, url, on_backend_error="raise")
    with pytest.raises(BackendError) as info:
        engine.ask(QUESTION)
    message = str(info.value)
    assert "\n" not in message and url in message and "ASSISTANT_LLM_BASE_URL" in message


@pytest.mark.slow
def test_server_down_falls_back_to_extractive(bundled_engine: Assistant, embedder: Embedder) -> None:
    url = f"http://127.0.0.1:{free_port_nobody_listens()}/v1"
    answer = openai_engine(bundled_engine, embedder, url).ask(QUESTION)
    assert "Bydgoszcz" in answer.text and answer.citations and not answer.abstained
    assert any(url in note for note in answer.notes)


@pytest.mark.slow
def test_slow_server_times_out_with_a_clear_error(bundled_engine: Assistant, embedder: Embedder, slow_server: SlowServer) -> None:
    engine = openai_engine(bundled_engine, embedder, slow_server.base_url, on_backend_error="raise")
    with pytest.raises(BackendError, match="did not answer within 1s"):
        engine.ask(QUESTION)
    assert slow_server.requests == ["/v1/completions"]


@pytest.mark.slow
def test_slow_server_falls_back_to_abstention_when_configured(bundled_engine: Assistant, embedder: Embedder,
                                                              slow_server: SlowServer) -> None:
    answer = openai_engine(bundled_engine, embedder, slow_server.base_url, fallback="abstain").ask(QUESTION)
    assert answer.abstained and any("did not answer within" in note for note in answer.notes)


def test_missing_llama_cpp_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if the extra were not installed
    with pytest.raises(MissingExtraError, match=r"pip install -e '\.\[llamacpp\]'"):
        make_backend("llamacpp", load_settings().llm)


def test_sse_events_are_parsed() -> None:
    assert _parse_event('data: {"choices":[{"delta":{"content":"Hi"}}]}', "u") == Event("Hi")
    assert _parse_event('data: {"choices":[{"text":" there"}]}', "u") == Event(" there")
    assert _parse_event(": keep-alive", "u") == Event()
    assert _parse_event("data: [DONE]", "u") is None
    with pytest.raises(BackendError, match="reported an error"):
        _parse_event('data: {"error": {"message": "model not found"}}', "u")


def test_usage_events_are_parsed() -> None:
    counts = TokenUsage(prompt_tokens=9, completion_tokens=4)
    assert _parse_event('data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}',
                        "u") == Event("", counts)
    # llama.cpp's server counts on the chunk that finishes; null usage (OpenAI's other chunks) or another shape: none.
    assert _parse_event('data: {"choices":[{"delta":{"content":"!"}}],"usage":{"prompt_tokens":9,"completion_tokens":4}}',
                        "u") == Event("!", counts)
    assert _parse_event('data: {"choices":[{"delta":{"content":"x"}}],"usage":null}', "u") == Event("x")
    assert _parse_event('data: {"choices":[],"usage":{"input_tokens":9}}', "u") == Event()


def openai_backend(base_url: str, api: str):
    return make_backend("openai", load_settings().llm.model_copy(update=llm_sections(base_url=base_url, model="fake",
                                                                                     api=api, timeout_s=30)))


@pytest.mark.parametrize("api", ["chat", "completions"])
def test_openai_backend_reads_the_usage_it_asks_for(fake_openai: FakeOpenAI, api: str) -> None:
    fake_openai.reply = "It is in Wiesbaden [1]."
    stream = openai_backend(fake_openai.base_url, api).stream("Where?", max_tokens=8)
    assert isinstance(stream, TextStream) and stream.usage == TokenUsage()  # nothing counted before the end
    assert "".join(stream) == "It is in Wiesbaden [1]."
    assert stream.usage == TokenUsage(prompt_tokens=FAKE_USAGE["prompt_tokens"], completion_tokens=FAKE_USAGE["completion_tokens"])
    ((path, body),) = fake_openai.requests
    assert path == ("/v1/chat/completions" if api == "chat" else "/v1/completions")
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_server_that_sends_no_usage_leaves_zeros(fake_openai: FakeOpenAI) -> None:
    fake_openai.sends_usage = False
    stream = openai_backend(fake_openai.base_url, "chat").stream("Where?", max_tokens=8)
    assert "".join(stream) == "Hello [1]." and stream.usage == TokenUsage()
