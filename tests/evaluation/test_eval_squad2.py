"""The article-level fit/report split, the squad/squad2 suites built on it, the short-answer and
abstention trade-off metrics (on hand-made answers to made-up questions), and one small real run."""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from assistant.config import load_settings
from assistant.evaluation.gold import GoldItem
from assistant.evaluation.harness import write_run
from assistant.evaluation.report import TRADEOFF_CHART
from assistant.evaluation.scoring import score_turn, summarize
from assistant.evaluation.signals import (
    confidence_of,
    has_confidence_field,
    has_short_answer_field,
)
from assistant.evaluation.splits import (
    ARTICLE_SPLIT_SEED,
    SplitError,
    article_of,
    group_by_files,
    read_question_articles,
    select_articles,
    split_articles,
    split_strata,
    squad_article_split,
)
from assistant.evaluation.suites import (
    SQUAD2_DIR,
    SQUAD_DIR,
    build_suite,
    stratified_sample,
)
from assistant.evaluation.tradeoff import best_within, separation_auc, tradeoff_curve
from assistant.types import Answer, Citation, Passage

ARTICLES = [f"Article_{i:02d}" for i in range(40)]
PNG = b"\x89PNG\r\n\x1a\n"


# -- the split ----------------------------------------------------------------------------------
def test_article_of_reads_the_title_before_the_last_hash() -> None:
    assert article_of("Super_Bowl_50#12") == "Super_Bowl_50"
    assert article_of("C#_(programming_language)#3") == "C#_(programming_language)"
    for bad in ("no_paragraph", "Title#", "#3", "Title#x"):
        with pytest.raises(SplitError, match="not a SQuAD passage id"):
            article_of(bad)


def test_split_is_deterministic_disjoint_and_covers_every_article() -> None:
    split = split_articles(ARTICLES, seed=7)
    assert split == split_articles(ARTICLES, seed=7)
    assert set(split.fit).isdisjoint(split.report)
    assert set(split.fit) | set(split.report) == set(ARTICLES)
    assert len(split.report) == 20 and split.describe() == "report split: 20 articles, seed 7"
    assert split.report != split_articles(ARTICLES, seed=8).report  # the seed matters
    assert split.report != tuple(ARTICLES[:20])  # shuffled, not the first half of the sorted titles


def test_split_is_stable_under_input_order_and_duplicates() -> None:
    shuffled = ARTICLES[:]
    random.Random(3).shuffle(shuffled)
    expected = split_articles(ARTICLES, seed=11)
    assert split_articles(shuffled, seed=11) == expected
    assert split_articles(reversed(ARTICLES), seed=11) == expected
    assert split_articles(ARTICLES + ARTICLES[:5], seed=11) == expected


def test_split_share_and_bad_requests() -> None:
    assert len(split_articles(ARTICLES, report_share=0.25).report) == 10
    tiny_low, tiny_high = split_articles(["a", "b", "c"], report_share=0.01), split_articles(["a", "b", "c"], report_share=0.99)
    assert (len(tiny_low.fit), len(tiny_low.report)) == (2, 1)  # both sides always get an article
    assert (len(tiny_high.fit), len(tiny_high.report)) == (1, 2)
    for share in (0.0, 1.0, -0.5):
        with pytest.raises(SplitError, match="report_share"):
            split_articles(ARTICLES, report_share=share)
    with pytest.raises(SplitError, match="at least 2"):
        split_articles(["only", "only"])


def test_strata_are_split_on_their_own_and_must_not_overlap() -> None:
    big, small = ARTICLES[:30], ARTICLES[30:34]
    split = split_strata([big, small], seed=5)
    assert len(set(split.report) & set(big)) == 15 and len(set(split.report) & set(small)) == 2
    assert split == split_strata([small, big], seed=5)
    with pytest.raises(SplitError, match="overlap"):
        split_strata([big, ARTICLES[25:35]])


