"""The Model server panel's choices (ui.model_server): a bad URL or model is refused in one line and the session keeps
its previous choice; a valid one builds, from a validated copy of the page's Settings (never the page's own), an
engine whose answers come from the OpenAI-compatible backend at that URL, sending the key typed for it; an
unreachable server is the library's one-line BackendError. Real index (tiny corpus, real MiniLM), real local HTTP."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from conftest import make_settings
from llm_fixtures import free_port_nobody_listens, serve_in_thread

from assistant import Assistant
from assistant.answer.generative import GenerativeAnswerer
from assistant.conversation.session import ChatSession
from assistant.engine import final_answer
from assistant.engine_pool import EnginePool
from assistant.errors import BackendError, InvalidArgumentError
from assistant.llm.openai_compat import OpenAICompatBackend
from ui import model_server
from ui.model_server import ServerChoice, SessionEngines, check_url, make_choice
from ui.state import SessionState

HARBOUR = "The Quillmouth harbour wall was rebuilt in 1968 after the great spring storm.\n"
QUESTION = "When was the Quillmouth harbour wall rebuilt?"
REPLY = "The Quillmouth harbour wall was rebuilt in 1968 [1]."


@pytest.mark.parametrize("url, says", [
    ("", "is empty"), ("   ", "is empty"), ("ftp://127.0.0.1/v1", "must start with http:// or https://"),
    ("127.0.0.1:8080/v1", "must start with http:// or https://"), ("http:///v1", "names no host"),
    ("http://host:99999/v1", "is not a valid URL"), ("http://exa mple.com/v1", "is not a URL"),
    ("javascript:alert(1)", "must start with http:// or https://")])
def test_a_bad_url_is_refused_in_one_line(url: str, says: str) -> None:
    with pytest.raises(InvalidArgumentError, match=says) as caught:
        make_choice("openai", url, "qwen", "")
    assert "\n" not in str(caught.value)


def test_a_good_choice_is_kept_as_given_and_extractive_is_none() -> None:
    assert check_url(" https://llm.example.org:8443/v1/ ") == "https://llm.example.org:8443/v1"
    choice = make_choice("openai", "http://127.0.0.1:8080/v1", " gemma ", " sk-test ")
    assert choice == ServerChoice("http://127.0.0.1:8080/v1", "gemma", "sk-test")
    assert "sk-test" not in repr(choice) and choice.key_id and "sk-test" not in choice.key_id
    assert make_choice("extractive", "ftp://ignored", "", "") is None  # extractive needs no server
    with pytest.raises(InvalidArgumentError, match="model name"):
        make_choice("openai", "http://127.0.0.1:8080/v1", "  ", "")


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory, embedder) -> EnginePool:
    root = tmp_path_factory.mktemp("model-server")
    (root / "corpus").mkdir()
    (root / "corpus" / "harbour.md").write_text(HARBOUR, encoding="utf-8")
    primary = Assistant(make_settings(root / "store", corpus=root / "corpus"), embedder=embedder)
    primary.index()
    return EnginePool(primary)


@pytest.fixture
def keyed_server() -> Iterator[tuple[str, list[dict]]]:
    """An OpenAI-lookalike that streams REPLY and records each request's Authorization header and body."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            seen.append({"path": self.path, "authorization": self.headers.get("Authorization"), "model": body.get("model")})
            chunk = {"choices": [{"index": 0, "delta": {"content": REPLY}}]}
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            self.wfile.write(f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode())

        def log_message(self, *args: object) -> None:
            pass

    with serve_in_thread(Handler) as base_url:
        yield base_url, seen


def test_a_valid_choice_builds_an_openai_compatible_engine_without_touching_the_page(pool: EnginePool,
                                                                                  keyed_server) -> None:
    base_url, seen = keyed_server
    before = pool.settings.model_dump()
    engines = SessionEngines(pool)
    choice = make_choice("openai", base_url, "harbour-model", "sk-session-one")
    engine = engines.engine(choice, None)

    answerer = engine.answerer()
    assert isinstance(answerer, GenerativeAnswerer) and isinstance(answerer.backend, OpenAICompatBackend)
    assert answerer.backend.base_url == base_url and engine.settings.llm.model == "harbour-model"
    assert engine.settings.store.collection == pool.served and engine.settings.answer.on_backend_error == "raise"
    assert pool.settings.model_dump() == before and pool.primary.settings.answer.answerer == "extractive"
    assert engines.engine(choice, pool.served) is engine  # shared by sessions with the same server

    answer = final_answer(engine.answer_stream(QUESTION))
    assert answer.answerer == "openai" and "1968" in answer.text and answer.citations
    assert seen == [{"path": "/v1/chat/completions", "authorization": "Bearer sk-session-one", "model": "harbour-model"}]
    # The key lives in the session engine's settings only: not in the environment, not in a settings dump.
    assert "sk-session-one" not in os.environ.values() and "sk-session-one" not in str(engine.settings.model_dump())


def test_the_panel_keeps_the_previous_choice_on_bad_input_and_an_unreachable_server_is_one_line(pool: EnginePool) -> None:
    state = SessionState(chat=ChatSession(engine=pool.primary))
    dead = f"http://127.0.0.1:{free_port_nobody_listens()}/v1"
    said = html.unescape(model_server.apply("openai", dead, "harbour-model", "", state))
    assert "now generated by model 'harbour-model'" in said and state.server == ServerChoice(dead, "harbour-model")
    refused = html.unescape(model_server.apply("openai", "ftp://elsewhere/v1", "other", "", state))
    assert "must start with http:// or https://" in refused and f"still generated by model 'harbour-model' at {dead}" in refused
    assert state.server == ServerChoice(dead, "harbour-model")  # the previous choice stays

    engine = SessionEngines(pool).engine(state.server, None)
    with pytest.raises(BackendError, match="cannot reach the model server") as caught:
        final_answer(engine.answer_stream(QUESTION))
    assert "\n" not in str(caught.value)
    assert "extractive" in model_server.apply("extractive", "", "", "", state) and state.server is None
