"""Source and date-range filters in retrieve() and ask(), on the bundled corpus (real store, real model).

Bundled corpus dates: 000 2024-11-17, 001 2024-06-26, 002 2024-06-14, 003 2023-11-29, 004 undated."""

from __future__ import annotations

import datetime as dt

import pytest

from assistant import SearchFilter, ask, retrieve
from assistant.engine_pool import share

JATEC = "000_41cde8d9d66dd8ed.txt"
WASHINGTON = "001_8794f3ef5473d852.txt"
MINISTERS = "002_73f85231b0a38a8c.txt"
NOV_2023 = "003_e49305c45f08ffdc.txt"
QUESTION = "What did NATO agree about support for Ukraine?"


@pytest.fixture
def settings(bundled_engine, monkeypatch):
    share(bundled_engine)
    return bundled_engine.settings


def test_unfiltered_retrieval_spans_several_sources(settings) -> None:
    assert len({p.source for p in retrieve(QUESTION, top_k=10, settings=settings)}) >= 3


def test_source_filter_keeps_only_those_sources(settings) -> None:
    passages = retrieve(QUESTION, top_k=10, sources=[WASHINGTON, NOV_2023], settings=settings)
    assert passages
    assert {p.source for p in passages} <= {WASHINGTON, NOV_2023}
    assert {p.source for p in retrieve(QUESTION, top_k=40, sources=[WASHINGTON, NOV_2023], settings=settings)} == {WASHINGTON, NOV_2023}


def test_source_filter_finds_a_source_the_query_would_rank_low(settings) -> None:
    """The JATEC article is about a training centre; filtering to it still returns its passages."""
    passages = retrieve("Where will the new NATO command be based?", top_k=3, sources=[JATEC], settings=settings)
    assert passages and all(p.source == JATEC for p in passages)


def test_date_range_is_inclusive_and_drops_undated_documents(settings) -> None:
    passages = retrieve(QUESTION, top_k=20, date_from="2024-06-14", date_to="2024-06-26", settings=settings)
    assert {p.source for p in passages} == {WASHINGTON, MINISTERS}
    assert all(dt.date(2024, 6, 14) <= p.date <= dt.date(2024, 6, 26) for p in passages)


def test_open_ended_date_ranges(settings) -> None:
    later = retrieve(QUESTION, top_k=20, date_from=dt.date(2024, 7, 1), settings=settings)
    assert {p.source for p in later} == {JATEC}
    earlier = retrieve(QUESTION, top_k=20, date_to="2023-12-31", settings=settings)
    assert {p.source for p in earlier} == {NOV_2023}


def test_filter_that_matches_nothing_returns_nothing(settings) -> None:
    assert retrieve(QUESTION, top_k=5, sources=["no-such-file.txt"], settings=settings) == []
    assert retrieve(QUESTION, top_k=5, date_from="2030-01-01", settings=settings) == []


def test_ask_cites_only_filtered_sources(settings) -> None:
    answer = ask("Which country objected to calling the new effort a mission?", sources=[WASHINGTON], settings=settings)
    assert answer.passages and {p.source for p in answer.passages} == {WASHINGTON}
    assert not answer.abstained
    assert answer.citations and all(c.source == WASHINGTON for c in answer.citations)
    assert "Germany" in answer.text


def test_ask_with_a_date_range_uses_only_passages_in_range(settings) -> None:
    answer = ask(QUESTION, date_from="2024-06-01", date_to="2024-06-30", settings=settings)
    assert answer.passages and all(dt.date(2024, 6, 1) <= p.date <= dt.date(2024, 6, 30) for p in answer.passages)
    assert all(c.source in (WASHINGTON, MINISTERS) for c in answer.citations)


def test_ask_abstains_when_the_filter_leaves_nothing(settings) -> None:
    answer = ask(QUESTION, date_from="2030-01-01", settings=settings)
    assert answer.abstained and not answer.passages and not answer.citations


def test_engine_takes_a_search_filter_object(bundled_engine) -> None:
    search_filter = SearchFilter(sources=(MINISTERS,))
    passages = bundled_engine.retrieve(QUESTION, top_k=4, filters=search_filter)
    assert passages and {p.source for p in passages} == {MINISTERS}
