"""Turning the settings panel's filter fields into a SearchFilter (or a message for the page)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from assistant.store import SearchFilter


class FilterError(ValueError):
    """A filter field holds a value that cannot work; `str(err)` is shown in the page."""


def parse_date(text: str | None, label: str) -> dt.date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise FilterError(f"{label} {text!r} is not a date: use YYYY-MM-DD, e.g. 2024-07-01") from None


def make_filter(sources: Sequence[str] | None, date_from: str | None, date_to: str | None) -> SearchFilter | None:
    """None when no filter is set."""
    start, end = parse_date(date_from, "The 'From' date"), parse_date(date_to, "The 'To' date")
    if start and end and start > end:
        raise FilterError(f"The 'From' date {start} is after the 'To' date {end}")
    found = SearchFilter(sources=tuple(sources or ()), date_from=start, date_to=end)
    return None if found.is_empty() else found
