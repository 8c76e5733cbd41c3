"""Hybrid retrieval end to end on real components: MiniLM, a Chroma store in tmp_path, bm25s."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant import Passage, retrieve
from assistant.engine_pool import share
from assistant.index.view import snapshots_dir
from assistant.retrieval.bm25 import KeywordIndex

# A token that MiniLM has no sense of but BM25 matches exactly.
RARE_CODE = "XQ-7734-ZULU"
PLANTED = f"The depot inventory code {RARE_CODE} was assigned to the spare radar parts shipped in March."


def test_public_retrieve_returns_passages_with_source_score_and_text(bundled_engine, monkeypatch) -> None:
    settings = bundled_engine.settings
    share(bundled_engine)  # reuse the loaded index
    passages = retrieve("Where will the NATO Security Assistance and Training for Ukraine command be based?",
                        top_k=3, settings=settings)
    assert 1 <= len(passages) <= 3
    assert all(isinstance(p, Passage) and p.source and p.text and isinstance(p.score, float) for p in passages)
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    assert "Wiesbaden" in " ".join(p.text for p in passages)
    assert len(retrieve("NATO", top_k=7, settings=settings)) == 7


def test_retrieve_by_collection_name(bundled_engine, monkeypatch) -> None:
    settings = bundled_engine.settings
    share(bundled_engine)
    named = retrieve("JATEC in Poland", top_k=2, collection=settings.store.collection, settings=settings)
    assert named and any("JATEC" in p.text for p in named)


def test_keyword_side_finds_what_dense_alone_misses(engine_factory, corpus_copy: Path) -> None:
    (corpus_copy / "depot.txt").write_text(" date 2024-03-02 " + PLANTED + "\n")
    query = f"Which parts carry code {RARE_CODE}?"
    hybrid = engine_factory(corpus=corpus_copy)
    hybrid.index()
    top = hybrid.retrieve(query, top_k=1)
    assert top[0].source == "depot.txt"
    assert top[0].scores["bm25"] > 0 and "dense" in top[0].scores and "rerank" in top[0].scores
    bm25_only = engine_factory(corpus=corpus_copy, store={"path": hybrid.settings.store.path,
                                                          "collection": hybrid.settings.store.collection},
                               retrieval={"mode": "bm25", "reranker": "none"})
    assert bm25_only.retrieve(query, top_k=1)[0].source == "depot.txt"


def test_dense_and_keyword_candidates_both_carry_both_scores(engine_factory, bundled_engine) -> None:
    shared = bundled_engine.settings.store
    engine = engine_factory(store={"path": shared.path, "collection": shared.collection}, retrieval={"candidates": 4})
    retriever = engine.snapshot().retriever
    query = "How many members does NATO have after Sweden joined?"
    vector = engine.embedder.embed_query(query)
    candidates = retriever.candidates(query, vector, None)
    assert 4 < len(candidates) <= 8  # the two sides contributed different passages
    assert all({"dense", "bm25"} <= set(p.scores) for p in candidates)
    dense_ids = [p.chunk_id for p in engine.stored_collection().query(vector, 4)]
    keyword_ids = [cid for cid, _ in KeywordIndex(engine.view().passage_terms).top(query, 4)]
    assert {p.chunk_id for p in candidates} == set(dense_ids) | set(keyword_ids)
    for p in candidates:  # keyword-only candidates get their true cosine, dense-only ones their BM25
        assert p.scores["dense"] == pytest.approx(float(engine.view().sentences.passage_vector(p.chunk_id) @ vector), abs=2e-3)


def test_chroma_holds_the_mean_of_each_chunks_sentence_vectors(bundled_engine) -> None:
    view = bundled_engine.view()
    ids = sorted(view.chunks)[:5]
    stored = bundled_engine.stored_collection().embeddings(ids)
    for cid in ids:
        rows = view.sentences.rows_for(cid)
        assert rows, cid
        mean = view.sentences.vectors[rows].mean(axis=0)
        np.testing.assert_allclose(stored[cid], mean / np.linalg.norm(mean), atol=2e-3)  # sidecar keeps float16


@pytest.mark.parametrize("show_progress", [False, True])
def test_embedding_in_length_order_returns_rows_in_input_order(embedder, show_progress: bool) -> None:
    texts = ["short one.", "A much longer sentence about the alliance and its summit in Washington last July.", "mid length text here."]
    got = embedder.embed_texts(texts, show_progress=show_progress)  # encode sorts by length inside
    assert got.dtype == np.float32 and got.shape == (3, embedder.dimension)
    for text, row in zip(texts, got):
        np.testing.assert_allclose(row, embedder.embed_query(text), atol=1e-5)
    assert embedder.embed_texts([]).shape == (0, embedder.dimension)


def test_incremental_indexing_keeps_chroma_bm25_and_sentences_in_step(engine_factory, corpus_copy: Path) -> None:
    engine = engine_factory(corpus=corpus_copy)
    first = engine.index()
    assert first.sentences_embedded > 0 and first.chunks_embedded == first.chunks

    # added
    (corpus_copy / "depot.txt").write_text(" date 2024-03-02 " + PLANTED + "\n")
    added = engine.index()
    assert added.added == ["depot.txt"] and added.chunks_embedded == 1
    assert 0 < added.sentences_embedded <= 2  # only the new document's sentences
    assert engine.retrieve(f"code {RARE_CODE}", top_k=1)[0].source == "depot.txt"

    # changed
    (corpus_copy / "depot.txt").write_text(" date 2024-03-02 The depot code OSCAR-5511 now labels the winter tyres.\n")
    changed = engine.index()
    assert changed.changed == ["depot.txt"]
    view = engine.view()
    texts = [c.text for c in view.chunks.values() if c.source == "depot.txt"]
    assert texts and "OSCAR-5511" in texts[0] and RARE_CODE not in texts[0]
    assert engine.retrieve("OSCAR-5511 winter tyres", top_k=1)[0].source == "depot.txt"
    assert all(RARE_CODE not in p.text for p in engine.retrieve(f"code {RARE_CODE}", top_k=3))

    # deleted
    (corpus_copy / "depot.txt").unlink()
    removed = engine.index()
    assert removed.removed == ["depot.txt"] and removed.sentences_embedded == 0
    view = engine.view()
    assert all(c.source != "depot.txt" for c in view.chunks.values())
    assert set(view.passage_terms.ids) == set(view.chunks)
    assert set(view.sentences.chunk_ids) == set(view.chunks)
    assert engine.stored_collection().count() == len(view.chunks)
    assert (snapshots_dir(engine.settings) / view.manifest.snapshot / "bm25").is_dir()

    # nothing changed: nothing embedded
    again = engine.index()
    assert again.chunks_embedded == 0 and again.sentences_embedded == 0


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_every_mode_answers_the_same_easy_question(engine_factory, bundled_engine, mode: str) -> None:
    shared = bundled_engine.settings.store
    engine = engine_factory(store={"path": shared.path, "collection": shared.collection}, retrieval={"mode": mode})
    passages = engine.retrieve("Joint Analysis Training and Education Center JATEC", top_k=3)
    assert passages and "JATEC" in passages[0].text
