"""Export a saved transformers model to one ONNX file with torch's own exporter, and prove it.

Only this module imports torch and transformers for inference; it runs once per model and machine
(`onnx_cache.onnx_model_file`). The exported graph is checked against torch on probe inputs before it
is published, then renamed into place atomically, so a reader never sees half a file or a graph that
disagrees with the weights."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnxruntime
import torch
from transformers import (
    AutoModel,
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoTokenizer,
)
from transformers.utils import logging as hf_logging

from assistant import atomic
from assistant.errors import ModelExportError
from assistant.inference.onnx_cache import Task

OUTPUTS: dict[Task, tuple[str, ...]] = {
    "sequence-classification": ("logits",),
    "question-answering": ("start_logits", "end_logits"),
    "feature-extraction": ("last_hidden_state",),
}
_MODEL_CLASSES = {
    "sequence-classification": AutoModelForSequenceClassification,
    "question-answering": AutoModelForQuestionAnswering,
    "feature-extraction": AutoModel,
}
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17
# fp32 graphs agree with torch to ~2e-6 (measured on the answer scorer); anything near this bound
# means the export traced something else than the model computes.
MAX_DIFFERENCE = 1e-3
_PROBE = (["Which river flows through the old town?", "How many were there?"],
          ["The old town lies on both banks of the river Main, which floods most springs.", "Three."])


class _NamedOutputs(torch.nn.Module):
    """The model with plain tensor inputs and only the outputs the runtime reads."""

    def __init__(self, model: torch.nn.Module, outputs: tuple[str, ...]) -> None:
        super().__init__()
        self.model = model
        self.outputs = outputs

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor) -> tuple[torch.Tensor, ...]:
        result = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        return tuple(result[name] for name in self.outputs)


def export_to_onnx(model_dir: Path, task: Task, target: Path) -> None:
    """Write `target` (atomically) from the weights in `model_dir`; raise ModelExportError if the
    exported graph's outputs differ from torch's on the probe inputs."""
    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    # Eager attention exports as plain MatMul/Softmax that ONNX Runtime runs well; the SDPA kernel's
    # export ran 12 answer-scorer pairs in 144 ms against 85 ms (2 threads, batches of 8, news sentences).
    model = _MODEL_CLASSES[task].from_pretrained(str(model_dir), local_files_only=True, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    wrapped = _NamedOutputs(model, OUTPUTS[task]).eval()
    probe = tokenizer(*_PROBE, padding=True, return_tensors="pt")
    if "token_type_ids" not in probe:
        probe["token_type_ids"] = torch.zeros_like(probe["input_ids"])
    args = tuple(probe[name] for name in INPUTS)
    axes = {name: {0: "batch", 1: "length"} for name in INPUTS + OUTPUTS[task]} | {"logits": {0: "batch"}}
    with atomic.replacing(target) as tmp:
        # The exporter reports progress on stdout and notes on its logger and warnings; a CLI user's
        # answer must not be buried in them (a failure still raises). The TorchScript exporter
        # (dynamo=False; deprecated upstream but present in the pinned torch) is used because its
        # graph ran faster: 78-85 ms for the 12 pairs above against 92-96 ms from the dynamo exporter.
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), _quiet("torch.onnx"), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(wrapped, args, str(tmp), input_names=list(INPUTS), output_names=list(OUTPUTS[task]),
                              dynamic_axes=axes, opset_version=OPSET, dynamo=False)
            expected = [t.numpy() for t in wrapped(*args)]
        _check(tmp, {name: probe[name].numpy() for name in INPUTS}, expected, model_dir)


@contextlib.contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _check(path: Path, feed: dict[str, np.ndarray], expected: list[np.ndarray], model_dir: Path) -> None:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, feed)
    worst = max(float(np.abs(g - e).max()) for g, e in zip(got, expected, strict=True))
    if not worst <= MAX_DIFFERENCE:
        raise ModelExportError(f"the ONNX export of {str(model_dir)!r} differs from the model by {worst:.3g} "
                               f"(more than {MAX_DIFFERENCE}); run with ASSISTANT_INFERENCE__RUNTIME=torch and report it")
