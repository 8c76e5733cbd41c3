"""Saved chats: one small SQLite file of conversations, each row owned by one user or browser.

    store = ChatStore.for_settings(settings)          # <store.path>/chats.sqlite3
    store.save(owner, chat_id, session.to_dict())    # insert or replace, in one transaction
    session, revision = store.load_revision(owner, chat_id)   # a copy to edit, and the save it came from
    store.save(owner, chat_id, edited, revision=revision)     # ChatChangedError if saved elsewhere since
    store.list(owner)                                 # newest first: ChatSummary(chat_id, title, ...)
    ChatSession.from_dict(store.load(owner, chat_id), engine=engine)
    store.rename(owner, chat_id, "Ferry notes")       # kept over the first-question title from then on
    store.search(owner, "ferry winter")               # chats whose title, questions or answers hold every word
    store.find(owner, "ferry")                        # the same, and the chats that could not be read (ChatListing)
    store.delete(owner, chat_id)

A row holds the session in `ChatSession.to_dict()` format, so whatever restores a saved session
restores a stored chat. Every query names its owner: an owner never reads, lists, finds, renames,
deletes or overwrites another owner's chat, even knowing its id (to them it does not exist:
ChatNotFoundError). A file that is not a readable database raises ChatStoreError with a one-line
message and is never deleted or rewritten. One unreadable chat (a row whose stored JSON is malformed or has the
wrong types) never hides the others: listing, searching and reading all sessions skip it with a logged warning
naming its id (`find` also reports it), and leave its row as it is; only `load` of that very chat raises."""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.conversation.saved_rows import (
    ChatListing,
    ChatSummary,
    UnreadableChat,
    session_of_row,
    summary_of_row,
)
from assistant.errors import (
    ChatChangedError,
    ChatNotFoundError,
    ChatStoreError,
    InvalidArgumentError,
)

log = logging.getLogger(__name__)

CHATS_FILE = "chats.sqlite3"
_SCHEMA_VERSION = 2  # 2: `renamed` (a title the owner chose, which saving no longer replaces)
TITLE_MAX = 80
_BUSY_TIMEOUT_S = 10.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chats (
    owner TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    title TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    turns INTEGER NOT NULL,
    session TEXT NOT NULL,
    renamed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (owner, chat_id)
);
CREATE INDEX IF NOT EXISTS chats_by_owner ON chats (owner, updated);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def new_chat_id() -> str:
    return uuid.uuid4().hex


def chat_title(session: Mapping[str, Any]) -> str:
    """The first question, on one line and cut at a word boundary to a list-friendly length."""
    turns = session.get("turns") or []
    first = turns[0].get("question", "") if turns and isinstance(turns[0], Mapping) else ""
    text = " ".join(str(first).split()) or "Empty chat"
    if len(text) <= TITLE_MAX:
        return text
    cut = text[: TITLE_MAX - 1]
    whole = cut.rsplit(" ", 1)[0] if " " in cut and not text[TITLE_MAX - 1].isspace() else cut
    return (whole or cut).rstrip() + "…"


