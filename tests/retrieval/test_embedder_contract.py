"""The embedding seam's contract (`assistant.index.encoder.SentenceEncoder`, which index runs use,
and `assistant.retrieval.embedding.Embedder`, which adds queries), run by every implementation:
MiniLM from `make_embedder` on ONNX Runtime (the default) and on sentence-transformers, and the
scale benchmark's stand-in."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from assistant.config import PROJECT_ROOT, EmbeddingSettings, InferenceSettings
from assistant.retrieval.embedding import Embedder, make_embedder

sys.path.insert(0, str(PROJECT_ROOT / "evals"))
from bench_scale import StandInEmbedder  # noqa: E402

TEXTS = ["The ferry to the islands leaves at dawn.", "Storm warnings reach the harbour by radio.",
         "The ferry to the islands leaves at dawn.", "x"]


@pytest.fixture(scope="module")
def sentence_transformers_embedder() -> Embedder:
    return make_embedder(EmbeddingSettings(), InferenceSettings(runtime="torch"))


@pytest.fixture(params=["minilm-onnx", "minilm-torch", "stand-in"])
def implementation(request: pytest.FixtureRequest) -> Embedder:
    if request.param == "minilm-onnx":
        return request.getfixturevalue("embedder")  # make_embedder, loaded once per session
    if request.param == "minilm-torch":
        return request.getfixturevalue("sentence_transformers_embedder")
    return StandInEmbedder()


def test_texts_become_unit_float32_rows_in_input_order(implementation: Embedder) -> None:
    vectors = implementation.embed_texts(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), implementation.dimension)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(vectors[0], vectors[2], rtol=1e-5, atol=1e-6)  # same text, same row
    reversed_order = implementation.embed_texts(TEXTS[::-1])
    np.testing.assert_allclose(reversed_order[::-1], vectors, rtol=1e-4, atol=1e-5)


def test_no_texts_give_no_rows_of_the_right_width(implementation: Embedder) -> None:
    assert implementation.embed_texts([]).shape == (0, implementation.dimension)


def test_a_query_is_embedded_as_its_text_is(implementation: Embedder) -> None:
    query = implementation.embed_query(TEXTS[1])
    assert query.dtype == np.float32 and query.shape == (implementation.dimension,)
    np.testing.assert_allclose(query, implementation.embed_texts([TEXTS[1]])[0], rtol=1e-4, atol=1e-5)
    assert isinstance(implementation.name, str) and implementation.name
