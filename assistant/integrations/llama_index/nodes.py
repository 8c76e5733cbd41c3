"""Our typed values as llama-index nodes and chat messages, and back.

A node's id is the chunk id, its text the chunk's text, and its metadata the facts a llama-index
user filters and cites by. Offsets, ids and quotes are hidden from the text a llama-index LLM or
embedder sees (they would only add noise there)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.schema import (
    NodeRelationship,
    NodeWithScore,
    RelatedNodeInfo,
    TextNode,
)

from assistant.errors import InvalidArgumentError
from assistant.types import Answer, Citation, Passage, Turn

# Metadata only programs need: kept out of what llama-index shows an LLM or embeds.
_HIDDEN_KEYS = ["chunk_id", "n", "quote", "start", "end"]


def _node(chunk_id: str, source: str, text: str, metadata: dict[str, Any]) -> TextNode:
    return TextNode(
        id_=chunk_id,
        text=text,
        metadata=metadata,
        excluded_llm_metadata_keys=[k for k in _HIDDEN_KEYS if k in metadata],
        excluded_embed_metadata_keys=[k for k in _HIDDEN_KEYS if k in metadata],
        # The source document is the node's ref_doc_id, so llama-index tools group nodes by document.
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=source)},
    )


def passage_node(passage: Passage) -> NodeWithScore:
    """A retrieved passage: metadata {source, title, date (ISO or None), chunk_id}, score = our ranking score."""
    metadata = {"source": passage.source, "title": passage.title,
                "date": passage.date.isoformat() if passage.date else None, "chunk_id": passage.chunk_id}
    return NodeWithScore(node=_node(passage.chunk_id, passage.source, passage.text, metadata), score=passage.score)


def citation_node(citation: Citation, score: float | None = None) -> NodeWithScore:
    """A cited passage: the passage text, plus the `[n]` it answers to and the exact quoted span
    (`quote` == text[start:end] when start >= 0)."""
    metadata = {"source": citation.source, "title": citation.title,
                "date": citation.date.isoformat() if citation.date else None, "chunk_id": citation.chunk_id,
                "n": citation.n, "quote": citation.quote, "start": citation.start, "end": citation.end}
    return NodeWithScore(node=_node(citation.chunk_id, citation.source, citation.passage, metadata), score=score)


def citation_nodes(answer: Answer) -> list[NodeWithScore]:
    """One node per citation, in `[n]` order, scored with the cited passage's retrieval score."""
    scores = {p.chunk_id: p.score for p in answer.passages}
    return [citation_node(c, scores.get(c.chunk_id)) for c in sorted(answer.citations, key=lambda c: c.n)]


def answer_metadata(answer: Answer) -> dict[str, Any]:
    """What a llama-index response's `metadata` carries; `answer` is the full typed Answer."""
    return {
        "abstained": answer.abstained,
        "confidence": answer.confidence,
        "short_answer": answer.short_answer,
        "standalone_question": answer.standalone_question,
        "notes": list(answer.notes),
        "unsupported": list(answer.unsupported),
        "config_hash": answer.config_hash,
        "answer": answer,
    }


def turns_from_messages(messages: Sequence[ChatMessage]) -> list[Turn]:
    """A llama-index chat history as our turns: each user message with the assistant message that
    follows it. System and tool messages carry no turn; a question left unanswered is dropped."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise InvalidArgumentError(
            f"chat_history is a {type(messages).__name__}, not a list of llama-index ChatMessage; pass a list or None")
    turns: list[Turn] = []
    question: str | None = None
    for i, message in enumerate(messages):
        if not isinstance(message, ChatMessage):
            raise InvalidArgumentError(
                f"chat_history[{i}] is a {type(message).__name__}, not a llama-index ChatMessage; "
                "pass ChatMessage(role='user' | 'assistant', content=...)")
        text = message.content or ""
        if message.role == MessageRole.USER:
            question = text if text.strip() else None
        elif message.role == MessageRole.ASSISTANT and question is not None:
            turns.append(Turn(question=question, answer=text))
            question = None
    return turns


def messages_from_turns(turns: Sequence[Turn]) -> list[ChatMessage]:
    messages: list[ChatMessage] = []
    for turn in turns:
        messages.append(ChatMessage(role=MessageRole.USER, content=turn.question))
        messages.append(ChatMessage(role=MessageRole.ASSISTANT, content=turn.answer))
    return messages