class ChatStore:
    """Chats in one SQLite file (WAL). A connection per call, so any thread may use one store."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._ready = False

    @classmethod
    def for_settings(cls, settings: Settings) -> ChatStore:
        """The store next to the index: `<store.path>/chats.sqlite3`."""
        return cls(settings.store.path / CHATS_FILE)

    # -- writing ---------------------------------------------------------------------------------
    def save(self, owner: str, chat_id: str, session: Mapping[str, Any], *, revision: str | None = None) -> ChatSummary:
        """Insert or replace `owner`'s chat `chat_id` with `session` (ChatSession.to_dict() output). `revision`: the
        save this copy was read from (`load_revision`, or a summary's `revision`); when the stored chat has been
        saved since, nothing is written and ChatChangedError says so (two tabs of one chat never overwrite each
        other's turns). None: written whatever is stored (a new chat, or a writer that owns the chat alone)."""
        _check_key("owner", owner)
        _check_key("chat_id", chat_id)
        text = json.dumps(session, ensure_ascii=False)
        now = _now()
        title, turns = chat_title(session), len(session.get("turns") or [])
        with self._transaction() as db:
            if revision is not None:
                db.execute("BEGIN IMMEDIATE")  # the check and the write as one: no save slips in between
                stored = db.execute("SELECT updated FROM chats WHERE owner = ? AND chat_id = ?",
                                    (owner, chat_id)).fetchone()
                if stored is not None and stored[0] != revision:
                    raise ChatChangedError(f"chat {chat_id!r} was saved elsewhere (another tab or window) after this "
                                           "copy of it was opened")
            db.execute(
                "INSERT INTO chats (owner, chat_id, title, created, updated, turns, session) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (owner, chat_id) DO UPDATE SET "
                "title = CASE WHEN chats.renamed THEN chats.title ELSE excluded.title END, updated = excluded.updated, "
                "turns = excluded.turns, session = excluded.session",
                (owner, chat_id, title, now.isoformat(), now.isoformat(), turns, text),
            )
            return _summary_in(db, owner, chat_id)

    def rename(self, owner: str, chat_id: str, title: str) -> ChatSummary:
        """Give `owner`'s chat `chat_id` the title `title` (on one line, 1 to 80 characters); later saves keep it.
        InvalidArgumentError for an empty or over-long title, ChatNotFoundError when `owner` has no such chat."""
        clean = valid_title(title)
        with self._transaction() as db:
            if db.execute("UPDATE chats SET title = ?, renamed = 1 WHERE owner = ? AND chat_id = ?",
                          (clean, owner, chat_id)).rowcount == 0:
                raise _not_found(chat_id)
            return _summary_in(db, owner, chat_id)

    def delete(self, owner: str, chat_id: str) -> None:
        """Remove `owner`'s chat `chat_id`; ChatNotFoundError when `owner` has none by that id."""
        with self._transaction() as db:
            if db.execute("DELETE FROM chats WHERE owner = ? AND chat_id = ?", (owner, chat_id)).rowcount == 0:
                raise _not_found(chat_id)

    # -- reading ---------------------------------------------------------------------------------
    def list(self, owner: str) -> list[ChatSummary]:
        """`owner`'s chats, the most recently updated first (a row whose columns cannot be read is skipped and
        logged; its session is not read here)."""
        with self._transaction() as db:
            rows = db.execute("SELECT chat_id, title, created, updated, turns FROM chats WHERE owner = ? "
                              "ORDER BY updated DESC, created DESC", (owner,)).fetchall()
        found = []
        for row in rows:
            try:
                found.append(summary_of_row(row))
            except ChatStoreError as err:
                _skipped(owner, UnreadableChat(str(row[0]), str(err)))
        return found

    def search(self, owner: str, text: str) -> list[ChatSummary]:
        """`owner`'s chats (newest first) whose title, questions or answers hold every word of `text`, ignoring
        case; all of them for blank `text`. Matched in Python (casefold), not SQL LIKE, which folds ASCII only."""
        return self.find(owner, text).chats

    def find(self, owner: str, text: str = "") -> ChatListing:
        """What `search` finds, and the chats of `owner` skipped because they cannot be read."""
        words = text.casefold().split()
        readable, unreadable = self._read(owner)
        found = []
        for summary, session in readable:
            turns = [t for t in session.get("turns") or [] if isinstance(t, Mapping)]
            haystack = " ".join([summary.title, *(f"{t.get('question', '')} {t.get('answer', '')}" for t in turns)])
            if all(word in haystack.casefold() for word in words):
                found.append(summary)
        return ChatListing(found, tuple(unreadable))

    def sessions(self, owner: str) -> list[tuple[ChatSummary, dict[str, Any]]]:
        """Every readable chat of `owner` with its saved session, newest first, read in one transaction (an
        unreadable one is skipped and logged)."""
        return self._read(owner)[0]

    def _read(self, owner: str) -> tuple[list[tuple[ChatSummary, dict[str, Any]]], list[UnreadableChat]]:
        with self._transaction() as db:
            rows = db.execute("SELECT chat_id, title, created, updated, turns, session FROM chats WHERE owner = ? "
                              "ORDER BY updated DESC, created DESC", (owner,)).fetchall()
        readable, unreadable = [], []
        for row in rows:
            try:
                readable.append((summary_of_row(row[:5]), session_of_row(self.path, str(row[0]), row[5])))
            except ChatStoreError as err:
                unreadable.append(_skipped(owner, UnreadableChat(str(row[0]), str(err))))
        return readable, unreadable

    def load(self, owner: str, chat_id: str) -> dict[str, Any]:
        """The saved session of `owner`'s chat `chat_id`; ChatNotFoundError when `owner` has none by that id."""
        return self.load_revision(owner, chat_id)[0]

    def load_revision(self, owner: str, chat_id: str) -> tuple[dict[str, Any], str]:
        """(the saved session of `owner`'s chat `chat_id`, the revision to pass to `save` when writing it back), read
        together; ChatNotFoundError when `owner` has none by that id."""
        with self._transaction() as db:
            row = db.execute("SELECT session, updated FROM chats WHERE owner = ? AND chat_id = ?",
                             (owner, chat_id)).fetchone()
        if row is None:
            raise _not_found(chat_id)
        return session_of_row(self.path, chat_id, row[0]), str(row[1])

    def secret(self, name: str) -> str:
        """A random value made once per store and kept in it (e.g. the key the page encrypts its browser id
        with, which must survive a server restart)."""
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (f"secret:{name}", secrets.token_urlsafe(24)))
            return str(db.execute("SELECT value FROM meta WHERE key = ?", (f"secret:{name}",)).fetchone()[0])

    # -- plumbing --------------------------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One connection and one transaction: committed when the block ends, rolled back on an error."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S)) as db:
                if not self._ready:
                    self._prepare(db)
                with db:
                    yield db
        except sqlite3.DatabaseError as err:  # includes "file is not a database" and "database disk image is malformed"
            raise ChatStoreError(f"the saved chats file {self.path} cannot be used ({err}); it was left untouched: "
                                 "move it aside to start with no saved chats") from err
        except OSError as err:
            raise ChatStoreError(f"the saved chats file {self.path} cannot be opened ({err.strerror or err})") from err

    def _prepare(self, db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]  # reads the header: a non-database fails here
        if version > _SCHEMA_VERSION:
            raise ChatStoreError(f"the saved chats file {self.path} was written by a newer version (schema {version}); "
                                 "upgrade the assistant or point it at another index folder")
        db.execute("PRAGMA journal_mode=WAL")
        if version == 1:  # a file from before renaming: its chats keep their first-question titles
            with db:
                db.execute("BEGIN IMMEDIATE")  # one process adds the column; another waits, then finds it there
                if "renamed" not in {row[1] for row in db.execute("PRAGMA table_info(chats)")}:
                    db.execute("ALTER TABLE chats ADD COLUMN renamed INTEGER NOT NULL DEFAULT 0")
                db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        with db:
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        self._ready = True


def _summary_in(db: sqlite3.Connection, owner: str, chat_id: str) -> ChatSummary:
    """The list line of a chat just written in this transaction."""
    row = db.execute("SELECT chat_id, title, created, updated, turns FROM chats WHERE owner = ? AND chat_id = ?",
                     (owner, chat_id)).fetchone()
    return summary_of_row(row)


def valid_title(title: object) -> str:
    """A chat title as the owner typed it, on one line; InvalidArgumentError (one line) when it cannot be one."""
    if not isinstance(title, str):
        raise InvalidArgumentError(f"a chat title must be text, got {type(title).__name__}")
    clean = " ".join(title.split())
    if not clean:
        raise InvalidArgumentError("a chat title cannot be empty: type at least one letter or digit")
    if len(clean) > TITLE_MAX:
        raise InvalidArgumentError(f"a chat title can be at most {TITLE_MAX} characters; this one has {len(clean)}")
    return clean


def _not_found(chat_id: str) -> ChatNotFoundError:
    return ChatNotFoundError(f"no saved chat {chat_id!r} here: it was deleted, or it belongs to another browser or user")


def _check_key(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ChatStoreError(f"a saved chat's {name} must be non-empty text of at most 200 characters, got {value!r}")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _skipped(owner: str, chat: UnreadableChat) -> UnreadableChat:
    log.warning("skipping saved chat %s of %s: %s (left as it is)", chat.chat_id, owner, chat.reason)
    return chat
