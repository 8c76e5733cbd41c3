"""SentenceVectors' bounded memo of this run's vectors: dropping it never loses a vector a batch needs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assistant.index.sentence_vectors import SentenceVectors
from assistant.types import Chunk


class CountingEmbedder:
    """Deterministic stand-in: a sentence's vector is its length, repeated; counts what it embeds."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed_texts(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        self.seen.extend(texts)
        return np.array([[float(len(t))] * 4 for t in texts], dtype=np.float32)


class SmallMemo(SentenceVectors):
    _KNOWN_LIMIT = 2


def _chunk(i: int, text: str) -> Chunk:
    return Chunk(chunk_id=f"log.txt#e:{i}", source="log.txt", title="", date=None, index=i, text=text)


def test_a_batch_repeating_sentences_of_a_dropped_memo_still_gets_every_vector() -> None:
    embedder = CountingEmbedder()
    vectors = SmallMemo(embedder, None, show_progress=False)
    first = _chunk(0, "The tide turned at noon. Gulls circled the pier. A boat came in.")
    vectors.for_chunks([first])  # three sentences memoised: past the limit of two
    second = _chunk(1, "A boat came in. The harbour master waved.")  # overlaps the first chunk
    [(spans, got)] = vectors.for_chunks([second])
    assert len(spans) == 2 and got.shape == (2, 4)
    assert got[:, 0].tolist() == [float(len("A boat came in.")), float(len("The harbour master waved."))]
    assert embedder.seen.count("A boat came in.") == 2  # embedded again after the memo was dropped
