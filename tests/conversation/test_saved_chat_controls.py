"""Renaming, deleting and searching saved chats in a real SQLite file: each owner-scoped (an owner never renames,
deletes or finds another owner's chat), a missing chat is ChatNotFoundError, a bad title a one-line
InvalidArgumentError that changes nothing, and a chats file from before renaming is upgraded in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assistant.conversation.saved import CHATS_FILE, TITLE_MAX, ChatStore, new_chat_id
from assistant.errors import ChatChangedError, ChatNotFoundError, InvalidArgumentError
from assistant.types import Turn


def session(*exchanges: tuple[str, str]) -> dict:
    """A saved session as ChatSession.to_dict() writes it, from (question, answer) pairs."""
    turns = [Turn(question=q, answer=a) for q, a in exchanges]
    return {"version": 1, "collection": "corpus", "top_k": None, "max_turns": 20, "filters": None,
            "turns": [t.model_dump(mode="json") for t in turns]}


BEEKEEPING = session(("How many hives does the Alder Lane apiary keep?", "It keeps twelve hives."),
                     ("Who looks after them?", "Marta Ødegård, the club's Apiarist."))
ORCHARD = session(("When is the orchard's cider pressing?", "The pressing is in late October."))


@pytest.fixture
def store(tmp_path: Path) -> ChatStore:
    return ChatStore(tmp_path / CHATS_FILE)


def test_a_rename_is_kept_when_the_chat_is_saved_again(store: ChatStore) -> None:
    chat_id = new_chat_id()
    store.save("browser:a", chat_id, BEEKEEPING)
    renamed = store.rename("browser:a", chat_id, "  Bees\nat   Alder Lane ")
    assert renamed.title == "Bees at Alder Lane" and renamed.turns == 2  # on one line
    store.save("browser:a", chat_id, session(*[(t["question"], t["answer"]) for t in BEEKEEPING["turns"]],
                                             ("And the honey?", "About 180 kg a year.")))
    (listed,) = store.list("browser:a")
    assert listed.title == "Bees at Alder Lane" and listed.turns == 3
    # An unrenamed chat still takes its first question as its title.
    other = new_chat_id()
    assert store.save("browser:a", other, ORCHARD).title == "When is the orchard's cider pressing?"


@pytest.mark.parametrize("title, says", [("", "cannot be empty"), (" \n\t ", "cannot be empty"),
                                         ("x" * (TITLE_MAX + 1), f"at most {TITLE_MAX} characters; this one has 81")])
def test_a_bad_title_is_refused_in_one_line_and_nothing_changes(store: ChatStore, title: str, says: str) -> None:
    chat_id = new_chat_id()
    store.save("browser:a", chat_id, ORCHARD)
    with pytest.raises(InvalidArgumentError, match=says) as caught:
        store.rename("browser:a", chat_id, title)
    assert "\n" not in str(caught.value)
    assert [c.title for c in store.list("browser:a")] == ["When is the orchard's cider pressing?"]
    assert store.rename("browser:a", chat_id, "y" * TITLE_MAX).title == "y" * TITLE_MAX  # the limit itself is fine


def test_delete_removes_one_chat_and_a_missing_one_is_not_found(store: ChatStore) -> None:
    kept, dropped = new_chat_id(), new_chat_id()
    store.save("browser:a", kept, ORCHARD)
    store.save("browser:a", dropped, BEEKEEPING)
    store.delete("browser:a", dropped)
    assert [c.chat_id for c in store.list("browser:a")] == [kept]
    with pytest.raises(ChatNotFoundError, match="it was deleted"):
        store.load("browser:a", dropped)
    for missing in (lambda: store.delete("browser:a", dropped), lambda: store.rename("browser:a", dropped, "Gone")):
        with pytest.raises(ChatNotFoundError):
            missing()


def test_search_matches_titles_questions_and_answers_ignoring_case(store: ChatStore) -> None:
    bees, cider = new_chat_id(), new_chat_id()
    store.save("browser:a", bees, BEEKEEPING)
    store.save("browser:a", cider, ORCHARD)

    def found(text: str) -> list[str]:
        return [c.chat_id for c in store.search("browser:a", text)]

    assert found("HIVES") == [bees]  # a question's word, in any case
    assert found("october") == [cider]  # an answer's word
    assert found("ØDEGÅRD") == [bees]  # case folding beyond ASCII
    assert found("apiary twelve") == [bees]  # every word must be there, in any of the turns
    assert found("apiary october") == []
    assert found("") == found("   ") == [cider, bees]  # blank: all of them, newest first
    store.rename("browser:a", cider, "Autumn jobs")
    assert found("autumn") == [cider]  # the title the owner chose


def test_an_owner_never_renames_deletes_or_finds_another_owners_chat(store: ChatStore) -> None:
    chat_id = new_chat_id()
    store.save("browser:alice", chat_id, BEEKEEPING)
    assert store.search("browser:bob", "hives") == [] and store.search("browser:bob", "") == []
    with pytest.raises(ChatNotFoundError):
        store.rename("browser:bob", chat_id, "Mine now")
    with pytest.raises(ChatNotFoundError):
        store.delete("user:bob", chat_id)
    (alice,) = store.list("browser:alice")
    assert alice.chat_id == chat_id and alice.title == "How many hives does the Alder Lane apiary keep?"
    # Bob's own chat under the same id is his alone: renaming or deleting it leaves Alice's as it was.
    store.save("browser:bob", chat_id, ORCHARD)
    store.rename("browser:bob", chat_id, "Bob's cider")
    store.delete("browser:bob", chat_id)
    assert store.load("browser:alice", chat_id) == BEEKEEPING
    assert [c.title for c in store.list("browser:alice")] == [alice.title]


def test_a_chats_file_from_before_renaming_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / CHATS_FILE
    with sqlite3.connect(path) as db:  # the schema-1 file an earlier version wrote, with one chat in it
        db.executescript("""
            CREATE TABLE chats (owner TEXT NOT NULL, chat_id TEXT NOT NULL, title TEXT NOT NULL, created TEXT NOT NULL,
                                updated TEXT NOT NULL, turns INTEGER NOT NULL, session TEXT NOT NULL,
                                PRIMARY KEY (owner, chat_id));
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            PRAGMA user_version = 1;""")
        db.execute("INSERT INTO chats VALUES ('browser:a', 'old1', 'Old title', '2025-01-01T00:00:00+00:00', "
                   "'2025-01-01T00:00:00+00:00', 1, '{\"version\": 1, \"turns\": []}')")
    store = ChatStore(path)
    assert [c.title for c in store.list("browser:a")] == ["Old title"]
    store.rename("browser:a", "old1", "Kept title")
    store.save("browser:a", "old1", ORCHARD)
    assert [c.title for c in store.list("browser:a")] == ["Kept title"]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2


def test_a_stale_copy_of_a_chat_is_refused_by_the_store_and_a_fresh_one_is_saved(tmp_path: Path) -> None:
    """Two tabs of one chat: a save names the revision its copy was read at."""
    store = ChatStore(tmp_path / CHATS_FILE)
    one = {"turns": [{"question": "Which hive swarmed?", "answer": "The east hive. [1]"}]}
    two = {"turns": [*one["turns"], {"question": "When?", "answer": "In May. [1]"}]}
    other = {"turns": [*one["turns"], {"question": "Who saw it?", "answer": "Mara. [1]"}]}
    store.save("browser:a", "c1", one)
    _, revision = store.load_revision("browser:a", "c1")  # two tabs read the same copy
    saved = store.save("browser:a", "c1", two, revision=revision)  # the first writes back
    with pytest.raises(ChatChangedError):
        store.save("browser:a", "c1", other, revision=revision)  # the second's copy is stale
    assert store.load("browser:a", "c1") == two
    assert store.save("browser:a", "c1", other, revision=saved.revision).turns == 2  # a fresh copy is saved
