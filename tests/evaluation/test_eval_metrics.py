"""Metric functions on hand-computed cases, edge cases included."""

from __future__ import annotations

import pytest

from assistant.evaluation import metrics as m
from assistant.evaluation.gold import GoldItem
from assistant.evaluation.scoring import score_turn, summarize
from assistant.types import Answer, Citation, Passage


def test_normalize_drops_case_punctuation_articles_and_unicode_symbols() -> None:
    assert m.normalize_answer("  The  €40 Billion, pledge! ") == "40 billion pledge"
    assert m.normalize_answer("Hungary won’t block them") == "hungary wont block them"
    assert m.normalize_answer("Ukraine-NATO") == "ukraine nato"
    assert m.normalize_answer("") == ""


def test_alias_match_is_token_aligned() -> None:
    assert m.alias_match("NATO now has 32 member states.", ["32"])
    assert not m.alias_match("NATO now has 320 member states.", ["32"])
    assert m.alias_match("It is based in Wiesbaden, Germany [1].", ["Berlin", "wiesbaden"])
    assert not m.alias_match("", ["Wiesbaden"])  # empty answer
    assert not m.alias_match("Wiesbaden", [])  # no aliases
    assert not m.alias_match("the the", ["the"])  # an alias that normalises to nothing never matches


def test_exact_match() -> None:
    assert m.exact_match("The Vilnius.", ["Vilnius"])
    assert not m.exact_match("in Vilnius", ["Vilnius"])


def test_token_f1_hand_computed() -> None:
    # pred tokens: held in vilnius lithuania (4); gold: vilnius lithuania (2); overlap 2
    # precision 2/4, recall 2/2 -> F1 = 2*0.5*1/1.5 = 2/3
    assert m.token_f1("held in Vilnius, Lithuania", "Vilnius, Lithuania") == pytest.approx(2 / 3)
    assert m.token_f1("Wiesbaden", "Bydgoszcz") == 0.0
    assert m.token_f1("", "Vilnius") == 0.0  # empty answer
    assert m.token_f1("", "") == 1.0
    # repeated tokens count once per occurrence: pred "a b b", gold "b b c" -> overlap 2 (b, b); P=2/3 R=2/3
    assert m.token_f1("x y y", "y y z") == pytest.approx(2 / 3)
    assert m.max_token_f1("in Vilnius", ["Lithuania", "Vilnius"]) == pytest.approx(2 / 3)
    assert m.max_token_f1("anything", []) == 0.0


def test_retrieval_metrics_at_document_level() -> None:
    ranked = ["a", "a", "b", "c", "b", "d", "e", "f"]  # documents: a, b, c, d, e, f
    assert m.document_ranking(ranked) == ["a", "b", "c", "d", "e", "f"]
    assert m.hit_at_k(ranked, {"c"}, 1) == 0.0
    assert m.hit_at_k(ranked, {"c"}, 3) == 1.0  # the second "a" chunk does not push c out of the top 3
    assert m.mrr_at_k(ranked, {"c", "e"}, 10) == pytest.approx(1 / 3)
    assert m.mrr_at_k(ranked, {"f"}, 5) == 0.0
    assert m.mrr_at_k(ranked, {"a"}, 10) == 1.0
    assert m.mrr_at_k([], {"a"}, 10) == 0.0


def test_retrieval_metrics_without_gold_sources_are_undefined() -> None:
    assert m.hit_at_k(["a"], set(), 1) is None
    assert m.mrr_at_k(["a"], set(), 10) is None
    with pytest.raises(ValueError):
        m.hit_at_k(["a"], {"a"}, 0)


def test_citation_metrics() -> None:
    assert m.citation_validity(["c1", "c9"], {"c1", "c2"}) == 0.5
    assert m.citation_validity([], {"c1"}) is None
    assert m.citation_precision(["a", "b", "a"], {"a"}) == pytest.approx(2 / 3)
    assert m.citation_precision(["a"], set()) is None  # no gold sources: undefined, not 0
    assert m.citation_precision([], {"a"}) is None


def test_abstention_scores_hand_computed() -> None:
    # items:       ans   ans   unans  unans  unans
    # abstained:   no    YES   YES    no     YES
    # tp=2 (unans abstained), fp=1 (abstention on an answerable item), fn=1
    s = m.abstention_scores([False, True, True, False, True], [True, True, False, False, False])
    assert (s["tp"], s["fp"], s["fn"]) == (2, 1, 1)
    assert s["precision"] == pytest.approx(2 / 3)
    assert s["recall"] == pytest.approx(2 / 3)
    assert s["f1"] == pytest.approx(2 / 3)


def test_abstention_scores_edge_cases() -> None:
    never = m.abstention_scores([False, False], [True, False])  # should have abstained once, never did
    assert never["precision"] == 0.0 and never["recall"] == 0.0 and never["f1"] == 0.0
    all_answerable = m.abstention_scores([True, False], [True, True])  # one wrong abstention, nothing to abstain on
    assert all_answerable["precision"] == 0.0 and all_answerable["recall"] is None and all_answerable["f1"] is None
    nothing = m.abstention_scores([False], [True])
    assert nothing["precision"] is None and nothing["recall"] is None
    with pytest.raises(ValueError):
        m.abstention_scores([True], [])


def test_percentile_and_latency_summary() -> None:
    assert m.percentile([], 50) is None
    assert m.percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert m.percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)  # numpy's linear interpolation
    summary = m.latency_summary([{"retrieve": 0.1, "total": 0.3}, {"retrieve": 0.3, "total": 0.5}])
    assert summary["retrieve"]["p50"] == pytest.approx(0.2)
    assert summary["total"]["n"] == 2 and summary["total"]["max"] == 0.5
    assert m.mean([None, 1.0, 0.0]) == 0.5 and m.mean([None]) is None


