"""Typed errors of the web UI. `str(err)` is a one-line message for the person starting the page."""

from __future__ import annotations

from assistant.errors import AssistantError


class UIConfigError(AssistantError):
    """The page cannot start as configured (e.g. bound beyond loopback without credentials)."""
