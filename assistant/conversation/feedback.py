"""Readers' thumbs up/down (with an optional comment) on answers: kept on the Turn, so it is saved, restored
and exported with the chat, and gathered from an owner's saved chats as JSONL for evaluation.

    turns = rated(session.history, 0, "down", "It quotes the older article")   # a new tuple of turns
    session = session.with_turns(turns)
    count = write_feedback_jsonl(store, owner, Path("feedback.jsonl"))        # one line per rated answer
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from assistant import atomic
from assistant.conversation.saved import ChatStore
from assistant.conversation.shown import parse_turn
from assistant.errors import InvalidArgumentError, SessionFormatError
from assistant.types import Feedback, Turn

log = logging.getLogger(__name__)

COMMENT_MAX = 2000
RATINGS = ("up", "down")


def make_feedback(rating: object, comment: object = "") -> Feedback:
    """Validated feedback; InvalidArgumentError (one line) naming the bad rating or comment."""
    if rating not in RATINGS:
        raise InvalidArgumentError(f"a rating is 'up' or 'down', got {rating!r}")
    if not isinstance(comment, str):
        raise InvalidArgumentError(f"a feedback comment must be text, got {type(comment).__name__}")
    text = comment.strip()
    if len(text) > COMMENT_MAX:
        raise InvalidArgumentError(f"a feedback comment can be at most {COMMENT_MAX} characters; this one has {len(text)}")
    return Feedback(rating=rating, comment=text)


def rated(turns: Sequence[Turn], index: int, rating: str | None, comment: str = "") -> tuple[Turn, ...]:
    """`turns` with turn `index` rated `rating` ('up' or 'down') and `comment`, or unrated when `rating` is None.
    InvalidArgumentError when there is no such turn or the feedback is not valid."""
    if not 0 <= index < len(turns):
        raise InvalidArgumentError(f"there is no answer number {index + 1} to rate: this chat has {len(turns)}")
    feedback = None if rating is None else make_feedback(rating, comment)
    changed = turns[index].model_copy(update={"feedback": feedback})
    return (*turns[:index], changed, *turns[index + 1:])


def feedback_rows(store: ChatStore, owner: str) -> Iterator[dict[str, Any]]:
    """One row per rated answer in `owner`'s saved chats (newest chat first, its turns in order): what was asked,
    how it was searched, what was answered from which sources, and the verdict. A chat that cannot be read is
    skipped (the store's and this module's log name it) and the others are still gathered."""
    for summary, session in store.sessions(owner):
        try:
            turns = _turns(session, summary.chat_id)
        except SessionFormatError as err:
            log.warning("skipping saved chat %s of %s in the feedback export: %s", summary.chat_id, owner, err)
            continue
        for i, turn in enumerate(turns, 1):
            if turn.feedback is None:
                continue
            yield {"chat_id": summary.chat_id, "chat_title": summary.title, "turn": i, "question": turn.question,
                   "standalone_question": turn.standalone_question or turn.question, "answer": turn.answer,
                   "kind": turn.kind, "answerer": turn.answerer,
                   "sources": list(dict.fromkeys(c.source for c in turn.citations)),
                   "rating": turn.feedback.rating, "comment": turn.feedback.comment}


def write_feedback_jsonl(store: ChatStore, owner: str, path: Path) -> int:
    """Write `owner`'s rated answers to `path` as JSONL, atomically (a reader never sees half a file); returns
    how many rows were written."""
    rows = [json.dumps(row, ensure_ascii=False) for row in feedback_rows(store, owner)]
    atomic.write_text(path, "".join(line + "\n" for line in rows))
    return len(rows)


def _turns(session: Mapping[str, Any], chat_id: str) -> list[Turn]:
    turns = session.get("turns")
    if not isinstance(turns, list):
        raise SessionFormatError(f"saved chat {chat_id!r} 'turns' must be a list, got {type(turns).__name__}")
    return [parse_turn(entry, f"saved chat {chat_id!r} turns[{i}]") for i, entry in enumerate(turns)]
