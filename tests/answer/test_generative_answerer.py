"""The generative answerer's logic over the real bundled index, with canned model outputs
(a deterministic stand-in backend: the model tests are in test_generative_llm.py)."""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence

import pytest

from assistant import Assistant
from assistant.answer.base import AnswerDraft, AnswerRequest
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.generative import GenerativeAnswerer
from assistant.errors import BackendError
from assistant.llm.base import Prompt, TextStream, messages_to_text
from assistant.types import TokenUsage


class CannedBackend:
    """Replays fixed outputs in order, in small pieces; records the prompts it was given. With `usage`,
    it reports those token counts after each output (a TextStream); without, none (a plain iterator)."""

    name = "canned"
    description = "canned outputs"

    def __init__(self, *outputs: str | Exception, usage: TokenUsage | None = None) -> None:
        self.outputs = list(outputs)
        self.prompts: list[str] = []
        self.usage = usage

    def stream(self, prompt: Prompt, *, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        self.prompts.append(messages_to_text(prompt))
        output = self.outputs.pop(0)
        if isinstance(output, Exception):
            raise output
        return self._pieces(output) if self.usage is None else TextStream(self._counted(output, self.usage))

    @staticmethod
    def _pieces(output: str) -> Iterator[str]:
        for i in range(0, len(output), 7):
            yield output[i:i + 7]

    def _counted(self, output: str, usage: TokenUsage) -> Generator[str | TokenUsage, None, None]:
        yield from self._pieces(output)
        yield usage

    def complete(self, prompt: Prompt, *, max_tokens: int, stop: Sequence[str] = ()) -> str:
        return "".join(self.stream(prompt, max_tokens=max_tokens, stop=stop))

    def uses_chat(self) -> bool:
        return True  # prompts arrive as chat messages, as an instruction-tuned model's would


def make(engine: Assistant, backend: CannedBackend, **answer: object) -> GenerativeAnswerer:
    settings = engine.settings.with_(answer={"answerer": "openai", **answer})
    return GenerativeAnswerer(settings, backend, ExtractiveAnswerer(settings.answer, engine.view()))


def request_for(engine: Assistant, question: str, top_k: int = 5) -> AnswerRequest:
    vector = engine.embedder.embed_query(question)
    passages = engine.retrieve(question, top_k=top_k)
    return AnswerRequest(question=question, query_vector=vector, passages=tuple(passages))


def run(answerer: GenerativeAnswerer, request: AnswerRequest) -> tuple[list[str], AnswerDraft]:
    items = list(answerer.stream(request))
    assert isinstance(items[-1], AnswerDraft) and all(isinstance(i, str) for i in items[:-1])
    return items[:-1], items[-1]


def passage_number(request: AnswerRequest, needle: str) -> int:
    return next(i for i, p in enumerate(request.passages, start=1) if needle in p.text)


QUESTION = "Where will the NSATU mission be based?"


@pytest.mark.slow
def test_prompt_numbers_passages_with_title_and_date(bundled_engine: Assistant) -> None:
    backend = CannedBackend("It is in Wiesbaden [1].")
    request = request_for(bundled_engine, QUESTION)
    run(make(bundled_engine, backend), request)
    prompt = backend.prompts[0]
    first = request.passages[0]
    assert f"[1] {first.title} ({first.date.isoformat()}):" in prompt
    assert "[n]" in prompt and "newest" in prompt and prompt.rstrip().endswith("Answer:")


@pytest.mark.slow
def test_valid_answer_streams_then_validated_draft(bundled_engine: Assistant) -> None:
    request = request_for(bundled_engine, QUESTION)
    n = passage_number(request, "Wiesbaden")
    backend = CannedBackend(f"The mission will be based at a U.S. military installation in Wiesbaden, Germany [{n}] [9].")
    pieces, draft = run(make(bundled_engine, backend), request)
    assert len(pieces) > 1  # streamed, not whole
    assert not draft.abstained and draft.text.endswith("Wiesbaden, Germany [1].")
    (citation,) = draft.citations
    assert citation.n == 1 and "Wiesbaden" in citation.quote and citation.passage[citation.start:citation.end] == citation.quote
    assert any("[9]" in note for note in draft.notes)


@pytest.mark.slow
def test_unsupported_sentence_is_flagged(bundled_engine: Assistant) -> None:
    request = request_for(bundled_engine, QUESTION)
    n = passage_number(request, "Wiesbaden")
    backend = CannedBackend(f"The mission will be based in Wiesbaden [{n}]. Bananas grow on tall purple mountains [{n}].")
    _, draft = run(make(bundled_engine, backend), request)
    assert draft.unsupported == ("Bananas grow on tall purple mountains.",)
    assert draft.citations and not draft.abstained


@pytest.mark.slow
@pytest.mark.parametrize("output", ["The mission will be based in Wiesbaden.", "Bananas grow on mountains [1].", "It is [7]."])
def test_no_valid_citation_falls_back_to_extractive(bundled_engine: Assistant, output: str) -> None:
    _, draft = run(make(bundled_engine, CannedBackend(output)), request_for(bundled_engine, QUESTION))
    assert "Wiesbaden" in draft.text and draft.citations  # the extractive answer, cited by construction
    assert any("fallback" in note for note in draft.notes)


@pytest.mark.slow
def test_supported_answer_without_the_asked_type_falls_back(bundled_engine: Assistant) -> None:
    request = request_for(bundled_engine, QUESTION)
    n = passage_number(request, "Wiesbaden")
    # Copied from the passage (lexically supported) but names no place: not an answer to "where".
    _, draft = run(make(bundled_engine, CannedBackend(f"The mission will be based at a military installation [{n}].")), request)
    assert "Wiesbaden" in draft.text and any("does not give the place" in note for note in draft.notes)


@pytest.mark.slow
def test_no_valid_citation_can_fall_back_to_abstention(bundled_engine: Assistant) -> None:
    _, draft = run(make(bundled_engine, CannedBackend("No markers here."), fallback="abstain"),
                   request_for(bundled_engine, QUESTION))
    assert draft.abstained and draft.citations == ()


@pytest.mark.slow
def test_empty_output_is_a_backend_error_or_the_fallback(bundled_engine: Assistant) -> None:
    request = request_for(bundled_engine, QUESTION)
    with pytest.raises(BackendError, match="empty answer"):
        run(make(bundled_engine, CannedBackend("   "), on_backend_error="raise"), request)
    _, draft = run(make(bundled_engine, CannedBackend("")), request)
    assert "Wiesbaden" in draft.text and any("empty answer" in note for note in draft.notes)


@pytest.mark.slow
def test_unanswerable_question_abstains_without_calling_the_model(bundled_engine: Assistant) -> None:
    backend = CannedBackend("Should never be generated [1].")
    _, draft = run(make(bundled_engine, backend), request_for(bundled_engine, "What is the boiling point of liquid helium?"))
    assert draft.abstained and backend.prompts == []


COUNTS = TokenUsage(prompt_tokens=412, completion_tokens=23)


@pytest.mark.slow
def test_draft_carries_the_token_counts_the_backend_reports(bundled_engine: Assistant) -> None:
    request = request_for(bundled_engine, QUESTION)
    n = passage_number(request, "Wiesbaden")
    output = f"The mission will be based at a U.S. military installation in Wiesbaden, Germany [{n}]."
    _, draft = run(make(bundled_engine, CannedBackend(output, usage=COUNTS)), request)
    assert draft.usage == COUNTS and draft.citations
    _, uncounted = run(make(bundled_engine, CannedBackend(output)), request)  # a backend that counts nothing
    assert uncounted.usage == TokenUsage() and uncounted.text == draft.text


@pytest.mark.slow
def test_fallback_after_generating_still_reports_the_tokens_spent(bundled_engine: Assistant) -> None:
    _, draft = run(make(bundled_engine, CannedBackend("No markers here.", usage=COUNTS)), request_for(bundled_engine, QUESTION))
    assert any("fallback" in note for note in draft.notes) and draft.usage == COUNTS


@pytest.mark.slow
def test_abstaining_without_the_model_counts_no_tokens(bundled_engine: Assistant) -> None:
    backend = CannedBackend("Should never be generated [1].", usage=COUNTS)
    _, draft = run(make(bundled_engine, backend), request_for(bundled_engine, "What is the boiling point of liquid helium?"))
    assert draft.abstained and draft.usage == TokenUsage()
