"""Sentence BM25 from kept tokens and corpus statistics equals bm25s over all sentences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.keyword import KeywordIndex
from assistant.sentence_terms import SentenceTerms

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


@pytest.mark.parametrize("query", QUERIES)
def test_scores_equal_bm25s_over_every_sentence(query: str) -> None:
    reference = KeywordIndex.build([str(i) for i in range(len(SENTENCES))], SENTENCES)
    terms = SentenceTerms.build(SENTENCES)
    rows = np.array([5, 0, 1, 4, 3], dtype=np.int64)      # some rows, in any order
    expected = reference.scores(query)[rows]
    got = terms.scores(reference.query_tokens(query), rows)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_assembled_from_a_previous_index_equals_building_anew(tmp_path: Path) -> None:
    first = SentenceTerms.build(SENTENCES[:5])
    added = ["A second ferry joins the route in spring.", "The island school has twelve pupils."]
    # keep rows 4, 0 and 1 of the first index, then the new sentences
    assembled = SentenceTerms.assemble(first, [("previous", np.array([4, 0])), ("new", added[:1]),
                                               ("previous", np.array([1])), ("new", added[1:])])
    fresh = SentenceTerms.build([SENTENCES[4], SENTENCES[0], added[0], SENTENCES[1], added[1]])
    tokens = ["ferri", "island", "keeper"]
    rows = np.arange(5)
    np.testing.assert_allclose(assembled.scores(tokens, rows), fresh.scores(tokens, rows), rtol=1e-6)
    assembled.save(tmp_path)
    loaded = SentenceTerms.load(tmp_path)
    assert loaded is not None and loaded.sentences == 5
    np.testing.assert_array_equal(loaded.doc_freq[[loaded.vocab[t] for t in tokens]],
                                  assembled.doc_freq[[assembled.vocab[t] for t in tokens]])


def test_unknown_tokens_and_no_rows_score_zero() -> None:
    terms = SentenceTerms.build(SENTENCES)
    assert terms.scores(["zeppelin"], np.array([0, 1])).tolist() == [0.0, 0.0]
    assert terms.scores(["ferri"], np.zeros(0, np.int64)).size == 0
    assert SentenceTerms.load(Path("/nonexistent")) is None
