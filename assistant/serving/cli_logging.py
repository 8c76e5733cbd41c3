"""Where the CLI's log lines go: stderr, one line each, escaped for the terminal, and without --verbose
only the assistant's own warnings and anyone's errors."""

from __future__ import annotations

import logging

from assistant.ingest.loaders import SKIPPED_FILES_LOGGER
from assistant.serving.cli_render import terminal_safe


class _TerminalSafeFormatter(logging.Formatter):
    """Log lines name files and quote documents too: their control characters are escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().format(record))


def _ours_or_errors(record: logging.LogRecord) -> bool:
    """Without --verbose, a parser's own warnings ("invalid pdf header") and the loader's skipped-file
    records stay out of the terminal: the CLI reports each skipped file once, as `warning: skipped ...`."""
    if record.name == SKIPPED_FILES_LOGGER:
        return False
    return record.name.split(".")[0] == "assistant" or record.levelno >= logging.ERROR


def configure_cli_logging(verbose: bool) -> None:
    level = logging.INFO if verbose else logging.WARNING
    stream = logging.StreamHandler()
    stream.setFormatter(_TerminalSafeFormatter("%(levelname)s %(name)s: %(message)s"))
    if not verbose:
        stream.addFilter(_ours_or_errors)
    logging.basicConfig(level=level, handlers=[stream])  # a no-op when logging is already configured
    for handler in logging.root.handlers:
        handler.setLevel(level)  # bm25s sets its own logger to DEBUG on import; filter at the handler
