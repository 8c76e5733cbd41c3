"""The optional cross-encoder reranker, with a tiny BERT cross-encoder this test builds and saves
(random weights from a fixed seed, a 40-word vocabulary, no downloads)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.config import RetrievalSettings
from assistant.errors import ConfigError
from assistant.index.sentence_index import SentenceIndex
from assistant.retrieval.rerank import CrossEncoderReranker, make_reranker
from assistant.types import Passage

WORDS = ("the treaty was signed in vienna harbour froze january ships waited weeks delegates argued month "
         "when where what who why which is of on a for danube many hosts outside river city signed").split()


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    folder = tmp_path_factory.mktemp("tiny-cross-encoder")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *dict.fromkeys(WORDS)]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizer(str(folder / "vocab.txt"), do_lower_case=True)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64, num_labels=1)
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def make_passages() -> list[Passage]:
    texts = ["The treaty was signed in Vienna.", "The harbour froze in January.", "Ships waited outside for weeks."]
    return [Passage(chunk_id=f"doc{i}#0", source=f"doc{i}", title=f"Doc {i}", text=t, score=0.0, scores={"dense": 0.1 * i})
            for i, t in enumerate(texts)]


def test_cross_encoder_scores_every_pair_and_sorts_by_the_model(tiny_cross_encoder: Path) -> None:
    from sentence_transformers import CrossEncoder

    settings = RetrievalSettings(reranker="cross-encoder", cross_encoder_path=tiny_cross_encoder)
    reranker = make_reranker(settings, SentenceIndex.empty(4))
    assert isinstance(reranker, CrossEncoderReranker)
    query = "Where was the treaty signed?"
    given = make_passages()
    ranked = reranker.rerank(query, np.zeros(4, np.float32), given)

    expected = CrossEncoder(str(tiny_cross_encoder), device="cpu").predict([(query, p.text) for p in given])
    by_id = {p.chunk_id: float(s) for p, s in zip(given, np.atleast_1d(expected))}
    assert [p.chunk_id for p in ranked] == sorted(by_id, key=lambda cid: -by_id[cid])
    for passage in ranked:
        assert passage.score == pytest.approx(by_id[passage.chunk_id], abs=1e-5)
        assert passage.scores["rerank"] == passage.score
        assert passage.scores["dense"] == pytest.approx(0.1 * int(passage.source[-1]))  # earlier signals kept
    assert len(set(by_id.values())) == 3, "a constant model would make this test meaningless"
    assert reranker.rerank(query, np.zeros(4, np.float32), []) == []


def test_cross_encoder_path_must_be_an_existing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ConfigError, match="no-such-model"):
        CrossEncoderReranker(RetrievalSettings(reranker="cross-encoder", cross_encoder_path=missing))
