"""Our assistant as a llama-index chat engine and query engine.

Answers are ours (extractive or generative, validated citations, abstention); llama-index sees a
response whose `source_nodes` are the cited passages and whose `metadata` says whether the
assistant abstained, how confident it is, and the short answer. The conversation is kept here
(follow-ups are rewritten into standalone questions by the engine, as in a ChatSession)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.base.response.schema import Response
from llama_index.core.callbacks import CallbackManager
from llama_index.core.chat_engine.types import (
    AgentChatResponse,
    BaseChatEngine,
    StreamingAgentChatResponse,
)
from llama_index.core.prompts.mixin import PromptMixinType
from llama_index.core.schema import NodeWithScore, QueryBundle

from assistant.arguments import DateLike, SourcesLike, make_filter
from assistant.config import Settings
from assistant.conversation.turns import ask_turn, stream_turn
from assistant.engine import AnswerEngine
from assistant.errors import InvalidArgumentError
from assistant.integrations.llama_index.binding import resolve_engine
from assistant.integrations.llama_index.nodes import (
    answer_metadata,
    citation_nodes,
    messages_from_turns,
    passage_node,
    turns_from_messages,
)
from assistant.types import Answer, Turn
from assistant.validation import validate_question, validate_top_k

_MAX_TURNS_KEPT = 20
_END = object()


@dataclass
class AssistantStreamingChatResponse(StreamingAgentChatResponse):
    """A streamed answer. Iterate `response_gen` (or `async_response_gen()`) for the text as it is
    produced; when the stream ends, `response` holds the final validated text (a generative
    answer's unsupported sentences may differ from what streamed), and `source_nodes`, `metadata`
    and `answer` are filled in. `str(response)` finishes the stream first."""

    metadata: dict[str, Any] | None = None
    answer: Answer | None = None
    pieces: Iterator[str] | None = field(default=None, repr=False)

    def finish(self, answer: Answer) -> None:
        self.answer = answer
        self.response = answer.text
        self.source_nodes = citation_nodes(answer)
        self.metadata = answer_metadata(answer)
        self.is_done = True

    @property
    def response_gen(self) -> Generator[str, None, None]:
        # Our stream is consumed directly in the caller's thread (no writer thread or queue).
        for delta in self.pieces or ():
            self.unformatted_response += delta
            yield delta

    async def async_response_gen(self) -> AsyncGenerator[str, None]:
        pieces = iter(self.response_gen)
        while (delta := await asyncio.to_thread(next, pieces, _END)) is not _END:
            yield delta  # type: ignore[misc]

    def __str__(self) -> str:
        if not self.is_done:
            for _ in self.response_gen:
                pass
        return self.response


class AssistantChatEngine(BaseChatEngine):
    """chat(message) -> AgentChatResponse; stream_chat(message) -> AssistantStreamingChatResponse.

    `chat_history=` (a list of llama-index ChatMessage) replaces the conversation so far, as
    llama-index's own chat engines do; `reset()` forgets it. Engines built from the same settings
    share the loaded model and index but never history."""

    def __init__(self, engine: AnswerEngine | None = None, *, settings: Settings | None = None, top_k: int | None = None,
                 sources: SourcesLike = None, date_from: DateLike = None, date_to: DateLike = None,
                 chat_history: Sequence[ChatMessage] | None = None, max_turns: int = _MAX_TURNS_KEPT) -> None:
        self.top_k = validate_top_k(top_k) if top_k is not None else None
        self.filters = make_filter(sources, date_from, date_to)
        if isinstance(max_turns, bool) or not isinstance(max_turns, int) or max_turns < 1:
            raise InvalidArgumentError(f"max_turns {max_turns!r} is not a whole number of turns; pass max_turns of 1 or more")
        self.max_turns = max_turns
        self._turns: list[Turn] = turns_from_messages(chat_history) if chat_history is not None else []
        self._lock = threading.Lock()
        self.engine = resolve_engine(engine, settings)

    # -- conversation state ---------------------------------------------------------------------
    @property
    def chat_history(self) -> list[ChatMessage]:
        with self._lock:
            return messages_from_turns(self._turns)

    def reset(self) -> None:
        with self._lock:
            self._turns = []

    def _begin(self, message: str, chat_history: Sequence[ChatMessage] | None) -> tuple[str, tuple[Turn, ...]]:
        """Check the message and settle the history this turn is answered in."""
        question = validate_question(message, self.engine.settings.answer.max_question_chars)
        replacement = turns_from_messages(chat_history) if chat_history is not None else None
        with self._lock:
            if replacement is not None:
                self._turns = replacement
            return question, tuple(self._turns)

    def _record(self, answer: Answer) -> None:
        with self._lock:
            self._turns.append(Turn(question=answer.question, answer=answer.text,
                                    standalone_question=answer.standalone_question))
            del self._turns[:-self.max_turns]

    # -- answering ------------------------------------------------------------------------------
    def chat(self, message: str, chat_history: list[ChatMessage] | None = None) -> AgentChatResponse:
        question, turns = self._begin(message, chat_history)
        answer = ask_turn(self.engine, question, top_k=self.top_k, history=turns, filters=self.filters)
        self._record(answer)
        return AgentChatResponse(response=answer.text, source_nodes=citation_nodes(answer),
                                 metadata=answer_metadata(answer))

    def stream_chat(self, message: str, chat_history: list[ChatMessage] | None = None) -> AssistantStreamingChatResponse:
        """Bad arguments raise here; the turn is recorded when the stream has been read to its end."""
        question, turns = self._begin(message, chat_history)
        response = AssistantStreamingChatResponse(is_writing_to_memory=False)
        response.pieces = self._stream(response, question, turns)
        return response

    def _stream(self, response: AssistantStreamingChatResponse, question: str,
                turns: tuple[Turn, ...]) -> Iterator[str]:
        for item in stream_turn(self.engine, question, top_k=self.top_k, history=turns, filters=self.filters):
            if isinstance(item, Answer):
                response.finish(item)
                self._record(item)
            else:
                yield item

    async def achat(self, message: str, chat_history: list[ChatMessage] | None = None) -> AgentChatResponse:
        return await asyncio.to_thread(self.chat, message, chat_history)

    async def astream_chat(self, message: str,
                           chat_history: list[ChatMessage] | None = None) -> AssistantStreamingChatResponse:
        # Nothing runs until the stream is read; async_response_gen() reads it off the event loop.
        return self.stream_chat(message, chat_history)


class AssistantQueryEngine(BaseQueryEngine):
    """query(question) -> Response(text, source_nodes = the cited passages, metadata); one
    question at a time, no history. `retrieve()` returns the passages an answer would use."""

    def __init__(self, engine: AnswerEngine | None = None, *, settings: Settings | None = None, top_k: int | None = None,
                 sources: SourcesLike = None, date_from: DateLike = None, date_to: DateLike = None,
                 callback_manager: CallbackManager | None = None) -> None:
        self.top_k = validate_top_k(top_k) if top_k is not None else None
        self.filters = make_filter(sources, date_from, date_to)
        self.engine = resolve_engine(engine, settings)
        super().__init__(callback_manager=callback_manager)

    def _get_prompt_modules(self) -> PromptMixinType:
        return {}  # no llama-index prompts: answers come from our answerer

    def _query(self, query_bundle: QueryBundle) -> Response:
        answer = ask_turn(self.engine, query_bundle.query_str, top_k=self.top_k, filters=self.filters)
        return Response(response=answer.text, source_nodes=citation_nodes(answer), metadata=answer_metadata(answer))

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        return await asyncio.to_thread(self._query, query_bundle)

    def retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        top_k = self.top_k if self.top_k is not None else self.engine.settings.retrieval.top_k
        return [passage_node(p) for p in self.engine.retrieve(query_bundle.query_str, top_k=top_k, filters=self.filters)]
