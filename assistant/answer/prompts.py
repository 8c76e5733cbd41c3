"""Prompts for generative answering and follow-up rewriting.

Passages are numbered [1]..[k] with their title and date; the model is asked to cite with [n] and,
when sources disagree, to prefer the newest. Each prompt ends with a cue ("Answer:") so that base
models without a chat template continue it, while chat models read it as an instruction."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.llm.base import Message
from assistant.types import Passage, Turn

ANSWER_STOP = ("\nQuestion:", "\n\n\n", "<end_of_turn>", "<|im_end|>")
REWRITE_STOP = ("\n", "<end_of_turn>", "<|im_end|>")
_CHARS_PER_TOKEN = 3.5        # conservative for English news text
_PROMPT_OVERHEAD_TOKENS = 260  # instructions, example, question and cue
_MIN_PASSAGE_CHARS = 200

ANSWER_SYSTEM = (
    "You answer questions using only the numbered sources below. After every sentence, cite the source "
    "that supports it as [n]. Copy names and figures exactly as the sources give them. If the sources "
    "disagree, prefer the newest source (see the dates) and say that the sources differ. If the sources "
    "do not contain the answer, say: The documents don't answer this question."
)
_ANSWER_EXAMPLE = (
    "Example:\n[1] Harbour report (2021-03-02): The ferry leaves from Pier 4 at 9:00 every weekday.\n"
    "Question: Where does the ferry leave from?\nAnswer: The ferry leaves from Pier 4 [1]."
)
REWRITE_SYSTEM = (
    "Rewrite the follow-up question so that it can be understood without the conversation: replace "
    "pronouns and vague references with the names they refer to. Keep it one short question."
)
_REWRITE_EXAMPLE = (
    "Conversation:\nQ: Who designed the Eiffel Tower?\nA: Gustave Eiffel's company designed it.\n"
    "Follow-up: When was it finished?\nStandalone question: When was the Eiffel Tower finished?"
)


def format_date(passage: Passage) -> str:
    return passage.date.isoformat() if passage.date else "undated"


def passage_char_budget(n_passages: int, n_ctx: int, max_tokens: int) -> int:
    """Characters each passage may take so that prompt + answer fit the model's context window."""
    tokens = max(0, n_ctx - max_tokens - _PROMPT_OVERHEAD_TOKENS)
    return max(_MIN_PASSAGE_CHARS, int(tokens * _CHARS_PER_TOKEN / max(1, n_passages)))


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut[: cut.rfind(" ")] + " ..." if " " in cut else cut


def number_passages(passages: Sequence[Passage], char_budget: int) -> str:
    return "\n".join(f"[{i}] {p.title} ({format_date(p)}): {_clip(p.text, char_budget)}"
                     for i, p in enumerate(passages, start=1))


def answer_messages(question: str, passages: Sequence[Passage], *, n_ctx: int, max_tokens: int,
                    disagreement: str | None = None) -> list[Message]:
    """System instructions, then the numbered sources, the question and the 'Answer:' cue."""
    sources = number_passages(passages, passage_char_budget(len(passages), n_ctx, max_tokens))
    hint = f"\nNote: {disagreement} Prefer the newest source and say that the sources differ." if disagreement else ""
    user = f"{_ANSWER_EXAMPLE}\n\nSources:\n{sources}{hint}\n\nQuestion: {question}\nAnswer:"
    return [{"role": "system", "content": ANSWER_SYSTEM}, {"role": "user", "content": user}]


def rewrite_messages(message: str, history: Sequence[Turn], *, max_turns: int = 3, answer_chars: int = 300) -> list[Message]:
    turns = "\n".join(f"Q: {t.standalone_question or t.question}\nA: {_clip(t.answer, answer_chars)}"
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
