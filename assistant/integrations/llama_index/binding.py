"""Which engine an adapter talks to: the one passed, or the shared one for some settings."""

from __future__ import annotations

from assistant.arguments import resolve_settings
from assistant.config import Settings
from assistant.engine import AnswerEngine
from assistant.engine_pool import engine_for
from assistant.errors import InvalidArgumentError


def resolve_engine(engine: AnswerEngine | None, settings: Settings | None) -> AnswerEngine:
    """`engine` as given, else the shared engine for `settings` (the environment's when None),
    which builds a never-built collection from its corpus on first use, as `ask()` does."""
    if engine is not None and settings is not None:
        raise InvalidArgumentError("pass engine= or settings=, not both (an engine already has its settings)")
    if engine is not None:
        if not isinstance(engine, AnswerEngine):  # an assistant.Assistant is one
            raise InvalidArgumentError(
                f"engine is a {type(engine).__name__}, not an assistant.Assistant; pass Assistant(settings) or settings=")
        return engine
    return engine_for(resolve_settings(settings))
