"""ask() on the bundled corpus: correct, cited answers from the right source, and abstentions."""

from __future__ import annotations

import pytest

from assistant.engine import Assistant
from assistant.types import Answer

pytestmark = pytest.mark.slow

JATEC, NSATU_NYT, MINISTERS, FOREIGN, SUMMIT = (
    "000_41cde8d9d66dd8ed.txt", "001_8794f3ef5473d852.txt", "002_73f85231b0a38a8c.txt",
    "003_e49305c45f08ffdc.txt", "004_5fd673f8dd665ae0.txt",
)

ANSWERABLE = [
    ("Where will the NSATU mission be based?", "Wiesbaden", {NSATU_NYT, MINISTERS}),
    ("In which Polish city did the Ukrainian delegation meet NATO representatives about JATEC?", "Bydgoszcz", {JATEC}),
    ("Who led the Ukrainian delegation at the JATEC meeting?", "Klochko", {JATEC}),
    ("When is JATEC expected to become operational?", "early 2025", {JATEC}),
    ("How many personnel is the NATO security assistance effort expected to involve?", "700", {MINISTERS}),
    ("What is the minimum amount of the Pledge of Long-Term Security Assistance?", "40 billion", {SUMMIT}),
    ("When was the Washington summit held?", "July 9 to 11", {NSATU_NYT}),
    ("Who is NATO's Supreme Allied Commander Transformation?", "Pierre Vandier", {JATEC}),
    ("Which French aircraft did France offer to donate to Ukraine?", "Mirage", {NSATU_NYT}),
    ("Which country objected to calling the new effort a mission?", "Germany", {NSATU_NYT}),
    ("What does NATO stand for?", "North Atlantic Treaty Organization", {FOREIGN}),
    ("Which Ukrainian foreign minister met NATO allies in Brussels?", "Kuleba", {FOREIGN}),
    ("Who created the Ukraine Defense Contact Group?", "Austin", {NSATU_NYT}),
    ("What will Ukraine be the first partner country to establish with NATO?", "secure information and communication system", {JATEC}),
]

UNANSWERABLE = [
    "What is the capital of Australia?",
    "What is the population of Wiesbaden?",
    "Which ocean is the deepest?",
    "Who won the 2022 football World Cup?",
    "What is the annual budget of JATEC in euros?",
    "What recipe is used to bake sourdough bread?",
]


@pytest.mark.parametrize(("question", "expected", "sources"), ANSWERABLE, ids=[q for q, _, _ in ANSWERABLE])
def test_answerable_questions_are_answered_with_citations(bundled_engine: Assistant, question: str, expected: str, sources: set[str]):
    answer: Answer = bundled_engine.ask(question)
    assert not answer.abstained, answer.text
    assert expected.lower() in answer.text.lower()
    assert answer.citations and f"[{answer.citations[0].n}]" in answer.text
    assert answer.citations[0].source in sources
    for citation in answer.citations:
        assert citation.quote in citation.passage and citation.passage[citation.start:citation.end] == citation.quote
        assert citation.chunk_id in {p.chunk_id for p in answer.passages}
    if expected.lower() in answer.citations[0].quote.lower():
        assert answer.citations[0].source in sources


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_unanswerable_questions_abstain(bundled_engine: Assistant, question: str):
    answer = bundled_engine.ask(question)
    assert answer.abstained, answer.text
    assert "don't answer" in answer.text and not answer.citations


def test_answer_carries_provenance(bundled_engine: Assistant):
    answer = bundled_engine.ask("Where will the NSATU mission be based?")
    assert {"embed", "retrieve", "answer", "total"} <= set(answer.timings)
    assert len(answer.config_hash) == 16 and answer.passages and answer.answerer == "extractive"
    assert all(p.score >= q.score for p, q in zip(answer.passages, answer.passages[1:]))
    assert answer.citations[0].date is not None
    assert Answer.model_validate_json(answer.model_dump_json()) == answer
    with pytest.raises(Exception):
        answer.text = "mutated"  # immutable


def test_top_k_limits_passages(bundled_engine: Assistant):
    assert len(bundled_engine.ask("What is JATEC?", top_k=2).passages) == 2


def test_newer_source_preferred_when_sources_disagree(bundled_engine: Assistant):
    answer = bundled_engine.ask("How many member states does NATO have?")
    assert "32" in answer.text
    first = answer.text.find("32")
    assert "30" not in answer.text or first < answer.text.find("30")
