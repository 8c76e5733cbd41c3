"""The seam between an index run and an embedding model: the index embeds sentences at write time
but does not own a model (retrieval does, and embeds queries with the same one)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class SentenceEncoder(Protocol):
    """What an index run needs of an embedding model (the caller passes one in; retrieval's
    `Embedder` is one, made by `assistant.retrieval.embedding.make_embedder`). Contract:
    tests/retrieval/test_embedder_contract.py."""

    dimension: int

    def embed_texts(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Unit-normalised float32 vectors, one row per text in input order; `show_progress` draws a bar."""
        ...
