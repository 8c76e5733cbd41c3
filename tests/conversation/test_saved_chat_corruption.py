"""One corrupt saved chat in a real SQLite chats file (its row altered with sqlite3 directly: malformed JSON, JSON of
the wrong shape, turns of the wrong types, a list column no save writes) never breaks listing, searching or the
feedback export of the other chats: each is skipped per chat with a warning naming its id, reported by `find`, and
its row is left exactly as it was."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest

from assistant.conversation.export import chat_markdown
from assistant.conversation.feedback import write_feedback_jsonl
from assistant.conversation.saved import CHATS_FILE, ChatStore, new_chat_id
from assistant.conversation.session import SESSION_FORMAT_VERSION, _saved_turns
from assistant.errors import ChatStoreError
from assistant.types import Feedback, Turn


def session(question: str, answer: str, rating: str | None = None) -> dict:
    feedback = Feedback(rating=rating, comment="") if rating else None
    turn = Turn(question=question, answer=answer, feedback=feedback)
    return {"version": SESSION_FORMAT_VERSION, "collection": "docs", "top_k": None, "max_turns": 20, "filters": None,
            "turns": [turn.model_dump(mode="json")]}


FERRY = session("When does the winter ferry leave Ardmore?", "At 07:40 on weekdays.", "up")
MARKET = session("Which day is the Ardmore market?", "Saturdays from nine.", "down")
BROKEN = session("Is the ferry running on the holiday?", "Only the noon sailing.", "up")

CORRUPTIONS = {
    "malformed JSON": ("session", '{"version": 1, "turns": [{"question": "Is the ferry'),
    "JSON that is no session": ("session", '["ferry", "holiday"]'),
    "turns of the wrong type": ("session", '{"version": 1, "turns": 7}'),
    "stored value that is no text": ("session", 42),
    "a list column no save writes": ("updated", "last Tuesday-ish"),
}
# Readable by the store, but not a valid turn: search may still look at it; the feedback export skips it.
WRONG_TURN_TYPES = json.dumps({"version": 1, "turns": [{"question": 5, "answer": ["ferry"],
                                                          "feedback": {"rating": "up", "comment": ""}}]})


@pytest.fixture
def store(tmp_path: Path) -> ChatStore:
    return ChatStore(tmp_path / CHATS_FILE)


def corrupt(store: ChatStore, chat_id: str, column: str, value: object) -> tuple:
    with sqlite3.connect(store.path) as db:
        db.execute(f"UPDATE chats SET {column} = ? WHERE chat_id = ?", (value, chat_id))
        return db.execute("SELECT * FROM chats WHERE chat_id = ?", (chat_id,)).fetchone()


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_one_corrupt_chat_is_skipped_reported_and_kept(store: ChatStore, tmp_path: Path, kind: str,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    ferry, broken, market = new_chat_id(), new_chat_id(), new_chat_id()
    store.save("browser:a", ferry, FERRY)
    store.save("browser:a", broken, BROKEN)
    store.save("browser:a", market, MARKET)
    row = corrupt(store, broken, *CORRUPTIONS[kind])

    with caplog.at_level(logging.WARNING):
        assert [c.chat_id for c in store.search("browser:a", "ferry")] == [ferry]
        assert [c.chat_id for c in store.search("browser:a", "")] == [market, ferry]
        listing = store.find("browser:a", "")
        assert [c.chat_id for c in listing.chats] == [market, ferry]
        assert [u.chat_id for u in listing.unreadable] == [broken] and "\n" not in listing.unreadable[0].reason
        assert [s.chat_id for s, _ in store.sessions("browser:a")] == [market, ferry]
        # The export of the others: the feedback JSONL holds both readable chats' ratings.
        out = tmp_path / "feedback.jsonl"
        assert write_feedback_jsonl(store, "browser:a", out) == 2
        assert [json.loads(line)["chat_id"] for line in out.read_text(encoding="utf-8").splitlines()] == [market, ferry]
    assert any(broken in record.getMessage() and record.levelno == logging.WARNING for record in caplog.records)

    # A readable chat still opens and exports as Markdown; the corrupt one is a typed, one-line error.
    markdown = chat_markdown(_saved_turns(store.load("browser:a", ferry)["turns"]), title="Ferry")
    assert "When does the winter ferry leave Ardmore?" in markdown
    if CORRUPTIONS[kind][0] == "session":
        with pytest.raises(ChatStoreError) as caught:
            store.load("browser:a", broken)
        assert broken in str(caught.value) and "\n" not in str(caught.value)
    # Nothing is lost: the row is as the corruption left it, and the others can still be renamed and deleted.
    store.rename("browser:a", ferry, "Ferry times")
    store.delete("browser:a", market)
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT * FROM chats WHERE chat_id = ?", (broken,)).fetchone() == row
    assert [c.title for c in store.search("browser:a", "")] == ["Ferry times"]


def test_a_readable_chat_with_turns_of_the_wrong_types_is_skipped_by_the_feedback_export(
        store: ChatStore, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ferry, odd = new_chat_id(), new_chat_id()
    store.save("browser:a", ferry, FERRY)
    store.save("browser:a", odd, BROKEN)
    corrupt(store, odd, "session", WRONG_TURN_TYPES)
    out = tmp_path / "feedback.jsonl"
    with caplog.at_level(logging.WARNING):
        assert write_feedback_jsonl(store, "browser:a", out) == 1
        assert [c.chat_id for c in store.search("browser:a", "ferry")] == [odd, ferry]  # its text is still searched
    assert json.loads(out.read_text(encoding="utf-8"))["chat_id"] == ferry
    assert any(odd in record.getMessage() for record in caplog.records if record.levelno == logging.WARNING)