def test_group_by_files_groups_articles_by_which_files_ask_about_them() -> None:
    groups = group_by_files([{"a", "b", "c", "d"}, {"b", "c"}, {"d"}])
    assert sorted(map(sorted, groups)) == [["a"], ["b", "c"], ["d"]]


def test_select_articles_keeps_items_of_the_chosen_articles_only() -> None:
    items = [("q1", ["Lighthouse#0"]), ("q2", ["Glacier#4"]), ("q3", ["Lighthouse#2", "Lighthouse#3"])]
    assert [q for q, _ in select_articles(items, {"Lighthouse"}, lambda it: it[1])] == ["q1", "q3"]
    with pytest.raises(SplitError, match="exactly one article"):
        select_articles([("q4", ["Lighthouse#0", "Glacier#1"])], {"Lighthouse"}, lambda it: it[1])


def test_the_project_split_is_pinned_and_balances_both_question_files() -> None:
    """Changing the seed or the rule moves articles between fit and report: this test must then fail."""
    split = squad_article_split()
    assert split.seed == ARTICLE_SPLIT_SEED == 20261124
    assert split.report == (
        "American_Broadcasting_Company", "Black_Death", "Civil_disobedience", "Fresno,_California", "Huguenot",
        "Intergovernmental_Panel_on_Climate_Change", "Islamism", "Normans", "Pharmacy", "Rhine",
        "Sky_(United_Kingdom)", "Southern_California", "United_Methodist_Church", "Warsaw",
    )
    v1 = read_question_articles(SQUAD_DIR / "questions.dev.jsonl")
    v2 = read_question_articles(SQUAD2_DIR / "questions.dev.jsonl")
    assert set(split.fit) | set(split.report) == v1 | v2 and set(split.fit).isdisjoint(split.report)
    assert len(v2 & set(split.report)) == len(v2) // 2  # half of the SQuAD 2.0 articles on each side


# -- the suites ---------------------------------------------------------------------------------
def test_gated_squad_sample_comes_from_report_articles_only() -> None:
    suite = build_suite("squad", load_settings(), sample=200)
    report = set(suite.split.report)
    assert len(suite.items) == 200 and all(article_of(s) in report for it in suite.items for s in it.sources)
    assert "report split: 14 articles, seed 20261124" in suite.description
    smaller = build_suite("squad", load_settings(), sample=100)
    assert [i.id for i in smaller.items] == [i.id for i in suite.items[:100]]  # CI's sample is part of the default


def test_squad2_sample_is_stratified_nested_and_from_report_articles() -> None:
    settings = load_settings()
    full = build_suite("squad2", settings)
    sample = build_suite("squad2", settings, sample=120)
    larger = build_suite("squad2", settings, sample=300)
    report = set(full.split.report)
    assert all(article_of(s) in report for it in full.items for s in it.sources)
    assert {it.answerable for it in full.items} == {True, False}
    pool_share = sum(not it.answerable for it in full.items) / len(full.items)
    assert abs(sum(not it.answerable for it in sample.items) - 120 * pool_share) <= 0.5
    assert {i.id for i in sample.items} <= {i.id for i in larger.items}
    assert all(it.category == ("single" if it.answerable else "unanswerable") for it in sample.items)
    assert full.settings.store.collection == sample.settings.store.collection == build_suite("squad", settings).settings.store.collection
    assert "report split: 14 articles, seed 20261124" in sample.description and "stratified" in sample.description


def test_stratified_sample_keeps_the_mix_on_made_up_items() -> None:
    items = [GoldItem(id=f"a{i:02d}", question=f"What is the colour of door {i}?", answers=("red",), sources=("House#0",)) for i in range(30)]
    items += [GoldItem(id=f"u{i:02d}", question=f"Who painted window {i}?", answerable=False, category="unanswerable") for i in range(10)]
    picked = stratified_sample(items, 8, seed=1)
    assert sum(not it.answerable for it in picked) == 2 and len(picked) == 8
    assert stratified_sample(items, 8, seed=1) == picked and stratified_sample(items, 8, seed=2) != picked
    assert len(stratified_sample(items, 100, seed=1)) == 40


