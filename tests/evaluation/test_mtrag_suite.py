"""The mtrag suite: pure metric parts on fixed inputs, and the whole runner on a tiny synthetic
benchmark in MTRAG's JSONL shape (our own text) over a real index."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from assistant.evaluation.errors import EvalError
from assistant.evaluation.mtrag import (
    MODES,
    gate_metrics,
    ndcg_at_k,
    query_for,
    recall_at_k,
    run_mtrag,
    three_way_table,
)
from assistant.evaluation.mtrag_data import (
    DOMAINS,
    GATED_POOL,
    Domain,
    MtragTurn,
    labelled_turns,
    load_turns,
    part_of,
    select_turns,
    subpool_lines,
)
from tests.conftest import make_settings


def test_recall_and_ndcg_on_fixed_rankings() -> None:
    assert recall_at_k(["a", "b", "c"], ["b", "z"]) == 0.5
    assert recall_at_k(["a"], []) is None
    assert ndcg_at_k(["g", "x"], ["g"]) == 1.0
    assert ndcg_at_k(["x", "g"], ["g"]) == pytest.approx(1 / math.log2(3))
    # two gold passages at ranks 1 and 3: (1 + 1/2) / (1 + 1/log2(3))
    assert ndcg_at_k(["g1", "x", "g2"], ["g1", "g2"]) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(["x"] * 5 + ["g"], ["g"]) == 0.0  # beyond k


def test_part_of_is_stable_and_splits_both_ways() -> None:
    parts = [part_of(f"conv-{i}") for i in range(40)]
    assert parts == [part_of(f"conv-{i}") for i in range(40)]
    assert {"fit", "report"} == set(parts)


def test_turns_carry_history_and_modes_send_the_right_query() -> None:
    conversation = {"id": "x", "turns": [
        {"question": "q0", "answerability": "ANSWERABLE", "gold_passage_ids": ["p"], "reference_answer": "a0", "rewrite": None},
        {"question": "chit chat", "answerability": "CONVERSATIONAL", "reference_answer": "a1"},
        {"question": "q2", "answerability": "UNANSWERABLE", "gold_passage_ids": [], "reference_answer": "", "rewrite": "q2 full"},
    ]}
    turns = labelled_turns([conversation], "mtrag", last_only=False)
    assert [(t.index, t.label) for t in turns] == [(0, "ANSWERABLE"), (2, "UNANSWERABLE")]
    last = turns[1]
    assert last.history == (("q0", "a0"), ("chit chat", "a1"))
    assert query_for(last, "last_turn") == ("q2", ())
    assert query_for(last, "rewrite") == ("q2 full", ())
    question, history = query_for(last, "with_history")
    assert question == "q2" and [h.question for h in history] == ["q0", "chit chat"]
    assert query_for(turns[0], "rewrite")[0] == "q0"  # no benchmark rewrite: the question itself
    assert [t.index for t in labelled_turns([conversation], "mtrag-un", last_only=True)] == [2]


def _row(mode: str, dataset: str, turn: int, label: str, **kw) -> dict:
    base = {"mode": mode, "dataset": dataset, "turn": turn, "label": label, "gold": ["g"], "recall@5": 0.0, "ndcg@5": 0.0,
            "supported": False, "abstained": False, "clarified": False}
    return {**base, **kw}


def test_three_way_table_on_fixed_rows() -> None:
    rows = [
        _row("last_turn", "mtrag", 0, "ANSWERABLE", **{"recall@5": 1.0, "ndcg@5": 1.0, "supported": True}),
        _row("last_turn", "mtrag", 1, "PARTIAL", **{"recall@5": 0.5, "ndcg@5": 0.25}),
        _row("last_turn", "mtrag", 2, "ANSWERABLE", **{"recall@5": 0.0, "ndcg@5": 0.0, "abstained": True}),
        _row("last_turn", "mtrag", 3, "UNANSWERABLE", gold=[], abstained=True),
        _row("last_turn", "mtrag-un", 2, "UNDERSPECIFIED", gold=[], clarified=True),
        _row("last_turn", "mtrag-un", 1, "UNDERSPECIFIED", gold=[]),
        _row("last_turn", "mtrag-un", 4, "ANSWERABLE", clarified=True),
        _row("rewrite", "mtrag", 1, "ANSWERABLE", **{"recall@5": 1.0}),
    ]
    table = three_way_table(rows)
    assert list(table) == list(MODES)
    last = table["last_turn"]
    assert last["recall@5_first"] == 1.0 and last["recall@5_later"] == 0.25
    assert last["ndcg@5_later"] == 0.125
    assert last["answer_support"] == pytest.approx(1 / 3)        # mtrag answerable turns only
    assert last["abstention_unanswerable"] == 1.0
    assert last["false_abstention"] == 0.25                      # 1 of 4 answerable turns (both datasets)
    assert last["clarified_underspecified"] == 0.5
    assert last["clarified_answerable"] == 1.0                   # mtrag-un answerable turns only
    assert table["rewrite"]["recall@5_first"] is None and table["rewrite"]["recall@5_later"] == 1.0
    assert table["with_history"]["n_answerable"] == 0
    metrics = gate_metrics(table)
    assert metrics["last_turn.recall@5_later"] == 0.25 and "last_turn.n_first" not in metrics
    assert "rewrite.recall@5_first" not in metrics                # nothing asked: not a zero the gate would read
    assert "history_false_abstention_increase" not in metrics   # with_history asked nothing here


def test_select_turns_keeps_one_part_and_nests_samples() -> None:
    turns = [MtragTurn("mtrag", f"c{i}", 0, "q", "ANSWERABLE" if i % 5 else "UNDERSPECIFIED", ("g",), None, ()) for i in range(40)]
    report = select_turns(turns, "report", None)
    assert report and all(part_of(t.conversation_id) == "report" for t in report)
    rare = {t.key for t in report if not t.answerable}
    small, large = select_turns(turns, "report", len(rare) + 2), select_turns(turns, "report", len(rare) + 4)
    assert len(small) == len(rare) + 2 and rare <= {t.key for t in small} <= {t.key for t in large}


# -- the runner end to end on a tiny synthetic benchmark -----------------------------------------
PASSAGES = {
    "bees-1": ("Keeping honey bees", "A beehive holds one queen bee. Worker bees gather nectar and turn it into honey in wax combs."),
    "bees-2": ("Keeping honey bees", "Beekeepers harvest honey in late summer and leave enough stores for the colony to survive winter."),
    "kiln-1": ("Firing pottery in a kiln", "Stoneware clay is fired in a kiln at about 1200 degrees Celsius until it vitrifies."),
    "kiln-2": ("Firing pottery in a kiln", "Glazes melt during the second firing and form a glassy coat on the pot."),
    "sail-1": ("Sailing small dinghies", "To tack a dinghy the sailor pushes the tiller away and ducks under the boom as it swings across."),
    "sail-2": ("Sailing small dinghies", "A reef shortens the mainsail so the dinghy stays upright in strong wind."),
}


def _report_ids(n: int) -> list[str]:
    ids = [f"synthetic-{i}" for i in range(200) if part_of(f"synthetic-{i}") == "report"]
    return ids[:n]


def _write_benchmark(folder: Path) -> None:
    folder.mkdir()
    (folder / "passages.jsonl").write_text("".join(
        json.dumps({"id": pid, "title": title, "text": text, "source": "synthetic", "pooled_from": []}) + "\n"
        for pid, (title, text) in PASSAGES.items()), encoding="utf-8")
    a, b, c = _report_ids(3)
    fit = next(f"synthetic-{i}" for i in range(200) if part_of(f"synthetic-{i}") == "fit")
    turn = lambda q, label, gold=(), rewrite=None, ref="": {
        "question": q, "answerable": label != "UNANSWERABLE", "answerability": label, "gold_passage_ids": list(gold),
        "nonrelevant_passage_ids": [], "reference_answer": ref, "rewrite": rewrite}
    conversations = [
        {"id": a, "turns": [turn("How hot is stoneware clay fired in a kiln?", "ANSWERABLE", ["kiln-1"], ref="About 1200 degrees."),
                            turn("What happens to glazes in its second firing?", "ANSWERABLE", ["kiln-2"], "What happens to glazes during the second kiln firing?")]},
        {"id": b, "turns": [turn("How does a dinghy sailor tack?", "ANSWERABLE", ["sail-1"], ref="Push the tiller away."),
                            turn("Who won the regatta in 1987?", "UNANSWERABLE", rewrite="Who won the dinghy regatta in 1987?")]},
        {"id": fit, "turns": [turn("When do beekeepers harvest honey?", "ANSWERABLE", ["bees-2"])]},
    ]
    underspecified = [{"id": c, "turns": [turn("Tell me about bees and pottery.", "ANSWERABLE", ["bees-1"], ref="Bees make honey; clay is fired."),
                                         turn("How does that one work then?", "UNDERSPECIFIED", ref="Do you mean bees or pottery?")]}]
    for name, rows in (("conversations.jsonl", conversations), ("conversations_un.jsonl", underspecified)):
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.mark.slow
def test_run_mtrag_end_to_end_on_a_tiny_benchmark(tmp_path: Path, embedder) -> None:
    data = tmp_path / "bench"
    _write_benchmark(data)
    settings = make_settings(tmp_path / "store")
    domain = Domain("tiny", "Tiny", data, data, tmp_path / "work" / "sub", "eval-tiny")
    out, summary = run_mtrag(settings, pool=6, part="report", domain=domain, progress=False, embedder=embedder)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert summary["n_turns"] == 5 and len(rows) == 15               # fit conversation left out; 3 modes each
    assert summary["label"].startswith("Tiny, sub-pool of 6 passages") and "report part" in summary["label"]
    assert {r["key"].split("/")[1] for r in rows} == set(_report_ids(3))
    for row in rows:  # every figure is recomputed from the row's own ranking
        assert row["recall@5"] == recall_at_k(row["ranking"], row["gold"])
        assert row["ndcg@5"] == ndcg_at_k(row["ranking"], row["gold"])
    first = [r for r in rows if r["turn"] == 0 and r["dataset"] == "mtrag"]
    assert all(r["recall@5"] == 1.0 for r in first)                  # plain questions find their passage
    assert summary["table"] == three_way_table(rows)
    history_row = next(r for r in rows if r["mode"] == "with_history" and r["question"].startswith("What happens to glazes"))
    assert history_row["standalone_question"] != history_row["question"]   # the follow-up was rewritten
    assert next(r for r in rows if r["mode"] == "rewrite" and r["turn"] == 1 and r["dataset"] == "mtrag"
                and "glazes" in r["question"])["sent"].endswith("second kiln firing?")
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "sub-pool" in report and "report part" in report and "| recall@5_first |" in report


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_the_vendored_sample_holds_the_gated_subpool_with_every_named_passage(domain: str) -> None:
    vendored = DOMAINS[domain].vendored_data
    conversations, turns = load_turns(vendored)
    lines = subpool_lines(GATED_POOL, conversations, vendored).splitlines()
    ids = {json.loads(line)["id"] for line in lines}
    assert len(lines) == len(ids) == GATED_POOL
    assert all(set(turn.gold) <= ids for turn in turns)  # a plain clone's gate can find every gold passage
    assert {part_of(c["id"]) for c in conversations} == {"fit", "report"}
    with pytest.raises(EvalError, match=rf"holds no 3000-passage sub-pool: pass --pool {GATED_POOL}"):
        subpool_lines(3000, conversations, vendored)
