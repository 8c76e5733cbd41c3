"""Generative answerers: a language model writes the answer from numbered passages, and the answer
is validated before anyone sees it as final.

- "Cannot answer" without calling the model: when the extractive evidence check finds no sentence
  good enough, abstain without generating.
- Dated sources: every passage is shown with its date and the instructions ask for the newest when
  sources disagree (a detector of disagreeing figures was removed: it fired on no report question,
  evals/measure_fitted_rules.py).
- Output validation (assistant.answer.validation): invalid [n] dropped, unsupported sentences
  flagged, citations renumbered; no valid citation -> AnswerSettings.fallback.
- Backend failures (BackendError): raised, or the configured fallback with a note naming the model,
  where it lives and the error (shown by the CLI, the page and the API's `notes`).
- Token counts: the draft carries the tokens the model read and wrote (`usage`) as its backend
  reports them, a fallback after generation too (the model ran); zeros where it did not run.

Follow-ups arrive already rewritten (assistant.conversation uses this answerer's backend for that)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from assistant.answer.answer_types import expected_type, offers_type
from assistant.answer.base import ABSTAIN_TEXT, AnswerDraft, AnswerRequest, abstention
from assistant.answer.extractive import ExtractiveAnswerer, ScoredSentence
from assistant.answer.prompts import (
    ANSWER_STOP,
    COMPLETION_ANSWER_PREFIX,
    COMPLETION_ANSWER_STOP,
    answer_messages,
    completion_answer_prompt,
)
from assistant.answer.validation import validate_answer
from assistant.config import Settings
from assistant.errors import BackendError
from assistant.llm import LLMBackend, make_backend
from assistant.llm.base import Prompt, stream_usage
from assistant.types import Passage

# Completion prompts (base models) carry only the best sentences of the best passages: small models
# answer better from a short prompt, and prompt reading dominates latency on a CPU.
_COMPLETION_PASSAGES = 3
_COMPLETION_SENTENCES = 4
_COMPLETION_SENTENCES_PER_PASSAGE = 2


class GenerativeAnswerer:
    """The Answerer protocol over an LLMBackend, validated against the same passages as the extractive one."""

    def __init__(self, settings: Settings, backend: LLMBackend, fallback: ExtractiveAnswerer) -> None:
        self._settings = settings
        self._backend = backend
        self._fallback = fallback
        self.name = backend.name

    @property
    def backend(self) -> LLMBackend:
        return self._backend

    # -- answering ------------------------------------------------------------------------------
    def answer(self, request: AnswerRequest) -> AnswerDraft:
        draft: AnswerDraft | None = None
        for piece in self.stream(request):
            if isinstance(piece, AnswerDraft):
                draft = piece
        assert draft is not None
        return draft

    def stream(self, request: AnswerRequest) -> Iterator[str | AnswerDraft]:
        ranked = self._fallback.score_sentences(request)
        if not ranked or ranked[0].score < self._settings.answer.abstain_threshold:
            draft = abstention(ABSTAIN_TEXT)  # the passages don't hold the answer: don't ask the model
            yield draft.text
            yield draft
            return
        passages = request.passages
        llm = self._settings.llm
        prompt: Prompt
        prefix = ""  # the start of the answer that the prompt already holds
        if self._uses_completion():
            # Base model: a short few-shot prompt with the best sentences only, best passage first;
            # its [n] number the passages shown, so the answer is validated against those.
            excerpts = _best_excerpts(ranked)
            passages = tuple(p for p, _ in excerpts)
            prompt = completion_answer_prompt(request.question, excerpts)
            stop = COMPLETION_ANSWER_STOP
            prefix = COMPLETION_ANSWER_PREFIX
        else:
            prompt = answer_messages(request.question, passages, n_ctx=llm.n_ctx, max_tokens=llm.max_tokens)
            stop = ANSWER_STOP
        pieces: list[str] = []
        generated: Iterator[str] = iter(())
        try:
            generated = self._backend.stream(prompt, max_tokens=llm.max_tokens, stop=stop)
            for piece in generated:
                if not pieces and prefix:
                    piece = prefix + piece.lstrip()
                pieces.append(piece)
                yield piece
            raw = "".join(pieces).strip()
            if not raw:
                raise BackendError(f"{self._backend.description} returned an empty answer; try another model "
                                   "or check the server's logs")
        except BackendError as exc:
            if self._settings.answer.on_backend_error == "raise":
                raise
            # The counts of a model that ran but answered nothing usable; zeros where it failed before the end.
            yield dataclasses.replace(self._fall_back(request, self._failure_note(exc)), usage=stream_usage(generated))
            return
        yield dataclasses.replace(self._validated(request, raw, passages), usage=stream_usage(generated))

    def _uses_completion(self) -> bool:
        """Whether the backend reads a plain completion prompt (a base model without a chat template).
        Errors while finding out (e.g. the model file fails to load) surface later, from stream(),
        where they are handled."""
        try:
            return not self._backend.uses_chat()
        except BackendError:
            return False

    def _validated(self, request: AnswerRequest, raw: str, passages: tuple[Passage, ...] | None = None) -> AnswerDraft:
        """`passages`: the passages as numbered in the prompt (request.passages unless it showed others)."""
        result = validate_answer(raw, request.passages if passages is None else passages, self._settings.answer.min_support)
        if not result.has_valid_citation:
            return self._fall_back(request, "The generated answer cited no passage that supports it; this is the fallback answer.")
        kind = expected_type(request.question)
        supported = [s.text for s in result.sentences if s.supported]
        if kind is not None and not any(offers_type(text, kind, request.question) for text in supported):
            # Lexical support alone passes a copied phrase that misses the point (a "who" question answered
            # with the name of an organisation copied from the passage); it must offer what is asked for.
            return self._fall_back(request, f"The generated answer does not give the {kind} the question asks for; "
                                            "this is the fallback answer.")
        notes: list[str] = []
        if result.dropped:
            notes.append(f"Citation numbers that matched no passage were removed: {', '.join(f'[{n}]' for n in result.dropped)}.")
        if result.unsupported:
            notes.append(f"{len(result.unsupported)} sentence(s) are not supported by the passage they cite.")
        return AnswerDraft(text=result.text, citations=result.citations, unsupported=result.unsupported, notes=tuple(notes))

    def _failure_note(self, exc: BackendError) -> str:
        """Says, with the answer, that the configured model (and where it lives) failed: a fallback must
        never pass for the model's answer, nor hide that the question was sent somewhere."""
        instead = ("the extractive fallback, quoted from the passages" if self._settings.answer.fallback == "extractive"
                   else "the fallback abstention")
        return f"The language model ({self._backend.description}) failed ({exc.problem}); this answer is {instead}, not generated."

    def _fall_back(self, request: AnswerRequest, note: str) -> AnswerDraft:
        if self._settings.answer.fallback == "extractive":
            draft = self._fallback.answer(request)
        else:
            draft = abstention(ABSTAIN_TEXT)
        return dataclasses.replace(draft, notes=(*draft.notes, note))


