"""Saving and restoring a ChatSession: a real session over the bundled index, saved to JSON and
restored, answers a follow-up that needs the history exactly as the unsaved session does."""

from __future__ import annotations

import json

import pytest

from assistant import Assistant, ChatSession
from assistant.conversation.session import SESSION_FORMAT_VERSION
from assistant.errors import SessionFormatError

FIRST = "Which German city will host the command of the NATO effort for Ukraine?"
FOLLOWUP = "How many personnel will work there?"


@pytest.mark.slow
def test_a_restored_session_answers_the_followup_like_the_original(bundled_engine: Assistant) -> None:
    original = ChatSession(engine=bundled_engine, top_k=6)
    first = original.ask(FIRST)
    assert first.citations and not first.abstained

    saved = original.to_json()
    data = json.loads(saved)
    assert data["version"] == SESSION_FORMAT_VERSION
    assert data["collection"] == bundled_engine.settings.store.collection
    assert data["top_k"] == 6
    (turn,) = data["turns"]
    assert turn["question"] == FIRST and turn["answer"] == first.text
    assert turn["standalone_question"] == first.standalone_question
    assert [c["quote"] for c in turn["citations"]] == [c.quote for c in first.citations]

    restored = ChatSession.from_json(saved, engine=bundled_engine)
    assert restored.history == original.history
    assert restored.top_k == 6

    after_restore = restored.ask(FOLLOWUP)
    without_saving = original.ask(FOLLOWUP)
    assert after_restore.standalone_question != FOLLOWUP  # the history was used to expand it
    assert after_restore.standalone_question == without_saving.standalone_question
    assert after_restore.text == without_saving.text
    assert [c.chunk_id for c in after_restore.citations] == [c.chunk_id for c in without_saving.citations]
    # Without the history the same follow-up is searched for as it stands.
    assert ChatSession(engine=bundled_engine).ask(FOLLOWUP).standalone_question == FOLLOWUP


@pytest.mark.slow
def test_filters_and_small_talk_turns_survive_the_round_trip(bundled_engine: Assistant) -> None:
    from assistant.arguments import make_filter

    session = ChatSession(engine=bundled_engine, filters=make_filter(None, "2024-01-01", "2024-12-31"))
    session.ask("hello!")
    restored = ChatSession.from_dict(session.to_dict(), engine=bundled_engine)
    assert restored.filters == session.filters
    assert [t.question for t in restored.history] == ["hello!"]
    assert restored.to_dict() == session.to_dict()


def _valid() -> dict:
    return {"version": SESSION_FORMAT_VERSION, "collection": "docs", "top_k": None, "max_turns": 20, "filters": None,
            "turns": [{"question": "Where is it?", "answer": "In town.", "standalone_question": None, "citations": []}]}


@pytest.mark.parametrize(("change", "named"), [
    (lambda d: d.update(version=99), "version 99"),
    (lambda d: d.update(turns="nope"), "'turns' must be a list"),
    (lambda d: d.update(colour="blue"), "unknown key(s) 'colour'"),
    (lambda d: d["turns"][0].update(question=""), "turns[0] needs a non-empty 'question'"),
    (lambda d: d["turns"][0].update(answer=3), "turns[0] 'answer' must be text"),
    (lambda d: d["turns"][0].update(citations=[{"n": 1}]), "turns[0] citations[0] field 'source'"),
    (lambda d: d.update(top_k=0), "'top_k' must be a positive whole number"),
    (lambda d: d.update(filters={"date_from": "not a date"}), "'filters'"),
])
def test_a_bad_saved_session_names_what_is_wrong(change, named: str) -> None:
    data = _valid()
    change(data)
    with pytest.raises(SessionFormatError) as err:
        ChatSession.from_dict(data)  # fails before any engine is opened
    assert named in str(err.value) and "\n" not in str(err.value)


def test_saved_session_that_is_not_json_or_not_a_dict() -> None:
    with pytest.raises(SessionFormatError, match="not valid JSON: .* line 1"):
        ChatSession.from_json("{not json")
    with pytest.raises(SessionFormatError, match="is a dict"):
        ChatSession.from_json("[1, 2]")
