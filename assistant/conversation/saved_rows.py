"""What one row of the saved-chats file holds, read back: its list line and its session, each checked, so that
one damaged row is reported (ChatStoreError, one line naming the chat) and never hides the other chats."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import ChatStoreError


@dataclass(frozen=True)
class ChatSummary:
    """One line of an owner's chat list."""

    chat_id: str
    title: str
    created: dt.datetime
    updated: dt.datetime
    turns: int

    @property
    def revision(self) -> str:
        """The save this line describes, as `ChatStore.save(revision=...)` checks it (the stored timestamp)."""
        return self.updated.isoformat()


@dataclass(frozen=True)
class UnreadableChat:
    """A saved chat whose row cannot be read (left as it is in the file); `reason` is one line."""

    chat_id: str
    reason: str


@dataclass(frozen=True)
class ChatListing:
    """The chats a listing or search found, newest first, and those it had to skip because they cannot be read."""

    chats: list[ChatSummary]
    unreadable: tuple[UnreadableChat, ...] = ()


def session_of_row(path: Path, chat_id: str, text: object) -> dict[str, Any]:
    """A row's session; ChatStoreError (one line, naming the chat) when it is not one."""
    where = f"saved chat {chat_id!r} in {path}"
    if not isinstance(text, str | bytes):
        raise ChatStoreError(f"{where} is not a saved session (its stored value is {type(text).__name__}, not text)")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        reason = err.msg if isinstance(err, json.JSONDecodeError) else "not UTF-8"
        raise ChatStoreError(f"{where} is not valid JSON ({reason}); the file was left as it is") from err
    if not isinstance(data, dict):
        raise ChatStoreError(f"{where} is not a saved session (a JSON object)")
    turns = data.get("turns")
    if turns is not None and not (isinstance(turns, list) and all(isinstance(t, dict) for t in turns)):
        raise ChatStoreError(f"{where} is not a saved session: its 'turns' must be a list of objects")
    return data



def summary_of_row(row: tuple[Any, ...]) -> ChatSummary:
    """A row's list line; ChatStoreError (one line) when a column holds what no save writes."""
    chat_id, title, created, updated, turns = row
    try:
        if not isinstance(title, str) or not isinstance(turns, int):
            raise TypeError(f"title {type(title).__name__}, turns {type(turns).__name__}")
        return ChatSummary(chat_id=str(chat_id), title=title, created=dt.datetime.fromisoformat(created),
                           updated=dt.datetime.fromisoformat(updated), turns=turns)
    except (TypeError, ValueError) as err:
        raise ChatStoreError(f"saved chat {str(chat_id)!r} has an unreadable list entry ({err})") from err
