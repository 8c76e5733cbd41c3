"""An ONNX Runtime session with the fast tokenizer of the same saved model: what the embedder, the
answer scorer and the short-answer reader run on when `inference.runtime` is 'onnx'.

Needs only `onnxruntime` and `tokenizers` (both installed with chromadb and transformers), so
answering a question imports neither torch nor transformers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime
from tokenizers import Encoding, Tokenizer

from assistant.config import InferenceSettings
from assistant.errors import ConfigError
from assistant.inference.onnx_cache import Task, onnx_model_file


def load_tokenizer(model_dir: Path, *, max_length: int, strategy: str, pad: bool) -> Tokenizer:
    """The folder's `tokenizer.json` set to truncate (and pad) as the transformers tokenizer is asked to."""
    path = model_dir / "tokenizer.json"
    if not path.is_file():
        raise ConfigError(f"model folder {str(model_dir)!r} has no tokenizer.json (a fast tokenizer); save the model "
                          "with transformers' save_pretrained, or set ASSISTANT_INFERENCE__RUNTIME=torch")
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length, strategy=strategy)
    if pad:
        pad_token = _pad_token(model_dir)
        pad_id = tokenizer.token_to_id(pad_token)
        if pad_id is None:
            raise ConfigError(f"the tokenizer in {str(model_dir)!r} has no padding token {pad_token!r}")
        tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)
    else:
        tokenizer.no_padding()
    return tokenizer


def _pad_token(model_dir: Path) -> str:
    config = model_dir / "tokenizer_config.json"
    if config.is_file():
        token = json.loads(config.read_text(encoding="utf-8")).get("pad_token")
        if isinstance(token, str):
            return token
        if isinstance(token, dict) and isinstance(token.get("content"), str):
            return token["content"]
    return "[PAD]"


class OnnxModel:
    """One exported model: run it on tokenizer encodings, get its outputs as float32 arrays."""

    def __init__(self, model_dir: Path, task: Task, settings: InferenceSettings, *, role: str) -> None:
        """`role` is the model's name in `settings.int8` ("embedder", "answer_scorer", "short_answer")."""
        options = onnxruntime.SessionOptions()
        if settings.threads is not None:
            options.intra_op_num_threads = settings.threads
        options.inter_op_num_threads = 1
        # Three sessions (embedder, scorer, reader) run one after another in every answer; spinning
        # idle threads of one steal the cores the next needs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        path = onnx_model_file(model_dir, task, settings.onnx_cache(), int8=role in settings.int8,
                               label=role.replace("_", " "))
        self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self._session.get_inputs()]

    def run(self, encodings: Sequence[Encoding]) -> list[np.ndarray]:
        """Outputs for a batch of encodings of equal length (a padding tokenizer makes them so)."""
        feeds = {"input_ids": [e.ids for e in encodings], "attention_mask": [e.attention_mask for e in encodings],
                 "token_type_ids": [e.type_ids for e in encodings]}
        return self._session.run(None, {name: np.asarray(feeds[name], dtype=np.int64) for name in self._inputs})