def _passage(source: str, chunk: str, text: str = "text", score: float = 1.0) -> Passage:
    return Passage(chunk_id=chunk, source=source, title=source, text=text, score=score)


def _answer(text: str, *, abstained: bool = False, cited: list[Passage] = (), passages: list[Passage] = ()) -> Answer:
    citations = tuple(
        Citation(n=i + 1, source=p.source, title=p.title, quote=p.text, passage=p.text, chunk_id=p.chunk_id) for i, p in enumerate(cited)
    )
    return Answer(question="q", standalone_question="q", text=text, citations=citations, passages=tuple(passages), abstained=abstained, timings={"total": 0.01})


ITEM = GoldItem(id="x", question="Where is it based?", answers=("Wiesbaden",), sources=("doc1",), category="single")
NO_GOLD = GoldItem(id="u", question="How much will it cost?", answerable=False, category="unanswerable")


def test_score_turn_abstention_on_answerable_item_fails_with_zero_scores() -> None:
    ranking = [_passage("doc1", "doc1#0")]
    row = score_turn(ITEM, 0, ITEM.all_turns[0], _answer("I cannot find this in the documents. Wiesbaden", abstained=True), ranking)
    assert row["metrics"]["pass"] is False
    assert row["metrics"]["alias_match"] is False  # abstention text never counts as an answer
    assert row["metrics"]["f1"] == 0.0
    assert row["metrics"]["hit@1"] == 1.0  # retrieval is scored independently of the answer
    assert row["metrics"]["citation_validity"] is None


def test_score_turn_empty_answer_and_citations() -> None:
    p0, p1 = _passage("doc1", "doc1#0"), _passage("doc2", "doc2#0")
    empty = score_turn(ITEM, 0, ITEM.all_turns[0], _answer(""), [p1, p0])
    assert empty["metrics"]["pass"] is False and empty["metrics"]["f1"] == 0.0
    assert empty["metrics"]["hit@1"] == 0.0 and empty["metrics"]["mrr@10"] == 0.5
    cited = score_turn(ITEM, 0, ITEM.all_turns[0], _answer("Wiesbaden [1] [2]", cited=[p0, p1], passages=[p0]), [p0, p1])
    assert cited["metrics"]["pass"] is True
    assert cited["metrics"]["citation_validity"] == 0.5  # doc2#0 was cited but not among the answer's passages
    assert cited["metrics"]["citation_precision"] == 0.5


def test_score_turn_without_gold_sources() -> None:
    row = score_turn(NO_GOLD, 0, NO_GOLD.all_turns[0], _answer("It costs 5 euros [1]", cited=[_passage("doc1", "c")], passages=[_passage("doc1", "c")]), [_passage("doc1", "c")])
    assert row["metrics"]["pass"] is False  # should have abstained
    assert row["metrics"]["hit@5"] is None and row["metrics"]["citation_precision"] is None
    assert "alias_match" not in row["metrics"]
    ok = score_turn(NO_GOLD, 0, NO_GOLD.all_turns[0], _answer("Not in the documents.", abstained=True), [])
    assert ok["metrics"]["pass"] is True


def test_summarize_pools_citations_and_skips_undefined() -> None:
    p0, p1 = _passage("doc1", "doc1#0"), _passage("doc2", "doc2#0")
    rows = [
        score_turn(ITEM, 0, ITEM.all_turns[0], _answer("Wiesbaden [1]", cited=[p0], passages=[p0]), [p0]),
        score_turn(ITEM, 0, ITEM.all_turns[0], _answer("Berlin [1] [2] [3]", cited=[p1, p1, p0], passages=[p0, p1]), [p1, p0]),
        score_turn(NO_GOLD, 0, NO_GOLD.all_turns[0], _answer("none", abstained=True), []),
    ]
    s = summarize(rows)["metrics"]
    assert s["accuracy"] == pytest.approx(2 / 3)
    assert s["hit@1"] == 0.5  # the unanswerable row has no gold and is skipped
    assert s["mrr@10"] == pytest.approx(0.75)
    assert s["citation_precision"] == pytest.approx(2 / 4)  # pooled: 1 of 1, then 1 of 3
    assert s["abstention_precision"] == 1.0 and s["abstention_recall"] == 1.0
    assert s["followup_accuracy"] is None


@pytest.mark.parametrize(("question", "short", "quotes", "malformed"), [
    ("Which valve was swapped?", "318", ["They swapped valve KX-318 at dawn."], True),        # cuts a code
    ("Which valve was swapped?", "KX-318", ["They swapped valve KX-318 at dawn."], False),
    ("How much did they pledge?", "a", ["They pledged a sum."], True),                        # a stop word
    ("How many barrels were filled?", "stout", ["640 barrels of stout"], True),              # not a number
    ("When did the mill close?", "the owners", ["The mill closed when the owners left."], True),
    ("Where is the office?", "Lerwick", ["The office is in Lerwick."], False),
    ("What does ZAPC stand for?", "Patrol Command", ["The Zonal Air Patrol Command (ZAPC)"], True),   # part of the name
    ("What does ZAPC stand for?", "Zonal Air Patrol Command", ["The Zonal Air Patrol Command (ZAPC)"], False),
])
def test_malformed_short_answers(question: str, short: str, quotes: list[str], malformed: bool) -> None:
    assert m.malformed_short_answer(question, short, quotes) is malformed