def _best_excerpts(ranked: list[ScoredSentence]) -> list[tuple[Passage, str]]:
    """(passage, excerpt) for a completion prompt: the best-scored sentences, at most _COMPLETION_SENTENCES
    of them from at most _COMPLETION_PASSAGES passages, best passage first, each passage's sentences in
    document order."""
    chosen: dict[str, list[ScoredSentence]] = {}
    total = 0
    for sentence in ranked:
        if total >= _COMPLETION_SENTENCES:
            break
        picked = chosen.get(sentence.passage.chunk_id)
        if picked is None:
            if len(chosen) >= _COMPLETION_PASSAGES:
                continue
            picked = chosen[sentence.passage.chunk_id] = []
        if len(picked) < _COMPLETION_SENTENCES_PER_PASSAGE and all(s.position != sentence.position for s in picked):
            picked.append(sentence)
            total += 1
    return [(picked[0].passage, " ".join(s.text.strip() for s in sorted(picked, key=lambda s: s.position)))
            for picked in chosen.values()]


def make_generative_answerer(settings: Settings, fallback: ExtractiveAnswerer,
                             backend: LLMBackend | None = None) -> GenerativeAnswerer:
    """The answerer for ASSISTANT_ANSWERER=llamacpp|openai (the backend is built from settings.llm)."""
    kind = settings.answer.answerer
    if backend is None:
        if kind == "extractive":
            raise ValueError("make_generative_answerer needs answerer='llamacpp' or 'openai'")
        backend = make_backend(kind, settings.llm)
    return GenerativeAnswerer(settings, backend, fallback)
