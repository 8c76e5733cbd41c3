"""BM25 from kept tokens and corpus statistics equals bm25s over all texts, for candidate rows and for
every row (passage retrieval); assembling from a previous index equals building anew."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import pytest
import Stemmer

from assistant.index.passage_terms import PassageTerms
from assistant.index.terms import BM25Terms, bm25_tokenize
from assistant.retrieval.bm25 import KeywordIndex, Postings, all_scores, row_scores
from assistant.types import Chunk

SENTENCES = [
    "The ferry to the islands leaves at dawn.",
    "Ferries are cancelled when the wind is strong, and the ferry office says so.",
    "It is what it is.",                                  # stop words only: no tokens at all
    "A lighthouse keeper lived on the island for forty years.",
    "The keeper's logbook recorded every ship and every storm.",
    "Storm warnings reach the harbour by radio.",
    "",
]
QUERIES = ["When does the ferry leave?", "storm storm radio", "who kept the lighthouse logbook", "the and of"]


def bm25s_scores(texts: list[str], query: str) -> np.ndarray:
    """The reference: bm25s's own index over `texts` (Lucene variant, its defaults)."""
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"),
                                   show_progress=False), show_progress=False)
    tokens = [t for t in bm25_tokenize([query])[0] if t in retriever.vocab_dict]
    return np.asarray(retriever.get_scores(tokens), dtype=np.float32) if tokens else np.zeros(len(texts), np.float32)


@pytest.mark.parametrize("query", QUERIES)
def test_scores_equal_bm25s_over_every_sentence(query: str) -> None:
    terms = BM25Terms.build(SENTENCES)
    rows = np.array([5, 0, 1, 4, 3], dtype=np.int64)      # some rows, in any order
    expected = bm25s_scores(SENTENCES, query)
    tokens = bm25_tokenize([query])[0]
    np.testing.assert_allclose(row_scores(terms, tokens, rows), expected[rows], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(all_scores(terms, tokens, Postings.of(terms)), expected, rtol=1e-5, atol=1e-6)


def _chunk(i: int, text: str, title: str = "Harbour notes") -> Chunk:
    return Chunk(chunk_id=f"notes.txt#{i}", source="notes.txt", title=title, date=None, index=i, text=text)


def test_a_passage_index_updated_from_the_previous_one_ranks_as_one_built_anew() -> None:
    before = [_chunk(i, text) for i, text in enumerate(SENTENCES)]
    previous = PassageTerms.of_chunks(before, None, {})
    # one chunk dropped, one re-titled under the same id (its tokens must not be reused), one added
    after = [before[0], before[1], _chunk(3, SENTENCES[3], title="Lighthouse log"), before[4],
             _chunk(9, "The ferry timetable changes in winter.")]
    updated = KeywordIndex(PassageTerms.of_chunks(after, previous, {c.chunk_id: c for c in before}))
    fresh = KeywordIndex(PassageTerms.build([c.chunk_id for c in after], [f"{c.title}\n{c.text}" for c in after]))
    for query in [*QUERIES, "lighthouse log", "winter timetable"]:
        np.testing.assert_allclose(updated.scores(query), fresh.scores(query), rtol=1e-6)
        np.testing.assert_allclose(updated.scores(query), bm25s_scores([f"{c.title}\n{c.text}" for c in after], query),
                                   rtol=1e-5, atol=1e-6)
    assert updated.top("lighthouse log", 1)[0][0] == "notes.txt#3"


def test_assembled_from_a_previous_index_equals_building_anew(tmp_path: Path) -> None:
    first = BM25Terms.build(SENTENCES[:5])
    added = ["A second ferry joins the route in spring.", "The island school has twelve pupils."]
    # keep rows 4, 0 and 1 of the first index, then the new sentences
    assembled = BM25Terms.assemble(first, [("previous", np.array([4, 0])), ("new", added[:1]),
                                               ("previous", np.array([1])), ("new", added[1:])])
    fresh = BM25Terms.build([SENTENCES[4], SENTENCES[0], added[0], SENTENCES[1], added[1]])
    tokens = ["ferri", "island", "keeper"]
    rows = np.arange(5)
    np.testing.assert_allclose(row_scores(assembled, tokens, rows), row_scores(fresh, tokens, rows), rtol=1e-6)
    assembled.save(tmp_path, "sentence")
    loaded = BM25Terms.load(tmp_path, "sentence")
    assert loaded is not None and loaded.sentences == 5
    np.testing.assert_array_equal(loaded.doc_freq[[loaded.vocab[t] for t in tokens]],
                                  assembled.doc_freq[[assembled.vocab[t] for t in tokens]])


def test_unknown_tokens_and_no_rows_score_zero() -> None:
    terms = BM25Terms.build(SENTENCES)
    assert row_scores(terms, ["zeppelin"], np.array([0, 1])).tolist() == [0.0, 0.0]
    assert row_scores(terms, ["ferri"], np.zeros(0, np.int64)).size == 0
    assert BM25Terms.load(Path("/nonexistent"), "sentence") is None
