"""Saved chats in a real SQLite file, and the Markdown export (pure logic over real Turn objects)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from assistant.conversation.export import chat_markdown, markdown_filename
from assistant.conversation.saved import CHATS_FILE, ChatStore, chat_title, new_chat_id
from assistant.errors import ChatNotFoundError, ChatStoreError
from assistant.types import Citation, Turn

PASSAGE = "The lighthouse on Gull Rock was built in 1871 by the harbour board. It was automated in 1962. <b>Keep out</b>."


def citation(n: int, quote: str, **extra) -> Citation:
    start = PASSAGE.find(quote)
    return Citation(n=n, source="gull.txt", title="Gull Rock light", date=dt.date(2021, 5, 4), quote=quote,
                    passage=PASSAGE, chunk_id=f"gull-{n}", start=start, end=start + len(quote), **extra)


def session(*questions: str) -> dict:
    """A saved session as ChatSession.to_dict() writes it."""
    turns = [Turn(question=q, answer=f"Answer to {q} [1]", citations=(citation(1, "built in 1871"),)) for q in questions]
    return {"version": 1, "collection": "corpus", "top_k": 5, "max_turns": 20, "filters": None,
            "turns": [t.model_dump(mode="json") for t in turns]}


def test_save_list_and_load_round_trip(tmp_path: Path) -> None:
    store = ChatStore(tmp_path / CHATS_FILE)
    first, second = new_chat_id(), new_chat_id()
    store.save("browser:a", first, session("When was the Gull Rock lighthouse built?"))
    saved = store.save("browser:a", second, session("Who keeps the light?", "Since when?"))
    assert saved.turns == 2 and saved.title == "Who keeps the light?"

    listed = store.list("browser:a")
    assert [c.chat_id for c in listed] == [second, first]  # newest first
    assert listed[1].title == "When was the Gull Rock lighthouse built?"
    loaded = store.load("browser:a", first)
    assert loaded == session("When was the Gull Rock lighthouse built?")

    # Saving again replaces the row, keeps its creation time and moves it to the top.
    updated = store.save("browser:a", first, session("When was the Gull Rock lighthouse built?", "And automated?"))
    assert updated.created == listed[1].created and updated.updated > listed[1].updated
    assert [c.chat_id for c in store.list("browser:a")] == [first, second]
    assert len(store.load("browser:a", first)["turns"]) == 2

    # A second store object on the same file (a restarted server) sees the same chats.
    assert [c.chat_id for c in ChatStore(tmp_path / CHATS_FILE).list("browser:a")] == [first, second]
    store.delete("browser:a", second)
    with pytest.raises(ChatNotFoundError):
        store.delete("browser:a", second)
    assert [c.chat_id for c in store.list("browser:a")] == [first]


def test_owners_never_see_each_others_chats(tmp_path: Path) -> None:
    store = ChatStore(tmp_path / CHATS_FILE)
    chat_id = new_chat_id()
    store.save("browser:alice", chat_id, session("What does the harbour board do?"))
    assert store.list("browser:bob") == []
    with pytest.raises(ChatNotFoundError, match="belongs to another browser or user"):
        store.load("browser:bob", chat_id)
    # Bob saving under the same id makes his own chat; Alice's is untouched.
    store.save("browser:bob", chat_id, session("Bob's own question"))
    assert store.load("browser:alice", chat_id)["turns"][0]["question"] == "What does the harbour board do?"
    with pytest.raises(ChatNotFoundError):
        store.delete("user:carol", chat_id)
    assert [c.title for c in store.list("browser:alice")] == ["What does the harbour board do?"]


def test_the_file_is_wal_sqlite_and_the_secret_is_stable(tmp_path: Path) -> None:
    path = tmp_path / "nested" / CHATS_FILE
    store = ChatStore(path)
    secret = store.secret("browser-state")
    assert len(secret) >= 16 and ChatStore(path).secret("browser-state") == secret
    assert ChatStore(path).secret("other") != secret
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_corrupt_file_gives_one_line_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / CHATS_FILE
    junk = b"these are not the chats you are looking for\n" * 200
    path.write_bytes(junk)
    store = ChatStore(path)
    for attempt in (lambda: store.list("browser:a"), lambda: store.save("browser:a", "x1", session("Q?")),
                    lambda: store.secret("browser-state")):
        with pytest.raises(ChatStoreError) as caught:
            attempt()
        message = str(caught.value)
        assert "\n" not in message and str(path) in message and "left untouched" in message
    assert path.read_bytes() == junk


def test_a_bad_owner_or_id_is_refused(tmp_path: Path) -> None:
    store = ChatStore(tmp_path / CHATS_FILE)
    with pytest.raises(ChatStoreError, match="owner must be non-empty text"):
        store.save("  ", "x1", session("Q?"))


def test_title_is_the_first_question_on_one_line() -> None:
    assert chat_title(session("  Where   is\nthe light?  ")) == "Where is the light?"
    long = chat_title(session("word " * 40))
    assert len(long) <= 80 and long.endswith("…")
    assert chat_title({"turns": []}) == "Empty chat"


def test_markdown_export_holds_questions_answers_sources_and_quotes() -> None:
    turns = [
        Turn(question="When was the <b>Gull Rock</b> lighthouse built?", answer="It was built in 1871 [1].",
             citations=(citation(1, "built in 1871"), citation(1, "by the harbour board"))),
        Turn(question="When was it automated?", answer="In 1962 [1].",
             standalone_question="When was the Gull Rock lighthouse automated?",
             citations=(citation(1, "automated in 1962"),)),
        Turn(question="thanks!", answer="You're welcome."),
    ]
    text = chat_markdown(turns, title="Gull Rock", exported=dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC))
    assert text.startswith("# Gull Rock\n\nExported 2026-01-02 03:04 UTC · 3 question(s)\n")
    assert "## 1. When was the \\<b\\>Gull Rock\\</b\\> lighthouse built?" in text  # shown literally, not as HTML
    assert "It was built in 1871 [1]." in text
    assert "1. **Gull Rock light** — `gull.txt`, 2021-05-04\n   > built in 1871\n   > by the harbour board" in text
    assert "*Searched for: When was the Gull Rock lighthouse automated?*" in text
    assert "   > automated in 1962" in text
    quoted_html = chat_markdown([Turn(question="Sign?", answer="It reads Keep out [1].",
                                      citations=(citation(1, "<b>Keep out</b>"),))])
    assert "   > \\<b\\>Keep out\\</b\\>" in quoted_html  # a quote shows literally, never as HTML
    assert "## 3. thanks!\n\nYou're welcome.\n" in text and text.endswith("You're welcome.\n")
    assert text.count("**Sources**") == 2


def test_markdown_filename_is_safe() -> None:
    assert markdown_filename("What is the JATEC center?") == "what-is-the-jatec-center.md"
    assert markdown_filename("../../etc/passwd") == "etc-passwd.md"
    assert markdown_filename("???") == "chat.md"
