"""Thumbs up/down with a comment, kept on the Turn: it round-trips through the session dict and a real SQLite chats
file, old turns without it load, the Markdown export carries it, and the JSONL export for evaluation holds one row
per rated answer of one owner. Pure logic over real Turn objects and a real chats file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import make_settings

from assistant.conversation.export import chat_markdown
from assistant.conversation.feedback import (
    COMMENT_MAX,
    feedback_rows,
    rated,
    write_feedback_jsonl,
)
from assistant.conversation.saved import CHATS_FILE, ChatStore, new_chat_id
from assistant.conversation.session import (
    SESSION_FORMAT_VERSION,
    ChatSession,
    _saved_turns,
)
from assistant.conversation.shown import parse_turn
from assistant.engine import AnswerEngine
from assistant.errors import InvalidArgumentError, SessionFormatError
from assistant.types import Citation, Feedback, Turn

PASSAGE = "The night bus N7 runs every 30 minutes from the station. It stops at the hospital at 02:10."


def citation(n: int, quote: str, source: str = "n7.txt") -> Citation:
    start = PASSAGE.find(quote)
    return Citation(n=n, source=source, title="Night bus N7", date=dt.date(2024, 2, 2), quote=quote, passage=PASSAGE,
                    chunk_id=f"{source}#{n}", start=start, end=start + len(quote))


TURNS = (
    Turn(question="How often does the late-night N7 run?", answer="Every 30 minutes. [1]",
         citations=(citation(1, "runs every 30 minutes"), citation(2, "from the station", source="timetable.txt"),
                    citation(1, "every 30 minutes"))),
    Turn(question="And at the clinic?", answer="It stops at the hospital at 02:10. [1]",
         standalone_question="And at the clinic? (N7 night bus)", citations=(citation(1, "at 02:10"),)),
    Turn(question="thanks", answer="You're welcome.", kind="small_talk"),
)


def saved(turns: tuple[Turn, ...]) -> dict:
    return {"version": SESSION_FORMAT_VERSION, "collection": "docs", "top_k": None, "max_turns": 20, "filters": None,
            "turns": [t.model_dump(mode="json") for t in turns]}


def test_rating_a_turn_leaves_the_others_and_takes_back(tmp_path: Path) -> None:
    turns = rated(TURNS, 1, "down", "  It should say the clinic is the hospital.  ")
    assert turns[1].feedback == Feedback(rating="down", comment="It should say the clinic is the hospital.")
    assert turns[0] == TURNS[0] and turns[2] == TURNS[2] and turns[1].answer == TURNS[1].answer
    assert rated(turns, 1, None)[1].feedback is None  # the same thumb again: no rating
    assert rated(TURNS, 0, "up")[0].feedback == Feedback(rating="up")


@pytest.mark.parametrize("call, says", [
    (lambda: rated(TURNS, 3, "up"), "no answer number 4"),
    (lambda: rated(TURNS, -1, "up"), "no answer number 0"),
    (lambda: rated(TURNS, 0, "meh"), "'up' or 'down'"),
    (lambda: rated(TURNS, 0, "down", "x" * (COMMENT_MAX + 1)), f"at most {COMMENT_MAX} characters"),
])
def test_bad_feedback_is_refused_in_one_line(call, says: str) -> None:
    with pytest.raises(InvalidArgumentError, match=says) as caught:
        call()
    assert "\n" not in str(caught.value)


def test_feedback_round_trips_through_the_session_dict_and_the_chats_file(tmp_path: Path) -> None:
    turns = rated(rated(TURNS, 0, "up"), 1, "down", "Wrong stop")
    data = saved(turns)
    assert data["turns"][1]["feedback"] == {"rating": "down", "comment": "Wrong stop"}
    assert data["turns"][2]["feedback"] is None
    store, chat_id = ChatStore(tmp_path / CHATS_FILE), new_chat_id()
    store.save("browser:a", chat_id, data)
    assert tuple(_saved_turns(store.load("browser:a", chat_id)["turns"])) == turns


def test_a_session_restores_its_ratings(tmp_path: Path) -> None:
    engine = AnswerEngine(make_settings(tmp_path), auto_index=False)  # lazy: nothing is loaded or built here
    session = ChatSession(engine=engine).with_turns(rated(TURNS, 1, "down", "Wrong stop"))
    restored = ChatSession.from_dict(session.to_dict(), engine=session.engine)
    assert restored.history == session.history and restored.history[1].feedback.comment == "Wrong stop"


def test_an_old_turn_without_feedback_loads_and_a_bad_one_is_named() -> None:
    old = {"question": "How often does the late-night N7 run?", "answer": "Every 30 minutes.", "standalone_question": None,
           "citations": [citation(1, "every 30 minutes").model_dump(mode="json")]}
    assert parse_turn(old, "turns[0]").feedback is None
    with pytest.raises(SessionFormatError, match=r"turns\[0\] field 'feedback.rating'"):
        parse_turn({**old, "feedback": {"rating": "sideways", "comment": ""}}, "turns[0]")


def test_the_markdown_export_carries_the_feedback_line() -> None:
    turns = rated(rated(TURNS, 0, "up"), 1, "down", "Says *hospital*, I asked about the clinic")
    text = chat_markdown(turns, title="Night buses")
    assert "Feedback: 👍\n" in text
    assert "Feedback: 👎 — Says \\*hospital\\*, I asked about the clinic\n" in text  # the comment shows literally
    first, second, third = text.split("\n## ")[1:]
    assert "Feedback: 👍" in first and "Feedback: 👎" in second and "Feedback" not in third
    assert first.index("**Sources**") < first.index("Feedback:")  # the verdict follows what it judges
    assert "Feedback" not in chat_markdown(TURNS)


def test_the_jsonl_export_has_one_row_per_rated_answer_of_one_owner(tmp_path: Path) -> None:
    store = ChatStore(tmp_path / CHATS_FILE)
    older, newer = new_chat_id(), new_chat_id()
    store.save("browser:a", older, saved(rated(TURNS, 1, "down", "Wrong stop")))
    store.save("browser:a", newer, saved(rated(rated(TURNS, 0, "up"), 2, "up")))
    store.save("browser:b", new_chat_id(), saved(rated(TURNS, 0, "down", "Bob's verdict")))
    store.save("browser:a", new_chat_id(), saved(TURNS))  # nothing rated: no rows
    store.rename("browser:a", older, "Night buses")

    path = tmp_path / "out" / "feedback.jsonl"
    assert write_feedback_jsonl(store, "browser:a", path) == 3
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert rows == list(feedback_rows(store, "browser:a"))
    # the newest chat first, each chat's turns in order
    assert [(r["chat_id"], r["turn"], r["rating"]) for r in rows] == [(newer, 1, "up"), (newer, 3, "up"), (older, 2, "down")]
    clinic = rows[2]
    assert clinic == {"chat_id": older, "chat_title": "Night buses", "turn": 2, "question": "And at the clinic?",
                      "standalone_question": "And at the clinic? (N7 night bus)",
                      "answer": "It stops at the hospital at 02:10. [1]", "kind": "answer", "answerer": "",
                      "sources": ["n7.txt"], "rating": "down", "comment": "Wrong stop"}
    assert rows[0]["sources"] == ["n7.txt", "timetable.txt"]  # each source once, in citation order
    assert rows[0]["standalone_question"] == rows[0]["question"] and rows[1]["sources"] == []
    assert "Bob's verdict" not in path.read_text(encoding="utf-8")
    assert not list(path.parent.glob(".*.tmp"))  # written through a temporary file, renamed into place
    assert write_feedback_jsonl(store, "browser:nobody", path) == 0 and path.read_text(encoding="utf-8") == ""
