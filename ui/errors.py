"""Typed errors of the web UI. `str(err)` is a one-line message for the person starting the page."""

from __future__ import annotations

from assistant.errors import AssistantError, BackendError

# What a person at the page can do when the language model fails: the library's own fix names settings and
# environment variables of the server, which only whoever runs it can change.
MODEL_FAILED_FIX = ("choose another answerer or model server in Settings, or ask whoever runs this page to check "
                    "the model server")


class UIConfigError(AssistantError):
    """The page cannot start as configured (e.g. bound beyond loopback without credentials)."""


def page_text(err: AssistantError) -> str:
    """`err` as one line for the page, its first letter capitalised; a model failure with the page's own fix."""
    text = f"{err.problem}; {MODEL_FAILED_FIX}" if isinstance(err, BackendError) else str(err)
    return text[:1].upper() + text[1:]
