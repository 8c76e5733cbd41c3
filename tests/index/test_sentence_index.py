"""The sentence index keeps its vectors as float16 (memory-mapped once saved), reads the older
sentences.npz layout, and hands callers float32 rows equal to what the float32 index gave."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.index.sentence_index import SentenceIndex
from assistant.index.terms import BM25Terms


def _index() -> SentenceIndex:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(5, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = ["The alliance met in July.", "It agreed on a plan.", "Rain fell all week.", "Rivers rose.", "Roads closed."]
    return SentenceIndex.build(["a", "a", "b", "b", "b"], np.array([0, 26, 0, 20, 33], np.int32),
                               np.array([25, 46, 19, 32, 46], np.int32), vectors, BM25Terms.build(texts))


def test_vectors_are_kept_float16_and_saved_as_a_mappable_file(tmp_path: Path) -> None:
    index = _index()
    assert index.vectors.dtype == np.float16
    index.save(tmp_path)
    assert (tmp_path / "sentence_vectors.npy").exists()
    loaded = SentenceIndex.load(tmp_path)
    assert loaded is not None and isinstance(loaded.vectors, np.memmap) and loaded.vectors.dtype == np.float16
    np.testing.assert_array_equal(loaded.vectors, index.vectors)
    assert loaded.chunk_ids == index.chunk_ids and loaded.rows_for("b") == [2, 3, 4]
    with np.load(tmp_path / "sentences.npz") as arrays:  # each chunk id stored once, not once per sentence
        assert "chunk_ids" not in arrays.files and arrays["sentence_chunk"].tolist() == [0, 0, 1, 1, 1]


def test_float32_views_equal_the_old_float32_arithmetic(tmp_path: Path) -> None:
    index = _index()
    index.save(tmp_path)
    loaded = SentenceIndex.load(tmp_path)
    assert loaded is not None
    old = np.asarray(index.vectors, np.float32)  # what the old loader held: float16 on disk, upcast whole
    rows = loaded.rows_float32([1, 3])
    assert rows.dtype == np.float32
    np.testing.assert_array_equal(rows, old[[1, 3]])
    mean = old[[2, 3, 4]].mean(axis=0)
    np.testing.assert_array_equal(loaded.passage_vector("b"), (mean / np.linalg.norm(mean)).astype(np.float32))
    np.testing.assert_array_equal(loaded.passage_vectors(["a", "b"])[1], loaded.passage_vector("b"))
    assert loaded.passage_vector("missing") is None


def test_snapshots_of_the_older_layout_still_load(tmp_path: Path) -> None:
    index = _index()
    index.save(tmp_path)
    (tmp_path / "sentence_vectors.npy").unlink()
    np.savez(tmp_path / "sentences.npz", chunk_ids=np.array(index.chunk_ids), starts=index.starts, ends=index.ends,
             vectors=index.vectors.astype(np.float16))
    loaded = SentenceIndex.load(tmp_path)
    assert loaded is not None and loaded.vectors.dtype == np.float16
    np.testing.assert_array_equal(loaded.vectors, index.vectors)
    assert loaded.terms is not None and loaded.terms.sentences == len(index)


def test_vectors_out_of_step_with_the_rows_are_refused(tmp_path: Path) -> None:
    index = _index()
    index.save(tmp_path)
    np.save(tmp_path / "sentence_vectors.npy", np.zeros((3, 8), np.float16))
    with pytest.raises(ValueError, match="expected float16 with 5 rows"):
        SentenceIndex.load(tmp_path)
