"""The load benchmark (evals/bench_load.py): its figures from fixed inputs, and its core against a real
server started the way the benchmark starts one (two concurrent sessions through the page and the API)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "evals"))
import bench_load
from bench_load import (
    LoadRow,
    format_table,
    page_answer_text,
    percentile,
    saturation,
    summarise,
)

# Our own two-turn conversations (a question, then a follow-up that needs it).
CONVERSATIONS = (
    ("Who leads the NATO mission that coordinates help for Ukraine?", "Where does it sit?"),
    ("What did the allies agree about Ukraine's membership path?", "Was a date given?"),
)


def test_percentile_interpolates_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0, 5.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 0) == 1.0 and percentile(values, 100) == 5.0
    assert percentile(values, 95) == pytest.approx(4.8)
    assert percentile([2.0, 4.0], 50) == 3.0
    assert math.isnan(percentile([], 50))


def test_summary_table_and_saturation_from_fixed_rows() -> None:
    row = summarise("ask() threads", 5, [0.1, 0.2, 0.3, 0.4], errors=1, wall_s=2.0)
    assert row == LoadRow("ask() threads", 5, 4, 1, 2.0, 2.0, 0.25, 0.385)
    rows = [LoadRow("p", 1, 3, 0, 1.0, 3.0, 0.3, 0.3), LoadRow("p", 5, 15, 0, 2.5, 6.0, 0.8, 1.0),
            LoadRow("p", 20, 60, 0, 9.7, 6.2, 3.0, 3.5), LoadRow("p", 50, 150, 2, 25.0, 6.0, 8.0, 9.0)]
    table = format_table(rows).splitlines()
    assert table[0] == "| path | N sessions | answers | errors | answers/s | p50 s | p95 s |"
    assert table[2] == "| p | 1 | 3 | 0 | 3.00 | 0.30 | 0.30 |"
    assert table[5] == "| p | 50 | 150 | 2 | 6.00 | 8.00 | 9.00 |"
    assert saturation(rows) == 5  # 6.0 -> 6.2 grows by less than 10%
    assert saturation(rows[:2]) is None


def test_page_answer_text_reads_the_last_answer_and_refuses_errors() -> None:
    answer = {"role": "assistant", "content": '<div class="ans"><div class="ans-text">In Wiesbaden &amp; nearby <b>[1]</b></div></div>'}
    history = [{"role": "user", "content": "where?"}, answer]
    assert page_answer_text(history, "") == "In Wiesbaden & nearby  [1]"
    assert page_answer_text(history, '<div class="notice notice-error">bad date</div>') == ""
    failed = {"role": "assistant", "content": '<div class="ans failed"><div class="error-head">Could not answer</div></div>'}
    assert page_answer_text([failed], "") == ""
    assert page_answer_text([{"role": "assistant", "content": [{"type": "text", "text": "Yes [2]"}]}], "") == "Yes [2]"


@pytest.mark.slow
@pytest.mark.server
def test_two_concurrent_sessions_through_a_real_server(tmp_path: Path) -> None:
    answers: list[str] = []

    def recording(open_session):  # keep every answer's text to check it afterwards
        def opened(i: int):
            ask = open_session(i)
            return lambda question: answers.append(ask(question)) or answers[-1]
        return opened

    with bench_load.served(tmp_path / "index", "loadtest", concurrency=2) as url:
        page, page_failures = bench_load.run_sessions(2, recording(bench_load.page_session(url)), "page", CONVERSATIONS)
        api, api_failures = bench_load.run_sessions(
            2, recording(bench_load.openai_session(url, bench_load.served_model(url))), "api", CONVERSATIONS)
    assert page_failures == [] and api_failures == []
    assert (page.answers, page.errors, api.answers, api.errors) == (4, 0, 4, 0)
    assert len(answers) == 8 and all(text.strip() for text in answers)
    assert any("[" in text for text in answers), answers  # answers from the documents cite them
