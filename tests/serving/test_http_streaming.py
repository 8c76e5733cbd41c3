"""Streaming everywhere: the extractive answer streams sentence by sentence (its pieces join to the
final text), `/v1/chat/completions` sends each piece as its own SSE chunk, and `usage` comes with
every completion and, when asked for with stream_options.include_usage, in a last chunk with no
choices. OpenAI's own client against the real app, served in-process over a real index."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import make_settings
from served_api import app_url, openai_client

from assistant import Assistant
from assistant.answer.pieces import answer_pieces
from assistant.engine import final_answer
from assistant.types import Answer

LIGHTHOUSE = """ date 2023-05-02 Varnholm lighthouse restored

The Varnholm lighthouse stands on a granite skerry at the mouth of the Lysa fjord. It was designed by the engineer Signe Dahl and first lit in 1872.

After a storm damaged its lantern in 2021, the municipality paid for a restoration that was finished in April 2023. The restored lamp can be seen from 18 nautical miles away. Visitors can climb the 112 steps to the gallery on summer weekends.
"""
# The answer's sentence opens with "It": its quote takes the sentence before too, two sentences in all.
MULTI_SENTENCE = "Who designed the Varnholm lighthouse?"
UNANSWERABLE = "What is the population of Madagascar?"
ZERO_USAGE = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}


@pytest.mark.parametrize("text", [
    "First quoted sentence. Second one, same quote. [1] Another passage says so too. [2]\n\nNote: the sources differ.",
    "The documents don't answer this question.",
    "Mr. Holm built it in 1932. [1]",
    "",
])
def test_pieces_join_to_the_text(text: str) -> None:
    pieces = answer_pieces(text)
    assert "".join(pieces) == text and all(pieces)


def test_pieces_are_sentences_with_their_markers() -> None:
    pieces = answer_pieces("First quoted sentence. Second one, same quote. [1] Another passage says so too. [2]\n\nNote: x.")
    assert pieces == ["First quoted sentence.", " Second one, same quote. [1]", " Another passage says so too. [2]",
                      "\n\nNote: x."]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, embedder) -> Assistant:
    root = tmp_path_factory.mktemp("streaming")
    (root / "docs").mkdir()
    (root / "docs" / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    engine = Assistant(make_settings(root / "store", corpus=root / "docs"), embedder=embedder)
    engine.index()
    return engine


@pytest.mark.slow
def test_extractive_stream_yields_sentences_that_join_to_the_answer(engine: Assistant) -> None:
    items = list(engine.answer_stream(MULTI_SENTENCE))
    pieces, answer = items[:-1], items[-1]
    assert isinstance(answer, Answer) and all(isinstance(p, str) for p in pieces)
    assert len(pieces) >= 2 and "".join(pieces) == answer.text and "Signe Dahl" in answer.text
    assert pieces[-1].endswith("[1]")
    assert final_answer(engine.answer_stream(MULTI_SENTENCE)).text == engine.ask(MULTI_SENTENCE).text


@pytest.fixture(scope="module")
def client(engine: Assistant) -> Iterator[object]:
    with openai_client(engine) as client:
        yield client


@pytest.mark.slow
@pytest.mark.server
def test_streamed_answer_arrives_in_several_content_chunks(client, engine: Assistant) -> None:
    model = engine.settings.store.collection
    chunks = list(client.chat.completions.create(model=model, stream=True,
                                                 messages=[{"role": "user", "content": MULTI_SENTENCE}]))
    contents = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(contents) > 1, contents
    final = chunks[-1]
    assert "".join(contents) == final.model_extra["text"] and final.choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)  # not asked for


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.parametrize("question", [MULTI_SENTENCE, UNANSWERABLE], ids=["answer", "abstention"])
def test_usage_in_completions_and_as_the_last_chunk_when_asked(client, engine: Assistant, question: str) -> None:
    model = engine.settings.store.collection
    messages = [{"role": "user", "content": question}]
    response = client.chat.completions.create(model=model, messages=messages)
    # The extractive answerer quotes: no model wrote a token, so OpenAI's counts are all 0.
    assert response.usage is not None and response.usage.model_dump(exclude_none=True) == ZERO_USAGE
    chunks = list(client.chat.completions.create(model=model, messages=messages, stream=True,
                                                 stream_options={"include_usage": True}))
    last, rest = chunks[-1], chunks[:-1]
    assert last.choices == [] and last.usage is not None and last.usage.model_dump(exclude_none=True) == ZERO_USAGE
    assert all(c.usage is None for c in rest) and rest[-1].choices[0].finish_reason == "stop"
    streamed = "".join(c.choices[0].delta.content or "" for c in rest)
    assert streamed == response.choices[0].message.content == rest[-1].model_extra["text"]


@pytest.mark.slow
@pytest.mark.server
def test_usage_chunk_shape_matches_openai(engine: Assistant) -> None:
    """Raw events: every chunk carries `"usage": null` but the last, which has no choices."""
    import json

    import httpx

    body = {"model": engine.settings.store.collection, "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": MULTI_SENTENCE}]}
    with app_url(engine) as url, httpx.stream("POST", f"{url}v1/chat/completions", json=body, timeout=300) as reply:
        events = [line.removeprefix("data: ") for line in reply.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all("usage" in c and c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == ZERO_USAGE
    assert sum(1 for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")) > 1

