"""Checks for the arguments callers hand the library (questions, top_k, filters, history, paths).

Each check returns the value in the one shape the engine works with, or raises a typed error whose
one-line message names the argument, the bad value and what to pass instead. They run before any
model or index is touched, so a bad argument fails fast and never half-runs a question."""

from __future__ import annotations

import datetime as dt
import numbers
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from assistant.errors import InvalidArgumentError, InvalidQuestionError
from assistant.types import Turn

TOP_K_MIN, TOP_K_MAX = 1, 100
_SHOWN_CHARS = 60
_DATE_EXAMPLE = "2024-06-30"
_TURN_KEYS = frozenset({"question", "answer", "standalone_question"})
_HISTORY_HINT = "pass a Turn, a (question, answer) pair or a {'question': ..., 'answer': ...} dict"


def _show(value: object) -> str:
    """repr() of a bad value, shortened: messages stay one line even for a huge argument."""
    shown = repr(value)
    return shown if len(shown) <= _SHOWN_CHARS else shown[:_SHOWN_CHARS - 3] + "..."


def _type_name(value: object) -> str:
    return type(value).__name__


def check_unicode(text: str, what: str) -> None:
    """Refuse text that is not valid Unicode (a lone surrogate such as the JSON escape "\\ud800"): no
    tokenizer or store can take it, and there is no right way to guess what was meant."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidQuestionError(
            f"{what} holds a character that is not valid Unicode (U+{ord(text[exc.start]):04X}, a lone surrogate, at "
            f"position {exc.start}); send it as proper UTF-8 text") from None


def validate_question(question: object, max_chars: int) -> str:
    """The question, stripped; refuses non-text, empty and over-long questions."""
    if question is not None and not isinstance(question, str):
        raise InvalidQuestionError(f"the question must be text (a str), got {_type_name(question)}")
    if question is None or not question.strip():
        raise InvalidQuestionError("the question is empty: type a question about your documents")
    question = question.strip()
    check_unicode(question, "the question")
    if len(question) > max_chars:
        raise InvalidQuestionError(
            f"the question is {len(question)} characters long, over the {max_chars}-character limit; shorten it "
            "(or raise ASSISTANT_ANSWER__MAX_QUESTION_CHARS)"
        )
    return question


def validate_top_k(value: object) -> int:
    """A passage count from 1 to 100 as a plain int."""
    # bool is an int subclass, but top_k=True is a caller's mistake, not a request for one passage.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgumentError(
            f"top_k {_show(value)} ({_type_name(value)}) is not a whole number; pass top_k between {TOP_K_MIN} and {TOP_K_MAX}"
        )
    if not TOP_K_MIN <= int(value) <= TOP_K_MAX:
        raise InvalidArgumentError(f"top_k {int(value)} is out of range; pass top_k between {TOP_K_MIN} and {TOP_K_MAX}")
    return int(value)


def validate_sources(value: object) -> tuple[str, ...]:
    """Source names to filter on: one name (a str) or a collection of names; () for no filter."""
    if value is None:
        return ()
    # A lone str is one source; iterating it would filter on its single characters.
    items = (value,) if isinstance(value, str) else value
    if isinstance(items, (bytes, bytearray, Mapping)) or not isinstance(items, Iterable):
        raise InvalidArgumentError(
            f"sources {_show(value)} ({_type_name(value)}) is not a file name or a list of them; "
            "pass a file name or a list of file names, e.g. sources=['notes/a.txt']"
        )
    names: list[str] = []
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise InvalidArgumentError(
                f"sources[{i}] {_show(item)} ({_type_name(item)}) is not a file name; pass file names as str, e.g. sources=['notes/a.txt']"
            )
        if not item.strip():
            raise InvalidArgumentError(f"sources[{i}] is empty; pass file names relative to the corpus folder, e.g. 'notes/a.txt'")
        names.append(item.strip())
    return tuple(dict.fromkeys(names))  # duplicates add nothing to an $in filter


def parse_date(value: object, name: str) -> dt.date | None:
    """A date from a date, a datetime or an ISO string (YYYY-MM-DD, a time part allowed); None or blank: no date."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):  # checked first: a datetime is also a date
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise InvalidArgumentError(
            f"{name} {_show(value)} ({_type_name(value)}) is not a date; pass YYYY-MM-DD (e.g. {_DATE_EXAMPLE}) or a datetime.date"
        )
    text = value.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        raise InvalidArgumentError(f"{name} {_show(value)} is not a date; pass YYYY-MM-DD (e.g. {_DATE_EXAMPLE})") from None


