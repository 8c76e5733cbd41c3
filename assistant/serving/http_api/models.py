"""Request and response bodies of the HTTP API.

The chat-completion shapes follow OpenAI's, so its clients parse them; what an OpenAI answer has
no field for (structured citations, the abstention flag, the confidence) rides in extra top-level
fields, which OpenAI's Python client keeps (`response.model_extra`, `.to_dict()`)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictInt,
    model_serializer,
)

from assistant.types import Citation, Passage, Turn


class _Lenient(BaseModel):
    # OpenAI clients send fields that mean nothing to an extractive answerer (temperature,
    # max_tokens, user, ...): they are accepted and ignored.
    model_config = ConfigDict(extra="ignore")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Filters(BaseModel):
    # Strict: JSON `true` or "5" is a client's mistake, not a request for 1 or 5 passages.
    top_k: StrictInt | None = Field(None, description="Passages handed to the answerer (default: the server's setting).")
    sources: list[str] | None = Field(None, description="Only these documents (their `source`).")
    date_from: dt.date | None = Field(None, description="Only documents dated on/after this day.")
    date_to: dt.date | None = Field(None, description="Only documents dated on/before this day.")


# -- requests ------------------------------------------------------------------------------------------
class ContentPart(_Lenient):
    type: str
    text: str | None = None


class ChatMessage(_Lenient):
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[ContentPart] | None = None


class StreamOptions(_Lenient):
    include_usage: StrictBool = Field(False, description="End the stream with a chunk holding `usage` and no choices.")


class ChatCompletionRequest(_Lenient, _Filters):
    """OpenAI's request; `top_k`, `sources`, `date_from`, `date_to` are ours (the client's `extra_body=`)."""

    model: str = Field(description="The collection to answer from (GET /v1/models lists them).")
    messages: list[ChatMessage]
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    # Checked though an extractive answer ignores them: a wrong type or range is the client's bug to see.
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    max_tokens: StrictInt | None = Field(None, ge=1)
    n: StrictInt | None = Field(None, ge=1, le=1, description="One answer per request: leave it out or send 1.")


class AskRequest(_Strict, _Filters):
    question: str
    history: list[Turn] = Field(default_factory=list, description="Earlier turns, oldest first.")
    collection: str | None = Field(None, description="Default: the collection the server was started with.")


class RetrieveRequest(_Strict, _Filters):
    query: str
    top_k: StrictInt | None = Field(None, description="Passages returned (default 10).")
    collection: str | None = None


# -- responses -----------------------------------------------------------------------------------------
_Item = TypeVar("_Item", bound=BaseModel)


class _ListOf(BaseModel, Generic[_Item]):
    """OpenAI's list envelope, `{"object": "list", "data": [...]}`: a subclass names the item type and
    adds its own fields (after `data`), e.g. the collection listed."""

    object: Literal["list"] = "list"
    data: list[_Item]


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "assistant"


class ModelList(_ListOf[ModelCard]):
    pass


class RetrieveResponse(BaseModel):
    collection: str
    query: str
    passages: list[Passage]


class SkippedFile(BaseModel):
    name: str
    reason: str


class DocumentsResponse(BaseModel):
    """What `POST /v1/documents` indexed: sources are `upload:<file name>`."""

    collection: str
    added: list[str]
    changed: list[str]
    unchanged: int
    skipped: list[SkippedFile]
    chunks: int = Field(description="Chunks in the collection after the upload.")


class DocumentInfo(BaseModel):
    """One uploaded document of a collection."""

    name: str
    source: str = Field(description="Its source in answers' citations: `upload:<name>`.")
    size: int = Field(description="Bytes.")
    modified: str = Field(description="When it was uploaded (ISO 8601, UTC).")
    title: str | None = None
    chunks: int = Field(0, description="Chunks indexed from it (0 while not indexed).")
    quarantined: str | None = Field(None, description="Why it stopped loading and was set aside; null when it is fine.")


class DocumentList(_ListOf[DocumentInfo]):
    collection: str


class CollectionInfo(BaseModel):
    """One built collection of the store."""

    name: str = Field(description="What `model`, `collection` and `?collection=` take.")
    default: bool = Field(description="The served collection: questions naming none go to it.")
    documents: int
    chunks: int
    uploads: int = Field(description="Uploaded files among its documents.")
    updated: str | None = Field(None, description="When its index was last written (ISO 8601, UTC).")
    problem: str | None = Field(None, description="Why its index cannot be read; null when it is fine.")


class CollectionList(_ListOf[CollectionInfo]):
    default: str


class IndexedDocumentInfo(BaseModel):
    """One indexed document of a collection (corpus or upload)."""

    source: str = Field(description="Its source in answers' citations.")
    title: str
    date: str | None = Field(None, description="Its date (YYYY-MM-DD), null when it has none.")
    chunks: int
    upload: str | None = Field(None, description="The uploaded file it came from (what DELETE /v1/documents/{name} "
                                                 "takes); null for a corpus document.")


class CollectionDocumentList(_ListOf[IndexedDocumentInfo]):
    collection: str


class RemovedResponse(BaseModel):
    """What `DELETE /v1/documents/{name}` removed."""

    collection: str
    removed: list[str] = Field(description="Sources whose chunks left the index.")
    chunks: int = Field(description="Chunks in the collection after the removal.")


class ApiCitation(BaseModel):
    """One `[n]` of the answer text: the passage it points at and the exact quoted span in it."""

    n: int
    source: str
    title: str
    date: dt.date | None
    quote: str
    start: int = Field(description="Offset of `quote` in `passage` (-1 when not verbatim).")
    end: int
    chunk_id: str
    passage: str

    @classmethod
    def of(cls, citation: Citation) -> ApiCitation:
        return cls(n=citation.n, source=citation.source, title=citation.title, date=citation.date, quote=citation.quote,
                   start=citation.start, end=citation.end, chunk_id=citation.chunk_id, passage=citation.passage)


class AnswerExtras(BaseModel):
    """What an answer carries beyond its text."""

    citations: list[ApiCitation]
    abstained: bool
    confidence: float | None
    short_answer: str | None
    notes: list[str]
    unsupported: list[str] = Field(description="Generated sentences no cited passage supports.")
    standalone_question: str


class Usage(BaseModel):
    """OpenAI's token counts: tokens a language model read and wrote for the response (see
    openai_shape.usage_of for what is counted)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class _ChatCompletionBody(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    system_fingerprint: str = Field(description="The answer's config_hash (settings + index contents).")
    choices: list[Choice]
    usage: Usage


class ChatCompletion(AnswerExtras, _ChatCompletionBody):
    """OpenAI's chat.completion with the answer's extras after its own fields."""


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None

    @model_serializer(mode="wrap")
    def _only_what_is_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # OpenAI leaves out what a delta does not change; the final chunk's delta is {}.
        return {key: value for key, value in handler(self).items() if value is not None}


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop"] | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    system_fingerprint: str | None = None
    choices: list[ChunkChoice]
    # Sent only when the request asked for it (stream_options.include_usage): null but on the last chunk.
    usage: Usage | None = None


class FinalChunk(AnswerExtras, ChatCompletionChunk):
    """The last chunk of a stream: the answer's extras, and `text`, the validated answer (a generated
    answer corrected after it streamed differs from the streamed text; an extractive one never does)."""

    text: str