# -- the metrics on hand-made answers -------------------------------------------------------------
def test_tradeoff_curve_and_operating_point_on_made_up_scores() -> None:
    answerable = [0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.1]
    unanswerable = [0.55, 0.38, 0.2, 0.15, 0.05]
    curve = tradeoff_curve(answerable, unanswerable)
    assert (curve[0].abstained_unanswerable, curve[0].false_abstention) == (0.0, 0.0)
    assert (curve[-1].abstained_unanswerable, curve[-1].false_abstention) == (1.0, 1.0)
    assert all(a.false_abstention <= b.false_abstention and a.abstained_unanswerable <= b.abstained_unanswerable for a, b in itertools.pairwise(curve))
    best = best_within(curve, 0.10)  # abstain below 0.3: catches 0.2, 0.15, 0.05 and loses only 0.1
    assert best is not None and best.threshold == 0.3
    assert (best.abstained_unanswerable, best.false_abstention) == (0.6, 0.1)
    strict = best_within(curve, 0.0)  # abstain below 0.1: catches 0.05 and no answerable question
    assert strict is not None and (strict.threshold, strict.abstained_unanswerable, strict.false_abstention) == (0.1, 0.2, 0.0)
    assert tradeoff_curve([], unanswerable) == [] and best_within([], 0.1) is None


def test_separation_auc() -> None:
    assert separation_auc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert separation_auc([0.1, 0.2], [0.9, 0.8]) == 0.0
    assert separation_auc([0.5, 0.5], [0.5]) == 0.5
    assert separation_auc([0.9, 0.3], [0.5]) == 0.5
    assert separation_auc([], [0.5]) is None


def _passage(name: str, text: str, cosine: float | None, score: float) -> Passage:
    scores = {"sentence_dense_feature": cosine} if cosine is not None else {}
    return Passage(chunk_id=f"{name}#0:0", source=f"{name}#0", title=name, text=text, score=score, scores=scores)


def _answer(question: str, text: str, *, passages: tuple[Passage, ...], abstained: bool = False, short: str | None = None) -> Answer:
    fields: dict[str, Any] = {}
    if short is not None:
        fields["short_answer"] = short  # only passed by tests that run when the field exists
    citations = () if abstained else (Citation(n=1, source=passages[0].source, title=passages[0].title, quote=text,
                                                passage=passages[0].text, chunk_id=passages[0].chunk_id),)
    return Answer(question=question, standalone_question=question, text=text, citations=citations, passages=passages,
                  abstained=abstained, config_hash="hand-made", timings={"total": 0.01}, **fields)


BRIDGE = "The Harbour Span opened in 1932 after four years of work."
BRIDGE_ITEM = GoldItem(id="bridge-year", question="When did the Harbour Span open?", answers=("1932",), sources=("Harbour#0",))


def test_short_answer_metrics_fall_back_to_the_answer_text() -> None:
    answer = _answer(BRIDGE_ITEM.question, f"{BRIDGE} [1]", passages=(_passage("Harbour", BRIDGE, 0.71, 2.0),))
    row = score_turn(BRIDGE_ITEM, 0, BRIDGE_ITEM.all_turns[0], answer, answer.passages)
    assert row["metrics"]["alias_match"] is True
    assert row["metrics"]["short_em"] is False
    # 11 tokens after SQuAD normalisation ("the" dropped, "[1]" -> "1"), one of them "1932": F1 = 2 / 12
    assert row["metrics"]["short_f1"] == pytest.approx(1 / 6)
    assert row["confidence"] == 0.71 and row["confidence_source"] in ("best_sentence_cosine", "confidence")
    abstained = _answer(BRIDGE_ITEM.question, "The documents do not say.", passages=answer.passages, abstained=True)
    row = score_turn(BRIDGE_ITEM, 0, BRIDGE_ITEM.all_turns[0], abstained, abstained.passages)
    assert row["metrics"]["short_em"] is False and row["metrics"]["short_f1"] == 0.0


