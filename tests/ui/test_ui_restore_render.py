"""A restored answer is drawn by the live renderer from the saved turn: the same HTML but for the meta
line (no timings; "restored from saved chat"). The follow-up's standalone question is folded away.
Pure: real Answer and Turn objects, no browser."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from assistant.conversation.shown import answer_of, parse_turn, turn_of
from assistant.types import Answer, Citation
from ui import render

PASSAGE = "The harbour crane lifts 40 tonnes. It was installed in 1998 and repainted in 2020."


def cite(quote: str) -> Citation:
    start = PASSAGE.find(quote)
    return Citation(n=1, source="crane.txt", title="Harbour crane", date=dt.date(2022, 3, 3), quote=quote, passage=PASSAGE,
                    chunk_id="crane#0", start=start, end=start + len(quote))


LIVE = [
    Answer(question="How heavy a load can the dock crane raise?", standalone_question="How heavy a load can the dock crane raise?",
           text="The harbour crane lifts 40 tonnes. [1]", citations=(cite("lifts 40 tonnes"),), short_answer="40 tonnes",
           confidence=0.37, notes=("Unsure: the quoted passages may not answer this (confidence 37%).",), answerer="extractive",
           timings={"total": 0.42}),
    Answer(question="And when was it put up?", standalone_question="And when was it put up? (harbour crane lifts tonnes)",
           text="It was installed in 1998. [1] It is blue. [1]", citations=(cite("installed in 1998"),), short_answer="1998",
           unsupported=("It is blue.",), answerer="openai", timings={"total": 1.5}),
    Answer(question="Who painted the crane's logo?", standalone_question="Who painted the crane's logo?",
           text="The documents don't answer this question.", abstained=True, confidence=0.05, answerer="extractive",
           notes=("The model failed; answered without it.",)),
    Answer(question="hello there!", standalone_question="hello there!", kind="small_talk", text="Hello!\nAsk me anything.",
           answerer="small-talk"),
]


def without_meta(html: str) -> str:
    return re.sub(r'<div class="meta">.*?</div>', "", html).replace(" restored", "", 1)


@pytest.mark.parametrize("live", LIVE, ids=["short-answer", "follow-up", "abstention", "small-talk"])
def test_a_restored_answer_renders_as_it_did_live(live: Answer) -> None:
    saved = turn_of(live).model_dump(mode="json")
    restored = render.render_answer(answer_of(parse_turn(saved, "turns[0]")), restored=True)
    shown = render.render_answer(live)
    assert without_meta(restored) == without_meta(shown)
    assert 'class="ans ' in restored and " restored" in restored.split(">")[0]
    assert "restored from saved chat" in restored and " s ·" not in restored.split('class="meta"')[1]
    if live.confidence is not None and live.kind == "answer":
        assert f"confidence {live.confidence:.0%}" in shown and f"confidence {live.confidence:.0%}" in restored


def test_the_standalone_question_is_folded_behind_a_toggle() -> None:
    out = render.render_answer(LIVE[1])
    toggle = out.index('<details class="rewritten"><summary>How it was searched</summary>')
    assert "(harbour crane lifts tonnes)" in out[toggle:]
    assert "harbour crane lifts tonnes" not in out[:toggle]  # not in the answer text, flags or meta line
    assert "<details class=\"rewritten\" open" not in out
    assert "How it was searched" not in render.render_answer(LIVE[0])  # a question searched as asked has none


def test_an_old_saved_turn_renders_as_a_plain_answer_with_its_sources() -> None:
    old = {"question": "What does the crane lift?", "answer": "It lifts 40 tonnes. [1]", "standalone_question": None,
           "citations": [cite("lifts 40 tonnes").model_dump(mode="json")]}
    out = render.render_answer(answer_of(parse_turn(old, "turns[0]")), restored=True)
    assert out.startswith('<div class="ans answered restored">') and '<details class="src src-1">' in out
    assert "short-answer" not in out and "confidence" not in out and "How it was searched" not in out
