"""Typed errors of the eval harness. The CLI turns them into one-line messages and exit code 2."""

from __future__ import annotations

from assistant.errors import AssistantError


class EvalError(AssistantError):
    """An evaluation cannot run: unknown suite, missing run directory, bad thresholds file..."""


class GoldFormatError(EvalError):
    """A gold file line is not valid; the message names the file and line number."""

    def __init__(self, path: str, line_no: int, problem: str) -> None:
        super().__init__(f"{path}:{line_no}: {problem}")
        self.path = path
        self.line_no = line_no
        self.problem = problem
