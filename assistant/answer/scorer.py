"""The learned answer scorer: how well does a sentence answer a question?

A cross-encoder fine-tuned from the packaged all-MiniLM-L6-v2 on (question, sentence) pairs of the
SQuAD v1.1/2.0 dev *fit* articles by `evals/train_answer_scorer.py`. It reads the question and the
sentence together, so unlike bi-encoder cosine it can notice that a sentence on the right topic
misses the question's key constraint (another entity, another number, a negation).

The weights ship in `assistant/models/answer_scorer/` (fp16 safetensors + tokenizer files, see the
model card there) and load from that folder only: no hub, no network, no training on a fresh clone.
By default they run on ONNX Runtime (exported once per machine, `assistant.inference`); torch runs
them directly with `inference.runtime = "torch"`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from assistant.answer.confidence import Calibration, load_calibration
from assistant.config import InferenceSettings
from assistant.errors import ConfigError, InvalidArgumentError, MissingExtraError
from assistant.inference.onnx_session import OnnxModel, load_tokenizer

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "answer_scorer"
# Question + sentence in word pieces. SQuAD pairs have a median of ~45 and a 99th percentile under
# 128; longer pairs lose the tail of the sentence (or of a very long question) rather than fail.
MAX_LENGTH = 128
# Pairs per forward pass, over length-sorted sentences. Measured on SQuAD sentences (CPU ms per call,
# 1 thread): 30 sentences cost 389 ms in batches of 8, 430 in 16s, 612 in one batch of 32 (padding
# to the longest); 10 sentences 132 ms in 8s, 170 in one batch; batches of 4 gain nothing more.
DEFAULT_BATCH_SIZE = 8
# On ONNX Runtime smaller batches win: the bundled corpus's 8 benchmark questions (12 pairs each, 2
# threads) scored at p50 131 ms in batches of 4 against 150 ms in 8s (1 thread: 185 against 198 ms);
# `python evals/bench_answer_speed.py --configs onnx,lexical --batch-size N`.
ONNX_BATCH_SIZE = 4
_REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")


class AnswerScorer(Protocol):
    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        """One float32 *logit* per sentence (higher = more likely to answer the question).

        `sigmoid(logit)` is the model's probability under its training mix of positives and
        negatives, not a calibrated probability of being right: calibrate it on a fit split
        before using it as a confidence.
        """


def require_question(question: str) -> None:
    """The scorer and the reader read a question: refuse anything but non-blank text."""
    if not isinstance(question, str) or not question.strip():
        raise InvalidArgumentError(f"question must be a non-empty string, got {question!r}")


def score_in_batches(question: str, sentences: Sequence[str], batch_size: int,
                     logits: Callable[[str, list[str]], np.ndarray]) -> np.ndarray:
    """`logits` over length-sorted batches (little padding), back in the caller's order."""
    require_question(question)
    if isinstance(sentences, str):
        raise InvalidArgumentError("sentences must be a sequence of strings, not one string")
    scores = np.empty(len(sentences), dtype=np.float32)
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        scores[batch] = logits(question, [sentences[i] for i in batch])
    return scores


class CrossEncoderAnswerScorer:
    """A sequence-classification model with one logit, run on CPU with torch in inference mode.

    Threads: torch's own setting (OMP_NUM_THREADS / torch.set_num_threads by the caller); a library
    must not change a process-wide thread count behind its host's back.
    """

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, *,
                 batch_size: int = DEFAULT_BATCH_SIZE, max_length: int = MAX_LENGTH) -> None:
        if batch_size < 1:
            raise InvalidArgumentError(f"batch_size must be at least 1, got {batch_size}")
        self._model = model.eval()
        self._tokenizer = tokenizer
        self._batch_size = batch_size
        self._max_length = max_length

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        return score_in_batches(question, sentences, self._batch_size, self._logits)

    def _logits(self, question: str, sentences: list[str]) -> np.ndarray:
        import torch

        encoded = self._tokenizer([question] * len(sentences), sentences, truncation="longest_first",
                                  max_length=self._max_length, padding=True, return_tensors="pt")
        with torch.inference_mode():
            logits = self._model(**encoded).logits
        return logits[:, 0].float().numpy()


class OnnxAnswerScorer:
    """The same model exported to ONNX and run by ONNX Runtime; logits agree with torch's to ~2e-6."""

    def __init__(self, folder: Path, settings: InferenceSettings, *, batch_size: int = ONNX_BATCH_SIZE,
                 max_length: int = MAX_LENGTH) -> None:
        if batch_size < 1:
            raise InvalidArgumentError(f"batch_size must be at least 1, got {batch_size}")
        require_model_files(folder, "answer scorer", "evals/train_answer_scorer.py")
        self._tokenizer = load_tokenizer(folder, max_length=max_length, strategy="longest_first", pad=True)
        self._model = OnnxModel(folder, "sequence-classification", settings, role="answer_scorer")
        self._batch_size = batch_size

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        return score_in_batches(question, sentences, self._batch_size, self._logits)

    def _logits(self, question: str, sentences: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch([(question, sentence) for sentence in sentences])
        (logits,) = self._model.run(encodings)
        if logits.shape[-1] != 1:
            raise ConfigError(f"answer scorer has {logits.shape[-1]} labels; it must have 1")
        return logits[:, 0].astype(np.float32, copy=False)


def require_model_files(folder: Path, what: str, script: str) -> None:
    """A saved model folder must hold the weights, config and tokenizer, or say how to make them."""
    missing = [name for name in _REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise ConfigError(f"{what} folder {str(folder)!r} lacks {', '.join(missing)}; "
                          f"re-create it with  python {script} --out FOLDER")


def load_cross_encoder(path: Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """The model (as float32: fp16 matmuls are slow on CPU) and tokenizer of a saved folder."""
    require_model_files(path, "answer scorer", "evals/train_answer_scorer.py")
    try:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise MissingExtraError("The answer scorer", "all", "transformers") from exc

    hf_logging.disable_progress_bar()  # the weight-loading bar is noise in a CLI
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(str(path), local_files_only=True, dtype=torch.float32)
    if model.config.num_labels != 1:
        raise ConfigError(f"answer scorer at {str(path)!r} has {model.config.num_labels} labels; it must have 1")
    return model, tokenizer


def make_answer_scorer(path: Path | None = None, *, batch_size: int | None = None,
                       inference: InferenceSettings | None = None) -> AnswerScorer:
    """The shipped answer scorer, or one saved by the training script in `path`, on the configured
    runtime (ONNX Runtime unless `inference.runtime` is 'torch')."""
    folder = Path(path) if path is not None else DEFAULT_MODEL_DIR
    inference = inference or InferenceSettings()
    if inference.runtime == "onnx":
        return OnnxAnswerScorer(folder, inference, batch_size=batch_size or ONNX_BATCH_SIZE)
    model, tokenizer = load_cross_encoder(folder)
    return CrossEncoderAnswerScorer(model, tokenizer, batch_size=batch_size or DEFAULT_BATCH_SIZE)


ScorerAndCalibration = tuple[AnswerScorer, Calibration]


def load_answer_scorer(path: Path | None = None, *, inference: InferenceSettings | None = None) -> ScorerAndCalibration:
    """The shipped scorer with the calibration fitted for it (both from the same folder)."""
    folder = Path(path) if path is not None else DEFAULT_MODEL_DIR
    return make_answer_scorer(folder, inference=inference), load_calibration(folder)
