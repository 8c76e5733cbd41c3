"""The HTTP API: OpenAI's own Python client and curl against a real `assistant serve --api` process
over real indexes built here from documents written by the test; the bearer-token rule; and the
API next to the web page on one port (`assistant serve`)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import free_port, unique_collection
from served_api import Served, serve_collections
from servers import clean_env, launch

from assistant.config import PROJECT_ROOT
from assistant.errors import ConfigError, InvalidArgumentError
from assistant.serving.http_api import check_api_bind
from assistant.serving.http_api.models import ChatMessage
from assistant.serving.http_api.openai_shape import conversation
from assistant.types import Answer, Passage, Turn

KEY = "test-key-5f0c2b"

LIGHTHOUSE = """ date 2023-05-02 Varnholm lighthouse restored

The Varnholm lighthouse stands on a granite skerry at the mouth of the Lysa fjord. It was designed by the engineer Signe Dahl and first lit in 1872.

After a storm damaged its lantern in 2021, the municipality paid for a restoration that was finished in April 2023. The restored lamp can be seen from 18 nautical miles away. Visitors can climb the 112 steps to the gallery on summer weekends.
"""
OBSERVATORY = """ date 2024-02-10 Halden Ridge observatory gets a new camera

The Halden Ridge observatory opened in 1998 on a hill above the village of Mellby. It is run by the University of Trondvik, whose students use it for their thesis projects.

Its main telescope has a mirror 1.2 metres across. In February 2024 the observatory installed a new infrared camera, paid for by a grant from the Nordic Sky Foundation.
"""
BAKERY = """ date 2022-09-15 The Kornblom bakery turns ninety

The Kornblom bakery in Ostby has baked rye bread since 1932. Its loaves are still baked in a wood-fired brick oven that the founder, Anders Holm, built himself.

