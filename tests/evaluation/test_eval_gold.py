"""The gold schema, its line-numbered errors, and the bundled corpus gold set's coverage."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from assistant.evaluation.errors import EvalError, GoldFormatError
from assistant.evaluation.gold import load_gold, parse_gold_lines
from assistant.evaluation.metrics import alias_match
from assistant.evaluation.suites import (
    BUNDLED_CORPUS,
    CORPUS_GOLD,
    SQUAD_DIR,
    load_squad_items,
)

GOOD = {"id": "a", "question": "Where?", "answers": ["Wiesbaden"], "sources": ["d.txt"], "answerable": True, "turns": [], "category": "single"}


def _lines(*records: object) -> list[str]:
    return [r if isinstance(r, str) else json.dumps(r) for r in records]


def test_valid_lines_parse() -> None:
    items = parse_gold_lines(_lines(GOOD, "", {**GOOD, "id": "b"}))
    assert [i.id for i in items] == ["a", "b"]
    assert items[0].all_turns[0].answers == ("Wiesbaden",)


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ({**GOOD, "answers": []}, "at least one answer alias"),
        ({**GOOD, "sources": []}, "gold source"),
        ({**GOOD, "category": "trivia"}, "category"),
        ({**GOOD, "extra": 1}, "extra"),
        ({**GOOD, "answerable": False}, "answerable: true"),
        ({**GOOD, "category": "unanswerable", "answerable": False}, "must have no answers"),
        ({**GOOD, "category": "followup"}, "at least 2 turns"),
        ({**GOOD, "category": "conflict"}, "at least 2 gold sources"),
        ({**GOOD, "answers": ["  "]}, "empty strings"),
        ({**GOOD, "id": "a"}, "duplicate id 'a' (first on line 1)"),
    ],
)
def test_bad_line_is_reported_with_its_number(bad: object, needle: str) -> None:
    with pytest.raises(GoldFormatError) as info:
        parse_gold_lines(_lines(GOOD, "", bad), path="gold.jsonl")
    assert info.value.line_no == 3
    assert str(info.value).startswith("gold.jsonl:3: ")
    assert needle in str(info.value)


def test_followup_top_level_must_repeat_first_turn() -> None:
    turns = [{"question": "What is the JATEC center?", "answers": ["center"], "sources": ["d"]}, {"question": "Where?", "answers": ["Poland"], "sources": ["d"]}]
    ok = {**GOOD, "category": "followup", "question": "What is the JATEC center?", "answers": ["center"], "sources": ["d"], "turns": turns}
    assert len(parse_gold_lines(_lines(ok))[0].all_turns) == 2
    with pytest.raises(GoldFormatError, match="repeat turns"):
        parse_gold_lines(_lines({**ok, "question": "Something else?"}))


def test_unknown_source_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "g.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps({**GOOD, "id": "b", "sources": ["nope.txt"]}) + "\n")
    with pytest.raises(GoldFormatError, match=r"g.jsonl:2: gold source 'nope.txt' is not a document"):
        load_gold(path, known_sources={"d.txt"})
    with pytest.raises(EvalError, match="gold file not found"):
        load_gold(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(GoldFormatError, match="no items"):
        load_gold(tmp_path / "empty.jsonl")


def test_bundled_gold_set_meets_the_issue_requirements() -> None:
    docs = {p.name: p.read_text(encoding="utf-8") for p in BUNDLED_CORPUS.glob("*.txt")}
    items = load_gold(CORPUS_GOLD, known_sources=docs)
    counts = Counter(i.category for i in items)
    assert counts["single"] >= 40
    assert counts["unanswerable"] >= 10
    assert counts["followup"] >= 8
    assert counts["conflict"] >= 3
    covered = {s for i in items if i.category == "single" for s in i.sources}
    assert covered == set(docs), "every document has answerable single-turn questions"
    with_answerable_followup = [i for i in items if i.category == "followup" and any(t.answerable for t in i.turns[1:])]
    assert len(with_answerable_followup) >= 8


def test_bundled_gold_aliases_occur_in_a_gold_source_after_cleaning() -> None:
    """Aliases are checked against the text the assistant actually indexes (headers, tickers and
    boilerplate removed), so alias containment in an extractive answer is meaningful."""
    from assistant.config import load_settings
    from assistant.ingest.loaders import load_corpus

    docs = {d.source: d.text for d in load_corpus(BUNDLED_CORPUS, load_settings().corpus).documents}
    for item in load_gold(CORPUS_GOLD):
        for turn in item.all_turns:
            for alias in turn.answers:
                assert any(alias_match(docs[s], [alias]) for s in turn.sources), (item.id, alias)


def test_squad_sample_is_seeded_nested_and_points_at_known_passages() -> None:
    a = load_squad_items(SQUAD_DIR / "questions.dev.jsonl", sample=50)
    b = load_squad_items(SQUAD_DIR / "questions.dev.jsonl", sample=20)
    assert len(a) == 50 and [i.id for i in b] == [i.id for i in a[:20]]
    assert [i.id for i in a] == [i.id for i in load_squad_items(SQUAD_DIR / "questions.dev.jsonl", sample=50)]
    assert [i.id for i in a] != [i.id for i in load_squad_items(SQUAD_DIR / "questions.dev.jsonl", sample=50, seed=7)]
    passage_ids = {json.loads(line)["id"] for line in (SQUAD_DIR / "passages.jsonl").read_text(encoding="utf-8").splitlines()}
    assert len(passage_ids) == 2067
    assert all(set(i.sources) <= passage_ids and i.answers for i in a)
    assert "CC BY-SA 4.0" in (SQUAD_DIR / "README.md").read_text(encoding="utf-8")
