"""The typed values that cross module boundaries. All immutable."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Document(_Frozen):
    """One source document after loading and cleaning."""

    source: str = Field(description="Path relative to the corpus root, or the record id for JSONL input.")
    title: str
    date: dt.date | None = None
    text: str
    content_hash: str = Field(description="sha256 of the cleaned text and metadata; drives incremental indexing.")


class Chunk(_Frozen):
    """A piece of a document as stored in the index."""

    chunk_id: str = Field(description="Stable id: '<source>#<document content hash prefix>:<index>'.")
    source: str
    title: str
    date: dt.date | None = None
    index: int
    text: str


class Passage(_Frozen):
    """A retrieved chunk with its scores."""

    chunk_id: str
    source: str
    title: str
    date: dt.date | None = None
    text: str
    score: float = Field(description="Final ranking score (higher is better).")
    scores: dict[str, float] = Field(default_factory=dict, description="Per-signal scores: dense, bm25, fused, rerank...")

    @classmethod
    def of(cls, chunk: Chunk, score: float, scores: dict[str, float] | None = None) -> Passage:
        """The stored chunk as a passage with these scores."""
        return cls(chunk_id=chunk.chunk_id, source=chunk.source, title=chunk.title, date=chunk.date, text=chunk.text,
                   score=score, scores=dict(scores or {}))


class Citation(_Frozen):
    """One `[n]` marker in an answer, resolved to the passage and exact span it points at."""

    n: int
    source: str
    title: str
    date: dt.date | None = None
    quote: str = Field(description="The exact cited span, verbatim from `passage`.")
    passage: str
    chunk_id: str
    start: int = Field(-1, description="Character offset of `quote` in `passage` (-1 when the quote is not verbatim).")
    end: int = -1
    support: float | None = Field(None, description="Lexical support of the cited sentence by the passage (generative answers).")


class TokenUsage(_Frozen):
    """Tokens a language model read (the prompt) and wrote (the completion) for one answer: zeros where
    no model ran (an extractive answer quotes) or where the model's backend did not say."""

    prompt_tokens: int = Field(0, ge=0)
    completion_tokens: int = Field(0, ge=0)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


AnswerKind = Literal["answer", "abstention", "small_talk", "clarification"]
Rating = Literal["up", "down"]


class Feedback(_Frozen):
    """A reader's verdict on one answer: thumbs up or down, and an optional comment (kept with the chat)."""

    rating: Rating
    comment: str = ""


class Turn(_Frozen):
    """One exchange of a conversation, with what was shown of its answer (so a saved chat shows it again)."""

    question: str
    answer: str
    standalone_question: str | None = None
    citations: tuple[Citation, ...] = Field((), description="The answer's citations (kept so a saved chat shows its sources).")
    kind: AnswerKind = "answer"
    short_answer: str | None = None
    confidence: float | None = None
    notes: tuple[str, ...] = ()
    unsupported: tuple[str, ...] = ()
    answerer: str = ""
    feedback: Feedback | None = Field(None, description="The reader's rating of this answer, if any.")


class Answer(_Frozen):
    """What `ask()` returns: the text, its evidence, and enough provenance to reproduce it."""

    question: str
    standalone_question: str
    text: str
    citations: tuple[Citation, ...] = ()
    passages: tuple[Passage, ...] = ()
    abstained: bool = False
    kind: AnswerKind = Field("answer", description="'answer', 'abstention' (the documents don't hold it) or "
                             "'small_talk' (a greeting, thanks or meta question answered without retrieval) or 'clarification' (a question "
                             "naming the candidate documents of an underspecified turn, each cited). "
                             "Defaults from `abstained`.")
    unsupported: tuple[str, ...] = Field((), description="Generated sentences that no cited passage supports (flagged).")
    notes: tuple[str, ...] = Field((), description="Caveats shown with the answer, e.g. that sources disagree.")
    short_answer: str | None = Field(None, description="The phrase that answers the question (a substring of the first "
                                     "cited quote), or None when the question wants an explanation.")
    confidence: float | None = Field(None, description="Calibrated probability that the answer is supported, when the "
                                     "answerer has a calibrated scorer; None otherwise.")
    answerer: str = "extractive"
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds per stage.")
    config_hash: str = ""
    usage: TokenUsage = Field(default_factory=TokenUsage, description="Tokens the language model read and wrote for "
                              "this answer (zeros for an answer no model generated).")

    @model_validator(mode="before")
    @classmethod
    def _kind_from_abstained(cls, data: Any) -> Any:
        # Answerers only say whether they abstained; the kind follows unless a caller names it.
        if isinstance(data, dict) and "kind" not in data:
            return {**data, "kind": "abstention" if data.get("abstained") else "answer"}
        return data

    @model_validator(mode="after")
    def _kind_matches_abstained(self) -> Answer:
        if self.abstained != (self.kind == "abstention"):
            raise ValueError(f"kind {self.kind!r} contradicts abstained={self.abstained}: only an abstention is abstained")
        return self

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