@pytest.mark.skipif(not has_short_answer_field(), reason="Answer has no short_answer field yet")
def test_short_answer_metrics_score_the_short_answer_when_the_answer_has_one() -> None:
    answer = _answer(BRIDGE_ITEM.question, f"{BRIDGE} [1]", passages=(_passage("Harbour", BRIDGE, 0.71, 2.0),), short="1932")
    row = score_turn(BRIDGE_ITEM, 0, BRIDGE_ITEM.all_turns[0], answer, answer.passages)
    assert row["short_answer"] == "1932" and row["metrics"]["short_em"] is True and row["metrics"]["short_f1"] == 1.0


def test_confidence_signal_falls_back_in_a_fixed_order() -> None:
    def plain(passages: tuple[Passage, ...]) -> Answer:
        return Answer(question="q?", standalone_question="q?", text="t", passages=passages)

    two = (_passage("A", "x", 0.4, 3.0), _passage("B", "y", 0.6, 1.0))
    assert confidence_of(plain(two)) == (0.6, "best_sentence_cosine")  # the best sentence of any passage
    assert confidence_of(plain((_passage("A", "x", None, 3.0),))) == (3.0, "top_passage_score")
    assert confidence_of(plain(())) == (None, "none")


@pytest.mark.skipif(not has_confidence_field(), reason="Answer has no confidence field yet")
def test_confidence_signal_prefers_the_answers_own_confidence() -> None:
    passages = (_passage("A", "x", 0.4, 3.0),)
    answer = Answer(question="q?", standalone_question="q?", text="t", passages=passages, confidence=0.42)
    assert confidence_of(answer) == (0.42, "confidence")


def _made_up_rows() -> list[dict[str, Any]]:
    """Ten answerable and five unanswerable made-up questions, with the scores their passages carry."""
    rows = []
    for i, cosine in enumerate([0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.1]):
        text = f"Gate {i} of the old fort is painted green."
        item = GoldItem(id=f"gate-{i}", question=f"What colour is gate {i} of the old fort?", answers=("green",), sources=(f"Fort#{i}",))
        answer = _answer(item.question, f"{text} [1]", passages=(_passage(f"Fort{i}", text, cosine, 1.0),), abstained=cosine < 0.2)
        rows.append(score_turn(item, 0, item.all_turns[0], answer, answer.passages))
    for i, cosine in enumerate([0.55, 0.38, 0.2, 0.15, 0.05]):
        text = f"Tower {i} of the old fort is made of stone."
        item = GoldItem(id=f"tower-{i}", question=f"Who built tower {i} of the old fort?", answerable=False, category="unanswerable")
        answer = _answer(item.question, f"{text} [1]", passages=(_passage(f"Tower{i}", text, cosine, 1.0),), abstained=cosine < 0.1)
        rows.append(score_turn(item, 0, item.all_turns[0], answer, answer.passages))
    return rows


def test_summary_reports_short_answers_and_the_tradeoff(tmp_path: Path) -> None:
    rows = _made_up_rows()
    summary = summarize(rows)
    metrics = summary["metrics"]
    assert metrics["abstention_recall"] == pytest.approx(1 / 5) and metrics["wrong_abstention_rate"] == pytest.approx(1 / 10)
    assert metrics["tradeoff_abstention_at_fa10"] == pytest.approx(0.6)
    assert metrics["abstention_auc"] == pytest.approx(separation_auc([0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.1],
                                                                     [0.55, 0.38, 0.2, 0.15, 0.05]))
    # Whole sentences of 9 tokens, one of them "green", nine answered: F1 2 / 10 each, 0 for the abstention.
    assert metrics["short_answer_em"] == 0.0 and metrics["short_answer_f1"] == pytest.approx(0.18)
    tradeoff = summary["abstention_tradeoff"]
    assert tradeoff["signal"] == "best_sentence_cosine" and (tradeoff["n_answerable"], tradeoff["n_unanswerable"]) == (10, 5)
    assert tradeoff["at_max_false_abstention"]["threshold"] == 0.3

    split = {"part": "report", "description": "report split: 3 articles, seed 99", "seed": 99, "report_share": 0.5,
             "articles": ["Fort", "Tower", "Moat"]}
    write_run(tmp_path / "run", rows, {**summary, "suite": "made-up", "description": "made-up questions", "split": split,
                                       "config_hash": "hand-made", "n_items": 15, "n_questions": 15})
    assert (tmp_path / "run" / "charts" / TRADEOFF_CHART).read_bytes()[:8] == PNG
    report = (tmp_path / "run" / "report.md").read_text(encoding="utf-8")
    assert "report split: 3 articles, seed 99" in report and "## Abstention trade-off" in report
    assert f"charts/{TRADEOFF_CHART}" in report and "0.600 of unanswerable questions abstained" in report