Every Saturday the bakery sells cardamom buns, and the queue often reaches the town square.
"""
ANSWERABLE = "Who designed the Varnholm lighthouse?"
UNANSWERABLE = "What is the population of Madagascar?"


# -- pure logic: messages -> question and history ---------------------------------------------------------
def test_messages_become_question_and_turns() -> None:
    messages = [ChatMessage(role="system", content="Be brief."), ChatMessage(role="assistant", content="Hello!"),
                ChatMessage(role="user", content="Who designed it?"),
                ChatMessage(role="assistant", content=[{"type": "text", "text": "Signe Dahl [1]"}]),
                ChatMessage(role="user", content="Is it open?"), ChatMessage(role="user", content="When was it lit?")]
    question, turns = conversation(messages)
    assert question == "When was it lit?"
    assert turns == (Turn(question="Who designed it?", answer="Signe Dahl [1]"), Turn(question="Is it open?", answer=""))


@pytest.mark.parametrize(("messages", "message"), [
    ([], "holds no user message"),
    ([ChatMessage(role="system", content="Be brief.")], "holds no user message"),
    ([ChatMessage(role="user", content="Hi"), ChatMessage(role="assistant", content="Hello")],
     r"the last message \(messages\[1\]\) is the assistant's"),
    ([ChatMessage(role="user", content=[{"type": "image_url"}])], "messages\\[0\\] has a 'image_url' content part"),
])
def test_bad_messages_are_one_line_errors(messages: list[ChatMessage], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message) as caught:
        conversation(messages)
    assert "\n" not in str(caught.value)


def test_a_key_is_required_beyond_loopback_only() -> None:
    assert check_api_bind("127.0.0.1", 7860, None) is None
    assert check_api_bind("::1", 7860, " ") is None  # blank counts as unset
    assert check_api_bind("0.0.0.0", 7860, KEY) == KEY
    with pytest.raises(ConfigError, match=r"refusing to serve the API on 0\.0\.0\.0:7860 without a key: ASSISTANT_API_KEY"):
        check_api_bind("0.0.0.0", 7860, None)


# -- refusing unsafe binds (nothing loads, nothing is written) -----------------------------------------------
def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.server
@pytest.mark.parametrize("command", [["serve", "--api"], ["serve"]], ids=["serve --api", "serve (page and API)"])
def test_non_loopback_bind_without_key_refuses_to_start(tmp_path: Path, command: list[str]) -> None:
    port = free_port()
    # The page's own credentials are set: the API's key is what is missing.
    env = clean_env(tmp_path / "store", ASSISTANT_UI_USER="alice", ASSISTANT_UI_PASSWORD="correct horse")
    done = subprocess.run([sys.executable, "-m", "assistant", *command, "--host", "0.0.0.0", "--port", str(port)],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: refusing to serve the API on 0.0.0.0:{port} without a key")
    assert "ASSISTANT_API_KEY is not set" in lines[0]
    assert not port_is_open(port) and not (tmp_path / "store").exists()


# -- a real server over real indexes -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[Served]:
    # "bread" sorts first: the order of the listing is checked.
    collections = {unique_collection("lights"): {"lighthouse.txt": LIGHTHOUSE, "observatory.txt": OBSERVATORY},
                   unique_collection("bread"): {"bakery.txt": BAKERY}}
    with serve_collections(tmp_path_factory.mktemp("http-api"), embedder, collections, ASSISTANT_API_KEY=KEY) as served:
        assert f"Assistant API ready on {served.url}/v1 (bearer token required)" in served.output
        yield served


@pytest.fixture(scope="module")
def client(served: Served):
    from openai import OpenAI

    with OpenAI(base_url=f"{served.url}/v1", api_key=KEY, max_retries=0, timeout=300) as openai_client:
        yield openai_client


def check_cited(content: str, extras: dict, expected_source: str) -> None:
    """An answer citing `expected_source`: [n] in the text, each n resolved to a verbatim span."""
    assert extras["abstained"] is False
    assert extras["citations"], extras
    for citation in extras["citations"]:
        assert f"[{citation['n']}]" in content
        assert citation["passage"][citation["start"]:citation["end"]] == citation["quote"]
        assert set(citation) >= {"n", "source", "title", "date", "quote", "start", "end", "chunk_id"}
    assert extras["citations"][0]["source"] == expected_source



@pytest.mark.server
@pytest.mark.slow
def test_models_lists_collections_default_first(client, served: Served) -> None:
    ids = [model.id for model in client.models.list()]
    assert ids[0] == served.default and served.other in ids
    assert client.models.retrieve(served.other).id == served.other


@pytest.mark.server
@pytest.mark.slow
def test_chat_completion_answers_with_citations(client, served: Served) -> None:
    response = client.chat.completions.create(model=served.default, temperature=0.2, extra_body={"top_k": 3}, messages=[
        {"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": ANSWERABLE}])
    content = response.choices[0].message.content
    assert response.object == "chat.completion" and response.model == served.default
    assert response.choices[0].finish_reason == "stop" and "Signe Dahl" in content
    extras = response.model_extra
    check_cited(content, extras, "lighthouse.txt")
    assert extras["citations"][0]["date"] == "2023-05-02"
    assert "Signe Dahl" in (extras["short_answer"] or "") and 0 < extras["confidence"] <= 1
    assert response.system_fingerprint  # the answer's config hash


@pytest.mark.server
@pytest.mark.slow
def test_chat_completion_stream_carries_text_then_citations(client, served: Served) -> None:
    chunks = list(client.chat.completions.create(model=served.default, stream=True,
                                                 messages=[{"role": "user", "content": ANSWERABLE}]))
    assert {chunk.object for chunk in chunks} == {"chat.completion.chunk"} and len({chunk.id for chunk in chunks}) == 1
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop" and all(c.choices[0].finish_reason is None for c in chunks[:-1])
    extras = final.model_extra
    assert streamed == extras["text"] and "Signe Dahl" in streamed
    check_cited(streamed, extras, "lighthouse.txt")


@pytest.mark.server
@pytest.mark.slow
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_unanswerable_question_abstains(client, served: Served, stream: bool) -> None:
    messages = [{"role": "user", "content": UNANSWERABLE}]
    if stream:
        chunks = list(client.chat.completions.create(model=served.default, messages=messages, stream=True))
        content, extras = "".join(c.choices[0].delta.content or "" for c in chunks), chunks[-1].model_extra
    else:
        response = client.chat.completions.create(model=served.default, messages=messages)
        content, extras = response.choices[0].message.content, response.model_extra
    assert extras["abstained"] is True and extras["citations"] == []
    assert "[" not in content and content.strip()


@pytest.mark.server
@pytest.mark.slow
def test_filters_ride_in_extra_body(client, served: Served) -> None:
    response = client.chat.completions.create(model=served.default, messages=[{"role": "user", "content": ANSWERABLE}],
                                              extra_body={"sources": ["observatory.txt"]})
    assert {c["source"] for c in response.model_extra["citations"]} <= {"observatory.txt"}
    assert "Signe Dahl" not in response.choices[0].message.content


@pytest.mark.server
@pytest.mark.slow
def test_earlier_messages_are_the_history(client, served: Served) -> None:
    response = client.chat.completions.create(model=served.default, messages=[
        {"role": "user", "content": ANSWERABLE},
        {"role": "assistant", "content": "It was designed by the engineer Signe Dahl. [1]"},
        {"role": "user", "content": "When was it first lit?"}])
    assert "1872" in response.choices[0].message.content
    assert "Varnholm" in response.model_extra["standalone_question"]  # the follow-up was read with its history


@pytest.mark.server
@pytest.mark.slow
def test_model_name_selects_the_collection(client, served: Served) -> None:
    import openai

    response = client.chat.completions.create(
        model=served.other, messages=[{"role": "user", "content": "Since when has the Kornblom bakery baked rye bread?"}])
    assert "1932" in response.choices[0].message.content
    check_cited(response.choices[0].message.content, response.model_extra, "bakery.txt")
    with pytest.raises(openai.NotFoundError, match="no collection named 'no-such-docs'") as caught:
        client.chat.completions.create(model="no-such-docs", messages=[{"role": "user", "content": ANSWERABLE}])
    assert caught.value.code == "model_not_found"


@pytest.mark.server
@pytest.mark.slow
def test_bad_requests_are_one_line_400s(client, served: Served) -> None:
    import openai

    with pytest.raises(openai.BadRequestError, match="the question is empty") as caught:
        client.chat.completions.create(model=served.default, messages=[{"role": "user", "content": "   "}])
    assert caught.value.status_code == 400
    with pytest.raises(openai.BadRequestError, match="end messages with the user's question"):
        client.chat.completions.create(model=served.default, messages=[{"role": "assistant", "content": "Hi"}])
    malformed = httpx.post(f"{served.url}/v1/chat/completions", content=b"{not json",
                           headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}, timeout=60)
    error = malformed.json()["error"]
    assert malformed.status_code == 400 and error["type"] == "invalid_request_error" and "not valid JSON" in error["message"]
    assert "\n" not in error["message"]


@pytest.mark.server
@pytest.mark.slow
def test_ask_and_retrieve_return_typed_json(served: Served) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=served.url, headers=headers, timeout=300) as http:
        asked = http.post("/v1/ask", json={"question": "When was it first lit?",
                                           "history": [{"question": ANSWERABLE, "answer": "Signe Dahl [1]"}]})
        assert asked.status_code == 200, asked.text
        answer = Answer.model_validate(asked.json())
        assert "1872" in answer.text and answer.citations[0].source == "lighthouse.txt" and not answer.abstained
        other = http.post("/v1/ask", json={"question": "Who built the oven of the Kornblom bakery?", "collection": served.other})
        assert Answer.model_validate(other.json()).citations[0].source == "bakery.txt"
        found = http.post("/v1/retrieve", json={"query": "infrared camera grant", "top_k": 2})
        assert found.status_code == 200, found.text
        body = found.json()
        passages = [Passage.model_validate(p) for p in body["passages"]]
        assert body["collection"] == served.default and len(passages) == 2
        assert passages[0].source == "observatory.txt" and passages[0].score >= passages[1].score
        filtered = http.post("/v1/retrieve", json={"query": "infrared camera grant", "sources": ["lighthouse.txt"]})
        assert {p["source"] for p in filtered.json()["passages"]} == {"lighthouse.txt"}
        for path, body in (("/v1/retrieve", {"query": "infrared camera grant"}), ("/v1/ask", {"question": "Who?"})):
            unknown = http.post(path, json={**body, "sources": ["lighthouse.md"]})  # a name it does not hold
            assert unknown.status_code == 400, unknown.text
            said = unknown.json()["error"]["message"]
            assert "has no document lighthouse.md" in said and "/documents lists the sources" in said and "\n" not in said
        bad = http.post("/v1/ask", json={"question": "Who?", "top_k": 0})
        assert bad.status_code == 400 and bad.json()["error"]["message"].startswith("top_k 0 is out of range")


@pytest.mark.server
@pytest.mark.slow
def test_curl_streams_server_sent_events(served: Served) -> None:
    request = {"model": served.default, "stream": True, "messages": [{"role": "user", "content": ANSWERABLE}]}
    done = subprocess.run(["curl", "-sS", "-N", f"{served.url}/v1/chat/completions", "-H", f"Authorization: Bearer {KEY}",
                           "-H", "Content-Type: application/json", "-d", json.dumps(request), "-D", "-"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    head, _, body = done.stdout.partition("\n\n")  # text mode reads the header's CRLFs as newlines
    assert head.startswith("HTTP/1.1 200") and "content-type: text/event-stream" in head.lower()
    events = [line.removeprefix("data: ") for line in body.split("\n\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop", "logprobs": None}
    assert chunks[-1]["citations"][0]["source"] == "lighthouse.txt" and chunks[-1]["abstained"] is False


@pytest.mark.server
@pytest.mark.slow
def test_bearer_token_is_required(served: Served) -> None:
    import openai
    from openai import OpenAI

    missing = httpx.get(f"{served.url}/v1/models", timeout=60)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["error"]["code"] == "missing_api_key"
    for route in ("/v1/ask", "/v1/retrieve", "/v1/chat/completions"):
        assert httpx.post(f"{served.url}{route}", json={}, timeout=60).status_code == 401  # checked before the body
    with OpenAI(base_url=f"{served.url}/v1", api_key="wrong-key", max_retries=0) as wrong, \
            pytest.raises(openai.AuthenticationError, match="invalid API key"):
        wrong.models.list()
    right = httpx.get(f"{served.url}/v1/models", headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
    assert right.status_code == 200 and right.json()["object"] == "list"


# -- the page and the API on one port -----------------------------------------------------------------------
@pytest.mark.server
@pytest.mark.slow
def test_serve_with_the_page_also_answers_the_api(served: Served, tmp_path: Path) -> None:
    port = free_port()
    server = launch(["serve", "--port", str(port), "--collection", served.default],
                    clean_env(served.store, ASSISTANT_API_KEY=KEY), tmp_path / "ui.log")
    try:
        output = server.wait_for("Assistant ready on")
        assert f"OpenAI-compatible API on http://127.0.0.1:{port}/v1 (bearer token required)" in output
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            page = http.get("/")
            assert page.status_code == 200 and "Document Q&" in page.text
            models = http.get("/v1/models", headers={"Authorization": f"Bearer {KEY}"})
            assert models.status_code == 200 and models.json()["data"][0]["id"] == served.default
            assert http.get("/v1/models").status_code == 401
    finally:
        server.stop()
