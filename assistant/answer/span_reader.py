"""The learned short-answer reader: which phrase of a quoted sentence answers the question?

An extractive question-answering head (start/end logits per word piece) on the packaged
all-MiniLM-L6-v2, trained by `evals/train_short_answer.py` on (question, answer sentence) pairs of
the SQuAD dev *fit* articles. It reads one sentence, the one being quoted, so the phrase it returns
is a substring of a cited quote by construction. Weights ship in `assistant/models/short_answer/`
and load from that folder only (offline, like the embedder and the answer scorer).

The same head trained with no-answer examples as well (`assistant/models/no_answer_reader/`) is
the no-answer reader: `Span.margin`, its preference for the best phrase over "no answer", is a
feature of the learned scorer's calibrated confidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from assistant.answer.scorer import require_model_files
from assistant.errors import InvalidArgumentError, MissingExtraError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

DEFAULT_READER_DIR = Path(__file__).resolve().parent.parent / "models" / "short_answer"
# The same head trained with SQuAD 2.0-style no-answer examples: its margin is a confidence feature.
DEFAULT_NO_ANSWER_READER_DIR = DEFAULT_READER_DIR.parent / "no_answer_reader"
# Question + sentence in word pieces, as for the answer scorer: a longer sentence loses its tail.
MAX_LENGTH = 160
# SQuAD answers are short: of the 3,077 training answers (fit split), 95% are at most 9 word
# pieces long and 98.9% at most 16.
MAX_ANSWER_PIECES = 16
# The confidence model's reader margin for a sentence with no word pieces left to read (empty after
# truncation): as far below "no answer" as the reader ever puts a real span (measured on the
# calibration candidates: margins from -21.0 to 7.7, 1st percentile -17.3, median -8.3).
NO_SPAN_MARGIN = -20.0


@dataclass(frozen=True)
class Span:
    text: str
    start: int  # character offsets in the sentence
    end: int
    score: float  # start logit + end logit
    no_answer: float = 0.0  # the same at the [CLS] piece: the reader's "this sentence holds no answer"

    @property
    def margin(self) -> float:
        """How much the reader prefers this span to no answer (a reader trained without no-answer
        examples has an uninformative [CLS] score)."""
        return self.score - self.no_answer


class SpanReader(Protocol):
    def read(self, question: str, sentence: str) -> Span | None:
        """The best answer span of `sentence` for `question` (None when the sentence is empty)."""


class TransformerSpanReader:
    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, *, max_length: int = MAX_LENGTH,
                 max_answer_pieces: int = MAX_ANSWER_PIECES) -> None:
        self._model = model.eval()
        self._tokenizer = tokenizer
        self._max_length = max_length
        self._max_answer = max_answer_pieces

    def read(self, question: str, sentence: str) -> Span | None:
        import torch

        if not isinstance(question, str) or not question.strip():
            raise InvalidArgumentError(f"question must be a non-empty string, got {question!r}")
        if not sentence.strip():
            return None
        encoded = self._tokenizer(question, sentence, truncation="only_second", max_length=self._max_length,
                                  return_offsets_mapping=True, return_tensors="pt")
        offsets = encoded.pop("offset_mapping")[0].tolist()
        in_sentence = [i for i, s in enumerate(encoded.sequence_ids(0)) if s == 1]
        if not in_sentence:
            return None
        with torch.inference_mode():
            output = self._model(**encoded)
        starts, ends = output.start_logits[0].tolist(), output.end_logits[0].tolist()
        best: tuple[float, int, int] | None = None
        last = in_sentence[-1]  # the sentence's pieces are one contiguous run
        for i in in_sentence:
            for j in range(i, min(i + self._max_answer, last + 1)):
                score = starts[i] + ends[j]
                if best is None or score > best[0]:
                    best = (score, i, j)
        if best is None:
            return None
        score, i, j = best
        start, end = offsets[i][0], offsets[j][1]
        return Span(sentence[start:end], start, end, score, starts[0] + ends[0])


def make_no_answer_reader(path: Path | None = None) -> SpanReader:
    """The shipped no-answer reader, or one saved by `evals/train_short_answer.py --kind no-answer`."""
    return _load_reader(Path(path) if path is not None else DEFAULT_NO_ANSWER_READER_DIR, "no-answer reader",
                        "evals/train_short_answer.py --kind no-answer")


def make_span_reader(path: Path | None = None) -> SpanReader:
    """The shipped short-answer reader, or one saved by the training script in `path`."""
    return _load_reader(Path(path) if path is not None else DEFAULT_READER_DIR, "short-answer reader",
                        "evals/train_short_answer.py")


def _load_reader(folder: Path, what: str, script: str) -> SpanReader:
    require_model_files(folder, what, script)
    try:
        import torch
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise MissingExtraError(f"The {what}", "all", "transformers") from exc
    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModelForQuestionAnswering.from_pretrained(str(folder), local_files_only=True, dtype=torch.float32)
    return TransformerSpanReader(model, tokenizer)
