"""Reading JSON Lines with errors that name the file and line: corpora, gold sets, benchmarks."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

ErrorFactory = Callable[[int, str], Exception]


def read_json_lines(path: Path) -> list[Any]:
    """Every non-blank line of a JSON Lines file, parsed (benchmarks and training data, which are trusted)."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def iter_json_objects(lines: Iterable[str], error: ErrorFactory) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; `error(line_no, problem)` is raised for a bad one."""
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(line_no, f"not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(record, dict):
            raise error(line_no, f"expected a JSON object, got {type(record).__name__}")
        yield line_no, record
