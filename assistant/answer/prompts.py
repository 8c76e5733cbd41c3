"""Prompts for generative answering (the follow-up rewrite prompt is assistant.conversation.model_rewrite's).

Passages are numbered [1]..[k] with their title and date; the model is asked to cite with [n] and,
when sources disagree, to prefer the newest. Two forms of the answer prompt:

- answer_messages: system + user messages for chat models (chat template / OpenAI chat API); the
  user message ends with the cue "Answer:".
- completion_answer_prompt: one plain text for base models read through the completions API (no
  chat template, e.g. Gemma-3-270M base): made-up worked examples, then only the best sentences of
  the best passages, the question and the cue "Answer: [", so that even a 270M model starts its
  answer with a source number. Short on purpose: on a CPU, reading the prompt is most of the time."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.llm.base import Message
from assistant.types import Passage

ANSWER_STOP = ("\nQuestion:", "\n\n\n", "<end_of_turn>", "<|im_end|>")
# Completion (base-model) prompts ask for a one-line answer: stop at the line's end, before the model
# starts another passage, question or example.
COMPLETION_ANSWER_STOP = ("\n", "Question:", "<end_of_turn>", "<|im_end|>")
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
# Few-shot prompt for base models read through the completions API (no chat template): a one-line
# instruction, two made-up worked examples (not from any corpus) in exactly the layout of the real
# query, then the real numbered excerpts, the question and the "Answer: [" cue. Each example answer
# starts with the [n] of one passage and copies its key phrase, which is what validation accepts.
# The answer's opening "[" is part of the prompt (COMPLETION_ANSWER_PREFIX), so a small base model
# must pick a source number before it writes anything else: without it Gemma-3-270M never cites.
COMPLETION_ANSWER_PREFIX = "["
COMPLETION_INSTRUCTION = (
    "Answer each question with one sentence that starts with the number of a source as [n] and copies "
    "the key words of that source. If sources disagree, use the newest."
)
_COMPLETION_EXAMPLES = (
    ("[1] Harbour report (2021-03-02): The ferry leaves from Pier 4 at 9:00 every weekday. Tickets cost 5 euros.\n"
     "[2] Town council notes (2022-06-15): The new library on Elm Street opened in May 2022.",
     "When did the new library open?",
     "[2] The new library on Elm Street opened in May 2022."),
    ("[1] Farm bulletin (2020-09-01): Grain prices rose by 8 percent after the dry summer.\n"
     "[2] Harbour report (2021-03-02): The ferry leaves from Pier 4 at 9:00 every weekday.",
     "How much did grain prices rise?",
     "[1] Grain prices rose by 8 percent."),
)


def format_date(passage: Passage) -> str:
    return passage.date.isoformat() if passage.date else "undated"


def passage_char_budget(n_passages: int, n_ctx: int, max_tokens: int) -> int:
    """Characters each passage may take so that prompt + answer fit the model's context window."""
    tokens = max(0, n_ctx - max_tokens - _PROMPT_OVERHEAD_TOKENS)
    return max(_MIN_PASSAGE_CHARS, int(tokens * _CHARS_PER_TOKEN / max(1, n_passages)))


def clip_text(text: str, limit: int) -> str:
    """`text` on one line, cut at a word boundary to at most `limit` characters (plus " ...")."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut[: cut.rfind(" ")] + " ..." if " " in cut else cut


def number_passages(passages: Sequence[Passage], char_budget: int) -> str:
    return "\n".join(f"[{i}] {p.title} ({format_date(p)}): {clip_text(p.text, char_budget)}"
                     for i, p in enumerate(passages, start=1))


def answer_messages(question: str, passages: Sequence[Passage], *, n_ctx: int, max_tokens: int) -> list[Message]:
    """System instructions, then the numbered sources, the question and the 'Answer:' cue."""
    sources = number_passages(passages, passage_char_budget(len(passages), n_ctx, max_tokens))
    user = f"{_ANSWER_EXAMPLE}\n\nSources:\n{sources}\n\nQuestion: {question}\nAnswer:"
    return [{"role": "system", "content": ANSWER_SYSTEM}, {"role": "user", "content": user}]


def completion_answer_prompt(question: str, excerpts: Sequence[tuple[Passage, str]], *, title_chars: int = 60) -> str:
    """One plain-text few-shot prompt for base models: instruction, worked examples, then the real
    excerpts numbered [1]..[m] in the order given, as `[n] title (date): text`, the question and the
    cue 'Answer: [' (the generated text continues COMPLETION_ANSWER_PREFIX). The answer must be
    validated against the excerpts' passages in this order."""
    examples = "\n\n".join(f"{sources}\nQuestion: {q}\nAnswer: {a}" for sources, q, a in _COMPLETION_EXAMPLES)
    sources = "\n".join(f"[{n}] {clip_text(p.title, title_chars)} ({format_date(p)}): {' '.join(text.split())}"
                        for n, (p, text) in enumerate(excerpts, start=1))
    return f"{COMPLETION_INSTRUCTION}\n\n{examples}\n\n{sources}\nQuestion: {question}\nAnswer: {COMPLETION_ANSWER_PREFIX}"
