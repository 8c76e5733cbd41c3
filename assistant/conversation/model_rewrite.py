"""Follow-ups rewritten by the answering language model, and checked: a rewrite is used only when it
keeps the follow-up's own terms and brings in a term of the conversation; otherwise the
deterministic rewrite stands (a small model often echoes the question or answers it instead)."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.answer.prompts import clip_text
from assistant.config import Settings
from assistant.conversation.rewrite import refers_back, rewrite_followup, salient_terms
from assistant.errors import BackendError
from assistant.llm.base import LLMBackend, Message
from assistant.sentences import content_terms
from assistant.types import Turn

REWRITE_STOP = ("\n", "<end_of_turn>", "<|im_end|>")
REWRITE_SYSTEM = (
    "Rewrite the follow-up question so that it can be understood without the conversation: replace "
    "pronouns and vague references with the names they refer to. Keep it one short question."
)
_REWRITE_EXAMPLE = (
    "Conversation:\nQ: Who designed the Eiffel Tower?\nA: Gustave Eiffel's company designed it.\n"
    "Follow-up: When was it finished?\nStandalone question: When was the Eiffel Tower finished?"
)
_MAX_REWRITE_CHARS = 300


def rewrite_messages(message: str, history: Sequence[Turn], *, max_turns: int = 3, answer_chars: int = 300) -> list[Message]:
    turns = "\n".join(f"Q: {t.standalone_question or t.question}\nA: {clip_text(t.answer, answer_chars)}"
                      for t in history[-max_turns:])
    user = f"{_REWRITE_EXAMPLE}\n\nConversation:\n{turns}\nFollow-up: {message}\nStandalone question:"
    return [{"role": "system", "content": REWRITE_SYSTEM}, {"role": "user", "content": user}]


def clean_rewrite(raw: str) -> str:
    """The first line of a model-written rewrite, without quotes or a repeated label."""
    line = raw.strip().splitlines()[0].strip() if raw.strip() else ""
    for label in ("Standalone question:", "Question:", "Q:"):
        if line.lower().startswith(label.lower()):
            line = line[len(label):].strip()
    return line.strip("\"'“” ")


def plausible_rewrite(candidate: str, question: str, history: Sequence[Turn]) -> bool:
    """A model rewrite is used only when it is one short line that keeps most of the follow-up's own
    terms and brings in at least one salient term of the conversation."""
    if not candidate or len(candidate) > _MAX_REWRITE_CHARS or "[" in candidate:
        return False
    own = set(content_terms(question))
    got = set(content_terms(candidate))
    if own and len(own & got) < max(1, len(own) // 2):
        return False
    earlier = set()
    for turn in history[-3:]:
        for term in salient_terms(turn.standalone_question or turn.question) + salient_terms(turn.answer):
            earlier.update(content_terms(term))
    return bool((got - own) & earlier)


class ModelRewriter:
    """The Rewriter protocol over the answering model: its standalone form of a follow-up when it passes
    the checks, else the deterministic one. A failing model falls back too, unless the settings say
    backend errors are raised (`answer.on_backend_error`)."""

    def __init__(self, settings: Settings, backend: LLMBackend) -> None:
        self._settings = settings
        self._backend = backend

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        deterministic = rewrite_followup(question, history)
        if not history or not refers_back(question) or not self._settings.llm.rewrite_followups:
            return deterministic
        try:
            raw = self._backend.complete(rewrite_messages(question, history),
                                         max_tokens=self._settings.llm.rewrite_max_tokens, stop=REWRITE_STOP)
        except BackendError:
            if self._settings.answer.on_backend_error == "raise":
                raise
            return deterministic
        candidate = clean_rewrite(raw)
        return candidate if plausible_rewrite(candidate, question, history) else deterministic

    def asked(self, question: str, history: Sequence[Turn]) -> str:
        """'': a generative answerer reads the standalone form (no learned scorer reads the asked form)."""
        return ""
