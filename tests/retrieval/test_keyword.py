"""BM25 keyword index (real bm25s) and its source/date filter mask built from per-document arrays."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from assistant.index.passage_terms import PassageTerms
from assistant.index.store import SearchFilter
from assistant.retrieval.bm25 import DocumentColumns, KeywordIndex

DOCS = [  # (id, source, date, text)
    ("a#1:0", "a.txt", dt.date(2023, 11, 29), "The lighthouse keeper logged the storm surge at dawn."),
    ("a#1:1", "a.txt", dt.date(2023, 11, 29), "Fishing boats stayed in the harbour during the storm."),
    ("b#2:0", "b.txt", dt.date(2024, 6, 14), "A storm warning closed the ferry route to the island."),
    ("c#3:0", "c.txt", None, "The storm knocked out power across the coastal villages."),
    ("d#4:0", "d.txt", dt.date(2024, 11, 17), "Volunteers rebuilt the pier after the winter season."),
]
IDS = [d[0] for d in DOCS]


@pytest.fixture(scope="module")
def index() -> KeywordIndex:
    return KeywordIndex(PassageTerms.build(IDS, [d[3] for d in DOCS]))


@pytest.fixture(scope="module")
def columns() -> DocumentColumns:
    return DocumentColumns.build([d[1] for d in DOCS], [d[2] for d in DOCS])


FILTERS = [
    SearchFilter(**kwargs) for kwargs in (
        {"sources": ("a.txt",)}, {"sources": ("b.txt", "c.txt")}, {"sources": ("missing.txt",)},
        {"sources": ("a.txt", "missing.txt")}, {"date_from": dt.date(2024, 1, 1)}, {"date_to": dt.date(2024, 6, 14)},
        {"date_from": dt.date(2023, 11, 29), "date_to": dt.date(2023, 11, 29)},
        {"sources": ("b.txt", "c.txt"), "date_to": dt.date(2025, 1, 1)}, {"date_from": dt.date(2030, 1, 1)},
    )
]


@pytest.mark.parametrize("search_filter", FILTERS, ids=lambda f: repr(f))
def test_mask_agrees_with_the_filter_rule_for_every_document(columns: DocumentColumns, search_filter: SearchFilter) -> None:
    mask = columns.mask(search_filter.sources, search_filter.date_from, search_filter.date_to)
    expected = [search_filter.accepts(source, date) for _, source, date, _ in DOCS]
    assert mask.dtype == np.float32 and mask.tolist() == [float(x) for x in expected]


def test_an_empty_mask_keeps_everything(columns: DocumentColumns) -> None:
    assert columns.mask().tolist() == [1.0] * len(DOCS)
    assert DocumentColumns.build([], []).mask(("a.txt",), dt.date(2024, 1, 1)).shape == (0,)


def test_masked_documents_score_zero_and_never_come_back(index: KeywordIndex, columns: DocumentColumns) -> None:
    plain = index.scores("storm")
    assert (plain[:4] > 0).all() and plain[4] == 0
    mask = columns.mask(("a.txt", "d.txt"))
    masked = index.scores("storm", mask)
    np.testing.assert_allclose(masked, plain * mask)
    hits = index.top("storm", 10, mask)
    assert [doc_id for doc_id, _ in hits] and {doc_id for doc_id, _ in hits} <= {"a#1:0", "a#1:1"}
    assert {doc_id for doc_id, _ in index.top("storm", 10)} == set(IDS[:4])


def test_top_is_sorted_best_first_and_bounded_by_k(index: KeywordIndex) -> None:
    hits = index.top("storm harbour boats", 2)
    assert len(hits) == 2 and hits[0][0] == "a#1:1"
    assert [score for _, score in hits] == sorted((score for _, score in hits), reverse=True)
    assert index.top("zeppelin", 3) == []


def test_mask_matches_the_filter_rule_on_a_snapshot_sized_index() -> None:
    """10,000 documents over 50 sources, some undated."""
    sources = [f"s{i % 50}.txt" for i in range(10_000)]
    dates = [dt.date(2020, 1, 1) + dt.timedelta(days=i % 1000) if i % 7 else None for i in range(10_000)]
    big = DocumentColumns.build(sources, dates)
    search_filter = SearchFilter(sources=("s3.txt", "s7.txt"), date_from=dt.date(2021, 1, 1))
    mask = big.mask(search_filter.sources, search_filter.date_from, search_filter.date_to)
    expected = [search_filter.accepts(s, d) for s, d in zip(sources, dates)]
    assert mask.astype(bool).tolist() == expected and 0 < mask.sum() < 10_000