def test_no_tradeoff_without_unanswerable_questions(tmp_path: Path) -> None:
    rows = [r for r in _made_up_rows() if r["answerable"]]
    summary = summarize(rows)
    assert summary["metrics"]["tradeoff_abstention_at_fa10"] is None and summary["metrics"]["abstention_auc"] is None
    write_run(tmp_path / "run", rows, {**summary, "suite": "made-up", "config_hash": "hand-made"})
    assert not (tmp_path / "run" / "charts" / TRADEOFF_CHART).exists()
    assert "Abstention trade-off" not in (tmp_path / "run" / "report.md").read_text(encoding="utf-8")


# -- one small real run -------------------------------------------------------------------------
@pytest.mark.slow
def test_squad2_sample_runs_end_to_end_with_the_real_engine(tmp_path: Path, embedder) -> None:
    """20 real squad2 questions through the real Assistant, harness, report and chart.

    The suite's own index holds all 2,067 passages (minutes to build on 2 cores: that is the
    benchmark's job); here the collection holds the sampled questions' own passages plus 60
    distractors, indexed into tmp_path."""
    from assistant import Assistant
    from assistant.evaluation.harness import run_suite

    suite = build_suite("squad2", load_settings(), sample=20)
    assert sum(not it.answerable for it in suite.items) == 10 and len(suite.items) == 20
    gold = {s for it in suite.items for s in it.sources}
    passages = [json.loads(line) for line in (SQUAD_DIR / "passages.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    distractors = [p for p in passages if p["id"] not in gold][::34][:60]
    subset = tmp_path / "passages.jsonl"
    subset.write_text("".join(json.dumps(p) + "\n" for p in passages if p["id"] in gold) + "".join(json.dumps(p) + "\n" for p in distractors),
                      encoding="utf-8")
    settings = suite.settings.with_(corpus={"path": subset}, store={"path": tmp_path / "index", "collection": "squad2-small", "chroma_url": None})
    result = run_suite(replace(suite, settings=settings), engine=Assistant(settings, embedder=embedder), out_dir=tmp_path / "run", progress=False)

    summary = json.loads((result.out_dir / "summary.json").read_text(encoding="utf-8"))
    metrics = summary["metrics"]
    for name in ("abstention_recall", "wrong_abstention_rate", "answer_alias_accuracy", "short_answer_em", "short_answer_f1",
                 "tradeoff_abstention_at_fa10", "abstention_auc"):
        assert metrics[name] is not None and 0.0 <= metrics[name] <= 1.0, name
    assert metrics["hit@5"] > 0.5  # the gold passages are in a collection of 80: retrieval must find most
    assert summary["split"]["description"] == "report split: 14 articles, seed 20261124"
    assert summary["abstention_tradeoff"]["n_unanswerable"] == 10 and summary["abstention_tradeoff"]["n_answerable"] == 10
    assert (result.out_dir / "charts" / TRADEOFF_CHART).read_bytes()[:8] == PNG
    assert "report split: 14 articles, seed 20261124" in (result.out_dir / "report.md").read_text(encoding="utf-8")
