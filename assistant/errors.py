"""Typed errors. The library raises these; the CLI and UI turn them into one-line messages."""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error the assistant raises on purpose. `str(err)` is a one-line, actionable message."""


class InvalidQuestionError(AssistantError, ValueError):
    """The question is empty, whitespace only, or over the length limit."""


class InvalidArgumentError(AssistantError, ValueError):
    """An argument passed to the library (top_k, sources, dates, history, a path) has the wrong type or value;
    the message names the argument, the bad value and what to pass instead."""


class CorpusError(AssistantError):
    """The corpus folder or file is missing, empty, or unusable."""


class JsonlFormatError(CorpusError):
    """A JSONL record is not valid; the message names the file and line number."""

    def __init__(self, path: str, line_no: int, problem: str) -> None:
        super().__init__(f"{path}:{line_no}: {problem}")
        self.path = path
        self.line_no = line_no


class IndexMissingError(AssistantError):
    """No index exists where one was expected."""


class IndexMismatchError(AssistantError):
    """The index was built with different embedding or chunking settings than the current config."""


class StoreUnavailableError(AssistantError):
    """The Chroma store (local folder or server) cannot be reached or opened."""


class ConfigError(AssistantError, ValueError):
    """A setting has a value that cannot work; the message names the setting and the bad value."""


class MissingExtraError(AssistantError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, feature: str, extra: str, package: str) -> None:
        super().__init__(
            f"{feature} needs the '{package}' package: install it with  pip install -e '.[{extra}]'"
        )
        self.extra = extra


class ModelExportError(AssistantError):
    """A packaged model could not be exported to ONNX, or its export disagrees with the original."""


class BackendError(AssistantError):
    """A language-model backend failed: unreachable, timed out, or returned nothing usable. `problem` says what
    happened; `fix`, what the person who configures the assistant can change (settings and environment variables):
    `str()` joins them, and an edge whose users cannot change those (the web page) shows `problem` with its own."""

    def __init__(self, problem: str, fix: str = "") -> None:
        super().__init__(f"{problem}; {fix}" if fix else problem)
        self.problem, self.fix = problem, fix


class UploadError(AssistantError):
    """An uploaded file was refused (type, size, or unreadable)."""


class DocumentNotFoundError(AssistantError, KeyError):
    """No uploaded document of that name in the collection; the message lists the ones there are."""

    def __init__(self, collection: str, missing: list[str], available: list[str]) -> None:
        shown = ", ".join(available[:20]) + (f" and {len(available) - 20} more" if len(available) > 20 else "")
        there = f"its uploaded documents are: {shown}" if available else "it has no uploaded documents"
        super().__init__(f"collection {collection!r} has no uploaded document named {', '.join(missing)}; {there}")
        self.missing = missing

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class IndexCorruptError(AssistantError):
    """The index's files are unreadable or out of step with Chroma; the message names the repair command."""


class IndexIncompleteError(AssistantError):
    """An index run was interrupted before it published anything; the message says how to finish it."""


class SnapshotUnavailableError(AssistantError):
    """The Chroma server no longer holds what the manifest named (a newer run replaced it): read the manifest again."""


class IndexBusyError(AssistantError):
    """Another process holds the collection's writer lock and did not release it in time."""


class DiskSpaceError(AssistantError):
    """An index run stopped because the index folder's file system fell below store.min_free_mb; its
    committed work is kept and the previous index keeps answering."""


class CorpusChangedError(AssistantError):
    """An index run names a different corpus than the one the collection mirrors."""


class SessionFormatError(AssistantError, ValueError):
    """A saved chat session (dict or JSON) cannot be restored; the message names the bad field."""


class ChatStoreError(AssistantError):
    """The saved-chats database cannot be opened, read or written; the file is left as it is."""


class ChatChangedError(ChatStoreError):
    """A save was refused because the chat was saved elsewhere (another tab, window or process) since this copy of
    it was read: writing it would drop what the other one added."""


class ChatNotFoundError(ChatStoreError, KeyError):
    """No saved chat with that id belongs to this owner."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
