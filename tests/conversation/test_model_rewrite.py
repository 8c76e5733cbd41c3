"""Follow-ups rewritten by the answering model: used only when the rewrite passes the checks, and the
rewriter seam's factory picks the model rewriter exactly when the answerer is generative."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.generative import GenerativeAnswerer
from assistant.config import load_settings
from assistant.conversation.model_rewrite import ModelRewriter, plausible_rewrite
from assistant.conversation.rewriters import DeterministicRewriter, make_rewriter
from assistant.engine import AnswerEngine
from assistant.errors import BackendError
from assistant.llm.base import Prompt
from assistant.types import Turn


class CannedBackend:
    """Replays fixed outputs in order; fails the test if asked for more than it holds."""

    name = "canned"
    description = "canned outputs"

    def __init__(self, *outputs: str | Exception) -> None:
        self.outputs = list(outputs)

    def stream(self, prompt: Prompt, *, max_tokens: int, stop: Sequence[str] = ()) -> Iterator[str]:
        output = self.outputs.pop(0)
        if isinstance(output, Exception):
            raise output
        yield output

    def complete(self, prompt: Prompt, *, max_tokens: int, stop: Sequence[str] = ()) -> str:
        return "".join(self.stream(prompt, max_tokens=max_tokens, stop=stop))

    def uses_chat(self) -> bool:
        return True


def rewriter(backend: CannedBackend) -> ModelRewriter:
    return ModelRewriter(load_settings().with_(answer={"answerer": "openai"}), backend)


def test_model_rewrite_is_used_only_when_plausible() -> None:
    history = (Turn(question="Where will NSATU be based?", answer="In Wiesbaden, Germany [1]."),)
    assert rewriter(CannedBackend("Who will head NSATU?\n")).rewrite("Who will head it?", history) == "Who will head NSATU?"
    garbage = rewriter(CannedBackend("[1] (2024-06-26) The mission"))
    assert garbage.rewrite("Who will head it?", history) == "Who will head it? (NSATU)"
    failing = rewriter(CannedBackend(BackendError("down")))
    assert failing.rewrite("Who will head it?", history) == "Who will head it? (NSATU)"
    standalone = rewriter(CannedBackend())  # no output queued: must not be called
    assert standalone.rewrite("What is the JATEC center?", history) == "What is the JATEC center?"


def test_plausible_rewrite_checks() -> None:
    history = (Turn(question="Who led the delegation in Bydgoszcz?", answer="Anatolii Klochko led it [1]."),)
    assert plausible_rewrite("What did Anatolii Klochko say about the center?", "What did he say about the center?", history)
    assert not plausible_rewrite("What did he say about the center?", "What did he say about the center?", history)
    assert not plausible_rewrite("Bydgoszcz", "What did he say about the center?", history)
    assert not plausible_rewrite("", "What did he say?", history)


def test_factory_picks_the_model_rewriter_only_for_a_generative_answerer(bundled_engine: AnswerEngine) -> None:
    settings = bundled_engine.settings.with_(answer={"answerer": "openai"})
    extractive = ExtractiveAnswerer(settings.answer, bundled_engine.view())
    generative = GenerativeAnswerer(settings, CannedBackend(), extractive)
    assert isinstance(make_rewriter(settings, generative), ModelRewriter)
    assert isinstance(make_rewriter(bundled_engine.settings, extractive), DeterministicRewriter)
    history = (Turn(question="Where will NSATU be based?", answer="In Wiesbaden, Germany [1]."),)
    assert make_rewriter(settings, extractive).rewrite("Who will head it?", history) == "Who will head it? (NSATU)"
