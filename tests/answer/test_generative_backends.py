"""Backends that fail: a server that is down or slow gives a clear BackendError or the configured
fallback within the timeout; a missing extra names it."""

from __future__ import annotations

import sys

import pytest

from assistant.config import load_settings
from assistant.retrieval.embedding import Embedder
from assistant import Assistant
from assistant.errors import BackendError, MissingExtraError
from assistant.llm.factory import make_backend
from assistant.llm.openai_compat import _parse_event
from llm_fixtures import SlowServer, engine_like, free_port_nobody_listens, slow_server  # noqa: F401

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
    assert _parse_event('data: {"choices":[{"delta":{"content":"Hi"}}]}', "u") == "Hi"
    assert _parse_event('data: {"choices":[{"text":" there"}]}', "u") == " there"
    assert _parse_event(": keep-alive", "u") == ""
    assert _parse_event("data: [DONE]", "u") is None
    with pytest.raises(BackendError, match="reported an error"):
        _parse_event('data: {"error": {"message": "model not found"}}', "u")
