"""The generative paths with a real model (Gemma-3-270M base): llama.cpp in-process, and a real
OpenAI-compatible server (`python -m llama_cpp.server`). Gemma-3-270M is too weak for content
checks: these test the path (it runs, it streams, validation applies, citations are valid)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from llm_fixtures import LlamaServer, engine_like, llm_sections

from assistant import Answer, Assistant, ChatSession
from assistant.llm.factory import make_backend
from assistant.retrieval.embedding import Embedder

pytest_plugins = ("llm_fixtures",)  # its fixtures (gemma_path, llama_server), found by name

pytestmark = [pytest.mark.llm, pytest.mark.slow]

QUESTION = "Where will the NSATU mission be based?"


def assert_valid_answer(items: list, answerer: str) -> Answer:
    answer = items[-1]
    assert isinstance(answer, Answer) and all(isinstance(i, str) for i in items[:-1])
    assert answer.answerer == answerer and answer.text.strip()
    numbers = list(dict.fromkeys(c.n for c in answer.citations))  # (an extractive fallback may quote a passage twice)
    assert numbers == list(range(1, len(numbers) + 1))              # numbered 1..m in order of appearance
    retrieved = {p.chunk_id for p in answer.passages}
    for citation in answer.citations:
        assert citation.chunk_id in retrieved
        assert citation.passage[citation.start:citation.end] == citation.quote  # verbatim, highlightable
        assert citation.date is not None or citation.source.startswith("004")
    for marker in re.findall(r"\[(\d+)\]", answer.text):
        assert 1 <= int(marker) <= max(numbers, default=0)
    return answer


@pytest.fixture(scope="module")
def llamacpp_engine(bundled_engine: Assistant, embedder: Embedder, gemma_path: Path) -> Assistant:
    return engine_like(bundled_engine, embedder, answer={"answerer": "llamacpp"}, llm=llm_sections(model_path=gemma_path))


def test_llamacpp_in_process_streams_a_validated_answer(llamacpp_engine: Assistant) -> None:
    items = list(llamacpp_engine.ask_stream(QUESTION))
    assert_valid_answer(items, "llamacpp")
    pieces = items[:-1]
    if not any("fallback" in n for n in items[-1].notes):
        assert len(pieces) > 1  # generated token by token


def test_llamacpp_backend_completes_and_streams(gemma_path: Path) -> None:
    from assistant.config import load_settings

    backend = make_backend("llamacpp", load_settings().llm.model_copy(update=llm_sections(model_path=gemma_path)))
    pieces = list(backend.stream("The capital of France is", max_tokens=8, stop=("\n",)))
    assert len(pieces) >= 2 and "".join(pieces).strip()
    assert backend.complete("One, two, three,", max_tokens=4).strip()


GEMMA_CHAT_TEMPLATE = ("{{ bos_token }}{% for message in messages %}<start_of_turn>{{ message['role'] }}\n"
                       "{{ message['content'] | trim }}<end_of_turn>\n{% endfor %}"
                       "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}")


def test_llamacpp_stream_counts_tokens_as_llama_cpp_does(gemma_path: Path) -> None:
    from assistant.config import load_settings

    backend = make_backend("llamacpp", load_settings().llm.model_copy(update=llm_sections(model_path=gemma_path,
                                                                                         api="completions")))
    prompt = "The capital of France is"
    stream = backend.stream(prompt, max_tokens=8, stop=("\n",))
    assert "".join(stream).strip()
    # llama-cpp-python counts a whole completion only; greedy decoding (temperature 0) writes the same text.
    whole = backend._model().create_completion(prompt=prompt, max_tokens=8, stop=["\n"], temperature=0.0)["usage"]
    assert stream.usage.prompt_tokens == whole["prompt_tokens"] > 0
    assert stream.usage.completion_tokens == whole["completion_tokens"] > 0


def test_llamacpp_chat_prompt_is_counted_through_the_models_template(gemma_path: Path) -> None:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    from assistant.config import load_settings
    from assistant.llm.llamacpp import _prompt_tokens

    backend = make_backend("llamacpp", load_settings().llm.model_copy(update=llm_sections(model_path=gemma_path)))
    llm = backend._model()
    messages = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "What is the capital of France?"}]
    plain = _prompt_tokens(llm, messages)  # the base model has no template: the messages' text
    llm.metadata["tokenizer.chat_template"] = GEMMA_CHAT_TEMPLATE  # as an instruction-tuned GGUF carries
    handler = Jinja2ChatFormatter(template=GEMMA_CHAT_TEMPLATE, eos_token="<eos>", bos_token="<bos>").to_chat_handler()
    reference = handler(llama=llm, messages=messages, max_tokens=1)["usage"]["prompt_tokens"]
    assert _prompt_tokens(llm, messages) == reference > plain


def test_llamacpp_followup_is_rewritten_and_answered(llamacpp_engine: Assistant) -> None:
    session = ChatSession(engine=llamacpp_engine)
    session.ask("Who led the Ukrainian delegation in Bydgoszcz?")
    answer = session.ask("What did he say the center would help Ukraine do?")
    assert answer.standalone_question != "What did he say the center would help Ukraine do?"
    assert_valid_answer([answer], "llamacpp")


@pytest.mark.server
@pytest.mark.parametrize("api", ["completions", "chat"])
def test_openai_path_against_a_real_server(bundled_engine: Assistant, embedder: Embedder,
                                           llama_server: LlamaServer, api: str) -> None:
    engine = engine_like(bundled_engine, embedder, answer={"answerer": "openai", "on_backend_error": "raise"},
                         llm=llm_sections(base_url=llama_server.base_url, model=llama_server.model, api=api))
    items = list(engine.ask_stream(QUESTION))
    answer = assert_valid_answer(items, "openai")
    assert "".join(items[:-1]).strip()  # text arrived over SSE before the final answer
    assert answer.timings["answer"] > 0


@pytest.mark.server
def test_openai_session_followup(bundled_engine: Assistant, embedder: Embedder, llama_server: LlamaServer) -> None:
    engine = engine_like(bundled_engine, embedder, answer={"answerer": "openai"},
                         llm=llm_sections(base_url=llama_server.base_url, model=llama_server.model, api="completions"))
    session = ChatSession(engine=engine)
    session.ask("What is the Ukraine Defense Contact Group?")
    answer = session.ask("Who founded it?")
    assert answer.standalone_question != "Who founded it?" and len(session.history) == 2
    assert_valid_answer([answer], "openai")
