"""Caller-friendly arguments, checked the same way by every entry point (ask(), chat sessions, the
CLI, the HTTP API, the page): settings with a collection or corpus applied, search filters, history."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from assistant.config import Settings, load_settings
from assistant.config_errors import settings_error
from assistant.index.store import SearchFilter
from assistant.types import Turn
from assistant.validation import (
    DATE_ARGUMENTS,
    DateLabels,
    expand_path,
    validate_date_range,
    validate_history,
    validate_sources,
)

SourcesLike = str | Iterable[str] | None
DateLike = dt.date | str | None
HistoryLike = Sequence[Turn | Mapping[str, str] | tuple[str, str] | list[str]]


def may_build_on_first_use(collection: object, corpus: object) -> bool:
    """A collection named without a corpus must already exist: it is never filled from the default
    corpus. The one rule behind `ask()`, `assistant ask/chat/serve` and `python -m ui`."""
    return not (collection and not corpus)


def resolve_settings(settings: Settings | None, *, collection: str | None = None,
                     corpus: str | os.PathLike[str] | None = None) -> Settings:
    """The settings an entry point runs with: `settings` (or the environment's) with `collection=` and
    `corpus=` applied. Invalid values raise ConfigError naming the setting."""
    overrides: dict[str, dict[str, Any]] = {}
    if collection is not None:
        overrides["store"] = {"collection": collection}
    if corpus is not None:
        overrides["corpus"] = {"path": expand_path(corpus, name="corpus")}
    try:
        settings = settings or load_settings()
        return settings.with_(**overrides) if overrides else settings
    except ValidationError as exc:
        raise settings_error(exc) from None


def make_filter(sources: SourcesLike = None, date_from: DateLike = None, date_to: DateLike = None, *,
                labels: DateLabels = DATE_ARGUMENTS) -> SearchFilter | None:
    """A SearchFilter from caller-friendly values, or None when nothing is filtered. The one filter
    builder of the CLI, the API and the page (`labels`: how its messages name the two dates)."""
    start, end = validate_date_range(date_from, date_to, labels)
    search_filter = SearchFilter(validate_sources(sources), start, end)
    return None if search_filter.is_empty() else search_filter


def as_turns(history: HistoryLike | None) -> tuple[Turn, ...]:
    """Accept Turns, (question, answer) pairs, or {"question", "answer"} dicts; anything else raises
    InvalidArgumentError naming the entry."""
    return validate_history(history)
