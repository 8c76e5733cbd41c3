"""The reranking seam: a contract every Reranker keeps, and the sentence reranker's features.

The sentence index here is built by hand with deterministic vectors (pure logic; no model), so
each feature's effect on the order can be checked exactly."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.config import RetrievalSettings
from assistant.index.sentence_index import SentenceIndex
from assistant.index.terms import BM25Terms
from assistant.retrieval.rerank import (
    FEATURES,
    NoReranker,
    SentenceReranker,
    make_reranker,
)
from assistant.types import Passage

# Three passages, two sentences each; vectors on 4 axes, one "topic" per axis.
TEXTS = {
    "a#0": "The harbour froze in January. Ships waited outside for weeks.",
    "b#0": "The treaty was signed in Vienna. Delegates argued for a month.",
    "c#0": "Vienna hosts many treaties. The harbour of Vienna is on the Danube.",
}


def _unit(*values: float) -> np.ndarray:
    v = np.array(values, np.float32)
    return v / np.linalg.norm(v)


SENTENCE_VECTORS = {
    "a#0": [_unit(1, 0, 0, 0), _unit(0.8, 0.6, 0, 0)],
    "b#0": [_unit(0, 0, 1, 0), _unit(0, 0.2, 0.9, 0.1)],
    "c#0": [_unit(0, 0, 0.6, 0.8), _unit(0.5, 0, 0, 0.86)],
}


def build_index() -> SentenceIndex:
    chunk_ids, starts, ends, vectors, ids, texts = [], [], [], [], [], []
    for cid, text in TEXTS.items():
        first_end = text.index(".") + 1
        for (start, end), vector in zip([(0, first_end), (first_end + 1, len(text))], SENTENCE_VECTORS[cid]):
            chunk_ids.append(cid)
            starts.append(start)
            ends.append(end)
            vectors.append(vector)
            ids.append(f"{cid}@{start}")
            texts.append(text[start:end])
    return SentenceIndex(chunk_ids, np.array(starts, np.int32), np.array(ends, np.int32), np.vstack(vectors),
                         BM25Terms.build(texts))


def passages(dense: dict[str, float], bm25: dict[str, float]) -> list[Passage]:
    return [Passage(chunk_id=cid, source=cid.split("#")[0], title=cid, text=TEXTS[cid], score=dense[cid],
                    scores={"dense": dense[cid], "bm25": bm25[cid]}) for cid in TEXTS]


def only(feature: str, **extra: float) -> RetrievalSettings:
    weights = {f"weight_{name}": 0.0 for name in FEATURES}
    weights[f"weight_{feature}"] = 1.0
    weights.update(extra)
    return RetrievalSettings(**weights)


RERANKERS = {
    "sentence": lambda: SentenceReranker(RetrievalSettings(), build_index()),
    "none": NoReranker,
}


@pytest.mark.parametrize("name", sorted(RERANKERS))
def test_every_reranker_returns_the_same_passages_sorted_best_first(name: str) -> None:
    reranker = RERANKERS[name]()
    given = passages({"a#0": 0.2, "b#0": 0.5, "c#0": 0.4}, {"a#0": 1.0, "b#0": 3.0, "c#0": 2.0})
    ranked = reranker.rerank("When was the treaty signed in Vienna?", _unit(0, 0, 1, 0), given)
    assert sorted(p.chunk_id for p in ranked) == sorted(p.chunk_id for p in given)
    assert [p.score for p in ranked] == sorted((p.score for p in ranked), reverse=True)
    assert reranker.rerank("anything", _unit(1, 0, 0, 0), []) == []


def test_best_sentence_cosine_beats_passage_cosine() -> None:
    """Passage c is closer on average, but passage b holds the single best sentence."""
    given = passages({"a#0": 0.1, "b#0": 0.3, "c#0": 0.6}, {"a#0": 0.0, "b#0": 0.0, "c#0": 0.0})
    query = _unit(0, 0, 1, 0.2)
    by_dense = SentenceReranker(only("dense"), build_index()).rerank("q", query, given)
    by_sentence = SentenceReranker(only("sentence_dense"), build_index()).rerank("q", query, given)
    assert by_dense[0].chunk_id == "c#0"
    assert by_sentence[0].chunk_id == "b#0"
    assert by_sentence[0].scores["sentence_dense_feature"] == pytest.approx(float(SENTENCE_VECTORS["b#0"][0] @ query), abs=1e-5)


def test_sentence_bm25_prefers_the_passage_with_the_terms_in_one_sentence() -> None:
    """'harbour' and 'froze' share a sentence only in passage a."""
    given = passages({cid: 0.0 for cid in TEXTS}, {cid: 0.0 for cid in TEXTS})
    ranked = SentenceReranker(only("sentence_bm25"), build_index()).rerank("Which harbour froze?", _unit(1, 0, 0, 0), given)
    assert ranked[0].chunk_id == "a#0"
    assert ranked[0].scores["sentence_bm25_feature"] == pytest.approx(1.0)  # max-normalised
    assert ranked[-1].chunk_id == "b#0" and ranked[-1].scores["sentence_bm25_feature"] == 0.0


def test_passage_bm25_is_max_normalised_over_the_candidates() -> None:
    given = passages({cid: 0.0 for cid in TEXTS}, {"a#0": 2.0, "b#0": 8.0, "c#0": 4.0})
    features = SentenceReranker(RetrievalSettings(), build_index()).features("q", _unit(1, 0, 0, 0), given)
    column = FEATURES.index("bm25")
    assert features[:, column].tolist() == pytest.approx([0.25, 1.0, 0.5])


def test_the_joint_feature_rewards_one_sentence_with_both_meaning_and_terms() -> None:
    """c's second sentence has the terms ('harbour', 'Vienna') *and* the closest vector."""
    given = passages({cid: 0.0 for cid in TEXTS}, {cid: 0.0 for cid in TEXTS})
    query = _unit(0.4, 0, 0, 0.9)
    features = SentenceReranker(RetrievalSettings(), build_index()).features("harbour of Vienna", query, given)
    joint = features[:, FEATURES.index("sentence_joint")]
    assert int(np.argmax(joint)) == list(TEXTS).index("c#0")
    cos, kw = features[:, FEATURES.index("sentence_dense")], features[:, FEATURES.index("sentence_bm25")]
    assert np.all(joint <= cos + kw + 1e-6)


def test_weights_come_from_settings_and_change_the_order() -> None:
    given = passages({"a#0": 0.9, "b#0": 0.1, "c#0": 0.1}, {"a#0": 0.1, "b#0": 5.0, "c#0": 0.1})
    query = _unit(1, 0, 0, 0)
    assert SentenceReranker(only("dense"), build_index()).rerank("q", query, given)[0].chunk_id == "a#0"
    assert SentenceReranker(only("bm25"), build_index()).rerank("q", query, given)[0].chunk_id == "b#0"


def test_factory_picks_by_name_and_refuses_a_cross_encoder_without_a_path() -> None:
    from assistant.errors import ConfigError

    index = build_index()
    assert make_reranker(RetrievalSettings(reranker="sentence"), index).name == "sentence"
    assert make_reranker(RetrievalSettings(reranker="none"), index).name == "none"
    with pytest.raises(ConfigError, match="CROSS_ENCODER_PATH"):
        make_reranker(RetrievalSettings(reranker="cross-encoder"), index)
