"""Clarifying questions: the rule on fixed inputs, and the engine asking one over a real index
of unrelated documents, then resolving the reply."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from assistant.conversation.clarify import (
    ClarifyRule,
    candidates_in,
    clarification,
    features,
    resolve_reply,
    should_clarify,
)
from assistant.serving.cli import print_answer
from assistant.types import Answer, Passage, Turn


def _passage(pid: str, title: str, text: str = "Some text here. More text.") -> Passage:
    return Passage(chunk_id=f"{pid}#0", source=pid, title=title, text=text, score=1.0)


MIXED = [_passage("a", "Brewing green tea"), _passage("b", "Repairing bicycle brakes"), _passage("a2", "Brewing green tea")]
SAME = [_passage("a", "Brewing green tea"), _passage("c", "Brewing green tea at home")]


def test_features_and_rule() -> None:
    rule = ClarifyRule()
    mixed = features("How does that one work then?", MIXED, 0.1, follow_up=True)
    assert mixed.titles == ("Brewing green tea", "Repairing bicycle brakes") and mixed.title_similarity == 0.0
    assert should_clarify(mixed, rule)
    assert not should_clarify(features("How does that one work then?", MIXED, 0.9, follow_up=True), rule)           # confident answer
    assert not should_clarify(features("How does that one work then?", SAME, 0.1, follow_up=True), rule)            # one topic
    long_question = "What temperature should the water be when steeping green tea leaves for three minutes?"
    assert not should_clarify(features(long_question, MIXED, 0.1, follow_up=True), rule)                 # specific question
    assert not should_clarify(features("How?", MIXED[:1], 0.1, follow_up=True), rule)     # one candidate
    # A first question is never asked back: only a follow-up can leave out what it is about.
    assert not should_clarify(features("How does that one work then?", MIXED, 0.1, follow_up=False), rule)


def test_clarification_names_and_cites_candidates() -> None:
    found = features("How does that one work then?", MIXED, 0.1, follow_up=True)
    asked = clarification(MIXED, found, ClarifyRule())
    assert asked.text == "Do you mean “Brewing green tea” [1] or “Repairing bicycle brakes” [2]?"
    assert [(c.n, c.source) for c in asked.citations] == [(1, "a"), (2, "b")]
    assert all(c.passage[c.start:c.end] == c.quote for c in asked.citations)
    assert candidates_in(asked.text) == ["Brewing green tea", "Repairing bicycle brakes"]
    assert candidates_in("“quoted” but no clarification") == []


def test_resolve_reply_by_ordinal_or_name() -> None:
    history = [Turn(question="How does that one work then?", answer="Do you mean “Brewing green tea” [1] or “Repairing bicycle brakes” [2]?")]
    assert resolve_reply("the first one", history) == "How does that one work then? (Brewing green tea)"
    assert resolve_reply("the bicycle please", history) == "How does that one work then? (Repairing bicycle brakes)"
    assert resolve_reply("neither", history) is None
    assert resolve_reply("the first one", [Turn(question="q", answer="a plain answer")]) is None


def test_answer_kind_clarification_and_cli_shows_it(capsys: pytest.CaptureFixture[str]) -> None:
    asked = clarification(MIXED, features("How does that one work then?", MIXED, 0.1, follow_up=True), ClarifyRule())
    answer = Answer(question="How does that one work then?", standalone_question="How does that one work then?", text=asked.text,
                    citations=asked.citations, kind="clarification")
    assert not answer.abstained
    print_answer(answer, out=sys.stdout)  # the default stream is bound at import time
    out = capsys.readouterr().out
    assert "Which one do you mean?" in out and "[2] Repairing bicycle brakes (b)" in out


def test_ui_renders_a_clarification_with_its_sources() -> None:
    from ui.render import render_answer

    asked = clarification(MIXED, features("How does that one work then?", MIXED, 0.1, follow_up=True), ClarifyRule())
    html = render_answer(Answer(question="q", standalone_question="q", text=asked.text, citations=asked.citations,
                                kind="clarification"))
    assert 'class="ans clarification"' in html and "Which one do you mean?" in html and "Repairing bicycle brakes" in html


DOCS = [
    ("tea-1", "Brewing green tea", "Green tea leaves steep for two minutes in water at eighty degrees Celsius."),
    ("tea-2", "Brewing green tea", "Boiling water scorches green tea leaves and makes the cup bitter."),
    ("bike-1", "Repairing bicycle brakes", "Worn rim brake pads are replaced by loosening the pad bolt with a hex key."),
    ("bike-2", "Repairing bicycle brakes", "A stretched brake cable is tightened with the barrel adjuster on the lever."),
    ("map-1", "Reading topographic maps", "Contour lines close together on a topographic map mean a steep slope."),
]


@pytest.mark.slow
def test_engine_asks_back_then_resolves_the_reply(tmp_path: Path, engine_factory) -> None:
    corpus = tmp_path / "docs.jsonl"
    corpus.write_text("".join(json.dumps({"id": i, "title": t, "text": x}) + "\n" for i, t, x in DOCS), encoding="utf-8")
    engine = engine_factory(corpus=corpus, answer={"clarify": True})
    engine.index()
    opening = [Turn(question="Which guides are there?", answer="Guides on tea, bicycles and maps.")]
    assert engine.ask("How do I fix it?").kind != "clarification"  # a first question: answered or refused, not asked back
    vague = engine.ask("How do I fix it?", history=opening)
    assert vague.kind == "clarification", vague.text
    assert len(vague.citations) >= 2 and vague.text.startswith("Do you mean")
    first = vague.citations[0].title
    followup = engine.ask("the first one", history=[*opening, Turn(question=vague.question, answer=vague.text)])
    assert followup.standalone_question == f"How do I fix it? ({first})"
    assert followup.kind != "clarification"
    specific = engine.ask("How long do green tea leaves steep?")
    assert specific.kind == "answer" and specific.citations[0].source.startswith("tea")
    off = engine_factory(corpus=corpus, answer={"clarify": False})
    off.index()
    assert off.ask("How do I fix it?", history=opening).kind != "clarification"