DateLabels = tuple[str, str]
DATE_ARGUMENTS: DateLabels = ("date_from", "date_to")


def validate_date_range(date_from: object, date_to: object, labels: DateLabels = DATE_ARGUMENTS) -> tuple[dt.date | None, dt.date | None]:
    """(date_from, date_to) as dates; refuses a range that ends before it starts. `labels` name the two
    values in messages (the argument names, or the page's field names)."""
    first, second = labels
    start, end = parse_date(date_from, first), parse_date(date_to, second)
    if start is not None and end is not None and start > end:
        raise InvalidArgumentError(f"{first} {start} is after {second} {end}; make {first} the same day as {second} or earlier")
    return start, end


def _turn_text(value: object, where: str, *, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{where} {_show(value)} ({_type_name(value)}) is not text; {_HISTORY_HINT}")
    if required and not value.strip():
        raise InvalidArgumentError(f"{where} is empty; every earlier turn needs its question ({_HISTORY_HINT})")
    check_unicode(value, where)
    return value


def _turn_from_mapping(entry: Mapping[Any, Any], i: int) -> Turn:
    unknown = sorted(repr(key) for key in entry if key not in _TURN_KEYS)
    if unknown:
        raise InvalidArgumentError(f"history[{i}] has unknown key(s) {', '.join(unknown)}; {_HISTORY_HINT}")
    if "question" not in entry:
        raise InvalidArgumentError(f"history[{i}] has no 'question'; {_HISTORY_HINT}")
    standalone = entry.get("standalone_question")
    return Turn(
        question=_turn_text(entry["question"], f"history[{i}]['question']", required=True),
        answer=_turn_text(entry.get("answer"), f"history[{i}]['answer']", required=False),
        standalone_question=_turn_text(standalone, f"history[{i}]['standalone_question']", required=False) or None,
    )


def _turn_from_entry(entry: object, i: int) -> Turn:
    if isinstance(entry, Turn):
        return entry
    if isinstance(entry, Mapping):
        return _turn_from_mapping(entry, i)
    if isinstance(entry, (tuple, list)):
        if len(entry) != 2:
            raise InvalidArgumentError(f"history[{i}] has {len(entry)} item(s), not 2; {_HISTORY_HINT}")
        return Turn(question=_turn_text(entry[0], f"history[{i}][0] (the question)", required=True),
                    answer=_turn_text(entry[1], f"history[{i}][1] (the answer)", required=False))
    raise InvalidArgumentError(f"history[{i}] {_show(entry)} ({_type_name(entry)}) is not a turn; {_HISTORY_HINT}")


def validate_history(history: object) -> tuple[Turn, ...]:
    """Earlier turns as Turns, from Turns, (question, answer) pairs/lists or {'question', 'answer'} dicts."""
    if history is None:
        return ()
    # A str, bytes or a single dict is iterable but is not a list of turns; say so instead of
    # failing on its first character or key.
    if isinstance(history, (str, bytes, bytearray, Mapping, Turn)) or not isinstance(history, Iterable):
        raise InvalidArgumentError(f"history {_show(history)} ({_type_name(history)}) is not a list of turns; {_HISTORY_HINT} in a list")
    return tuple(_turn_from_entry(entry, i) for i, entry in enumerate(history))


def expand_path(value: object, *, name: str = "path") -> Path:
    """A path from a str or os.PathLike, with a leading '~' expanded to the home folder."""
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise InvalidArgumentError(f"{name} {_show(value)} ({_type_name(value)}) is not a path; pass a folder or file path as str")
    if isinstance(value, str) and not value.strip():
        raise InvalidArgumentError(f"{name} is empty; pass a folder or file path, e.g. '~/docs'")
    try:
        return Path(value).expanduser()
    except RuntimeError:  # '~name' for a user that does not exist, or no home folder at all
        raise InvalidArgumentError(f"{name} {_show(str(value))} starts with a '~' that names no home folder; pass a full path") from None
