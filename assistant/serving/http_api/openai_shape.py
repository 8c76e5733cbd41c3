"""Between OpenAI's chat shapes and the library's: `messages` -> (question, history), and an Answer
(or an answer stream) -> a chat.completion (or chat.completion.chunk events)."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from assistant.errors import AssistantError, InvalidArgumentError
from assistant.serving.http_api.errors import classify, error_body
from assistant.serving.http_api.models import (
    AnswerExtras,
    ApiCitation,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatMessage,
    Choice,
    ChunkChoice,
    Delta,
    FinalChunk,
    Usage,
)
from assistant.types import Answer, Turn

_IGNORED_ROLES = ("system", "developer")  # instructions for a model: the extractive answerer has none to follow


def _text(message: ChatMessage, i: int) -> str:
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    pieces = []
    for part in message.content:
        if part.type != "text" or part.text is None:
            raise InvalidArgumentError(f"messages[{i}] has a {part.type!r} content part; only text parts are understood")
        pieces.append(part.text)
    return "".join(pieces)


def conversation(messages: Sequence[ChatMessage]) -> tuple[str, tuple[Turn, ...]]:
    """The question (the last message, the user's) and the earlier user/assistant exchanges as turns.

    System messages are ignored. A question with no reply yet (two user messages in a row) becomes a
    turn with an empty answer; an assistant message before any question (a greeting) is skipped."""
    spoken = [(i, m) for i, m in enumerate(messages) if m.role not in _IGNORED_ROLES]
    if not spoken:
        raise InvalidArgumentError("messages holds no user message; send at least {'role': 'user', 'content': 'your question'}")
    last_i, last = spoken[-1]
    if last.role != "user":
        raise InvalidArgumentError(f"the last message (messages[{last_i}]) is the {last.role}'s; "
                                   "end messages with the user's question")
    turns: list[Turn] = []
    pending: str | None = None
    for i, message in spoken[:-1]:
        text = _text(message, i)
        if message.role == "user":
            if pending is not None:
                turns.append(Turn(question=pending, answer=""))
            pending = text if text.strip() else None
        elif pending is not None:
            turns.append(Turn(question=pending, answer=text))
            pending = None
    if pending is not None:
        turns.append(Turn(question=pending, answer=""))
    return _text(last, last_i), tuple(turns)


def extras(answer: Answer) -> AnswerExtras:
    return AnswerExtras(citations=[ApiCitation.of(c) for c in answer.citations], abstained=answer.abstained,
                        confidence=answer.confidence, short_answer=answer.short_answer, notes=list(answer.notes),
                        unsupported=list(answer.unsupported), standalone_question=answer.standalone_question)


@dataclass(frozen=True)
class Completion:
    """The identity one response's objects share."""

    model: str
    id: str = field(default_factory=lambda: f"chatcmpl-{secrets.token_hex(12)}")
    created: int = field(default_factory=lambda: int(time.time()))


def usage_of(answer: Answer) -> Usage:
    """The tokens a language model read and wrote for `answer`, as its backend counted them (Answer.usage):
    0 for the extractive answerer, small talk and clarifying questions, which quote or template their
    text (no model generates tokens, so 0, not a guessed word count)."""
    counts = answer.usage
    return Usage(prompt_tokens=counts.prompt_tokens, completion_tokens=counts.completion_tokens,
                 total_tokens=counts.total_tokens)


def chat_completion(answer: Answer, model: str) -> ChatCompletion:
    ident = Completion(model)
    return ChatCompletion(id=ident.id, created=ident.created, model=model, system_fingerprint=answer.config_hash,
                          choices=[Choice(message=AssistantMessage(content=answer.text))], usage=usage_of(answer),
                          **extras(answer).model_dump())


def _event(payload: dict) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


def sse_events(stream: Iterable[str | Answer], model: str, *, include_usage: bool = False) -> Iterator[str]:
    """Server-sent events for an answer stream: a role chunk, one chunk per text piece (each as the
    answerer yielded it: sentences of an extractive answer, tokens of a generated one), a final chunk
    with finish_reason 'stop' and the answer's extras, with `include_usage` a chunk with no choices
    and the `usage` (every other chunk's is null, as OpenAI's), then `[DONE]`. A library error after
    the stream began becomes an error event (OpenAI's client raises it), then `[DONE]`."""
    ident = Completion(model)

    def event(chunk: ChatCompletionChunk) -> str:
        return _event(chunk.model_dump(mode="json", exclude=None if include_usage else {"usage"}))

    def chunk(delta: Delta) -> str:
        return event(ChatCompletionChunk(id=ident.id, created=ident.created, model=model, choices=[ChunkChoice(delta=delta)]))

    yield chunk(Delta(role="assistant", content=""))
    try:
        for item in stream:
            if isinstance(item, Answer):
                yield event(FinalChunk(id=ident.id, created=ident.created, model=model, system_fingerprint=item.config_hash,
                                       choices=[ChunkChoice(delta=Delta(), finish_reason="stop")], text=item.text,
                                       **extras(item).model_dump()))
                if include_usage:
                    yield event(ChatCompletionChunk(id=ident.id, created=ident.created, model=model,
                                                    system_fingerprint=item.config_hash, choices=[], usage=usage_of(item)))
            elif item:
                yield chunk(Delta(content=item))
    except AssistantError as exc:
        _, kind, code = classify(exc)
        yield _event(error_body(str(exc), kind, code))
    yield "data: [DONE]\n\n"
