"""A test asks its own questions: none may be a question of a gold set or a vendored benchmark.

A test that repeats a gold question passes because the answerer was tuned until that question
worked, and it measures nothing the eval does not already gate. Every string literal in tests/
that reads like a question is compared (case and spacing aside) with every gold question."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLD_FILES = sorted((ROOT / "evals" / "gold").glob("*.jsonl")) + [
    ROOT / "evals" / "data" / "squad-v1.1-dev" / "questions.dev.jsonl",
    ROOT / "evals" / "data" / "squad-v2.0-dev" / "questions.dev.jsonl",
]
CONVERSATION_FILES = sorted((ROOT / "evals" / "data").glob("mtrag-*/conversations*.jsonl"))


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def gold_questions() -> set[str]:
    found: set[str] = set()
    for path in GOLD_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                found.add(normalise(item["question"]))
                found.update(normalise(turn["question"]) for turn in item.get("turns") or ())
    for path in CONVERSATION_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.update(normalise(turn["question"]) for turn in json.loads(line)["turns"])
    return found


def string_literals(source: str) -> set[str]:
    return {node.value for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) > 12}


def test_no_test_question_is_a_gold_question() -> None:
    gold = gold_questions()
    assert len(gold) > 1000  # the gold sets and the vendored benchmarks were all read
    repeated = sorted(f"{path.relative_to(ROOT)}: {literal!r}"
                      for path in sorted((ROOT / "tests").rglob("*.py")) if path != Path(__file__)
                      for literal in string_literals(path.read_text(encoding="utf-8")) if normalise(literal) in gold)
    assert not repeated, "tests repeat gold questions (write the test's own question):\n" + "\n".join(repeated)


def test_the_check_finds_a_repeated_question() -> None:
    gold_question = json.loads((ROOT / "evals" / "gold" / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[0])["question"]
    source = f"def test_x():\n    ask({gold_question.upper()!r})\n"
    assert any(normalise(literal) in gold_questions() for literal in string_literals(source))
