"""The learned short-answer reader: which phrase of a quoted sentence answers the question?

An extractive question-answering head (start/end logits per word piece) on the packaged
all-MiniLM-L6-v2, trained by `evals/train_short_answer.py` on (question, answer sentence) pairs of
the SQuAD dev *fit* articles. It reads one sentence, the one being quoted, so the phrase it returns
is a substring of a cited quote by construction. Weights ship in `assistant/models/short_answer/`
and load from that folder only (offline, like the embedder and the answer scorer); by default they
run on ONNX Runtime (`assistant.inference`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from assistant.answer.scorer import require_model_files, require_question
from assistant.config import InferenceSettings
from assistant.errors import MissingExtraError
from assistant.inference.onnx_session import OnnxModel, load_tokenizer

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

DEFAULT_READER_DIR = Path(__file__).resolve().parent.parent / "models" / "short_answer"
# Question + sentence in word pieces, as for the answer scorer: a longer sentence loses its tail.
MAX_LENGTH = 160
# SQuAD answers are short: of the 3,077 training answers (fit split), 95% are at most 9 word
# pieces long and 98.9% at most 16.
MAX_ANSWER_PIECES = 16


@dataclass(frozen=True)
class Span:
    text: str
    start: int  # character offsets in the sentence
    end: int
    score: float  # start logit + end logit


class SpanReader(Protocol):
    def read(self, question: str, sentence: str, *, limit: int = 1) -> list[Span]:
        """The `limit` best answer spans of `sentence` for `question`, best first, none overlapping a
        better one (empty when the sentence is empty)."""


def best_spans(sentence: str, starts: list[float], ends: list[float], offsets: list[tuple[int, int]],
               in_sentence: list[int], *, limit: int, max_answer_pieces: int) -> list[Span]:
    """The `limit` best non-overlapping (start piece, end piece) spans inside the sentence's pieces."""
    if not in_sentence:
        return []
    last = in_sentence[-1]  # the sentence's pieces are one contiguous run
    pairs = sorted(((starts[i] + ends[j], i, j) for i in in_sentence
                    for j in range(i, min(i + max_answer_pieces, last + 1))), key=lambda t: (-t[0], t[1], t[2]))
    found: list[Span] = []
    for score, i, j in pairs:
        start, end = offsets[i][0], offsets[j][1]
        if all(end <= f.start or start >= f.end for f in found):
            found.append(Span(sentence[start:end], start, end, score))
            if len(found) >= limit:
                break
    return found


class TransformerSpanReader:
    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, *, max_length: int = MAX_LENGTH,
                 max_answer_pieces: int = MAX_ANSWER_PIECES) -> None:
        self._model = model.eval()
        self._tokenizer = tokenizer
        self._max_length = max_length
        self._max_answer = max_answer_pieces

    def read(self, question: str, sentence: str, *, limit: int = 1) -> list[Span]:
        import torch

        require_question(question)
        if not sentence.strip():
            return []
        encoded = self._tokenizer(question, sentence, truncation="only_second", max_length=self._max_length,
                                  return_offsets_mapping=True, return_tensors="pt")
        offsets = encoded.pop("offset_mapping")[0].tolist()
        in_sentence = [i for i, s in enumerate(encoded.sequence_ids(0)) if s == 1]
        if not in_sentence:
            return []
        with torch.inference_mode():
            output = self._model(**encoded)
        return best_spans(sentence, output.start_logits[0].tolist(), output.end_logits[0].tolist(), offsets,
                          in_sentence, limit=limit, max_answer_pieces=self._max_answer)


class OnnxSpanReader:
    """The same reader exported to ONNX and run by ONNX Runtime (same spans as torch's)."""

    def __init__(self, folder: Path, settings: InferenceSettings, *, max_length: int = MAX_LENGTH,
                 max_answer_pieces: int = MAX_ANSWER_PIECES) -> None:
        require_model_files(folder, "short-answer reader", "evals/train_short_answer.py")
        self._tokenizer = load_tokenizer(folder, max_length=max_length, strategy="only_second", pad=False)
        self._model = OnnxModel(folder, "question-answering", settings, role="short_answer")
        self._max_answer = max_answer_pieces

    def read(self, question: str, sentence: str, *, limit: int = 1) -> list[Span]:
        require_question(question)
        if not sentence.strip():
            return []
        encoding = self._tokenizer.encode(question, sentence)
        in_sentence = [i for i, s in enumerate(encoding.sequence_ids) if s == 1]
        if not in_sentence:
            return []
        starts, ends = self._model.run([encoding])
        return best_spans(sentence, starts[0].tolist(), ends[0].tolist(), encoding.offsets, in_sentence,
                          limit=limit, max_answer_pieces=self._max_answer)


def make_span_reader(path: Path | None = None, *, inference: InferenceSettings | None = None) -> SpanReader:
    """The shipped reader, or one saved by the training script in `path`, on the configured runtime."""
    folder = Path(path) if path is not None else DEFAULT_READER_DIR
    inference = inference or InferenceSettings()
    if inference.runtime == "onnx":
        return OnnxSpanReader(folder, inference)
    require_model_files(folder, "short-answer reader", "evals/train_short_answer.py")
    try:
        import torch
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise MissingExtraError("The short-answer reader", "all", "transformers") from exc
    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModelForQuestionAnswering.from_pretrained(str(folder), local_files_only=True, dtype=torch.float32)
    return TransformerSpanReader(model, tokenizer)
