"""Tabular and record files: CSV tables and JSON / JSON Lines files of text records (standard library).

A CSV file is one document: each row becomes a block of `column: value` lines, so a cited row
reads on its own. A .json or .jsonl file inside a folder holds records, and each record with text
is its own document, named `<file>#<id>` (its `id` field, else its position). The rule:
- records: each line of a .jsonl file; in a .json file the top-level array, a single object that
  has a text field, or the one array of objects inside an object ({"items": [...]});
- text: the first of TEXT_FIELDS holding a string (or a list of strings); a record without one is
  skipped with that reason, as is a .jsonl line that is not a JSON object;
- title from TITLE_FIELDS, date from DATE_FIELDS (ISO text, an e-mail style date, or Unix seconds).
(A .jsonl file given as the corpus itself is a passage file instead; see loaders.load_jsonl.)"""

from __future__ import annotations

import csv
import datetime as dt
import email.utils
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.ingest.extract import (
    ExtractedPage,
    ExtractedRecords,
    FileUnreadable,
    read_text,
)

TEXT_FIELDS = ("text", "content", "body", "passage", "article", "abstract", "summary", "description")
TITLE_FIELDS = ("title", "name", "subject", "headline")
DATE_FIELDS = ("date", "created", "created_at", "published", "published_at", "date_published", "updated",
               "timestamp")
ID_FIELDS = ("id", "_id", "uuid", "key")

_SNIFF_CHARS = 16384
_KEY_UNSAFE = re.compile(r"[\x00-\x1f/\\]+")
_MAX_KEY_CHARS = 100
# Unix timestamps between 1973 and 2286, in seconds; anything else numeric is not taken for a date.
_EPOCH_RANGE = (1e8, 1e10)


# -- CSV ----------------------------------------------------------------------------------------

def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel  # one column, or too little to tell: plain commas


def _row_block(header: list[str], row: list[str]) -> str:
    names = header + [f"column {n}" for n in range(len(header) + 1, len(row) + 1)]
    return "\n".join(f"{name}: {value.strip()}" for name, value in zip(names, row) if value.strip())


def read_csv(path: Path) -> ExtractedPage:
    """One document per table; the first row names the columns. No date: a table has no date of its own."""
    text = read_text(path)
    try:
        rows = list(csv.reader(text.splitlines(), _dialect(text[:_SNIFF_CHARS])))
    except csv.Error as exc:
        raise FileUnreadable(f"is not a readable CSV table ({exc})") from exc
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise FileUnreadable("is an empty CSV table")
    header = [cell.strip() or f"column {n}" for n, cell in enumerate(rows[0], start=1)]
    blocks = [block for block in (_row_block(header, row) for row in rows[1:]) if block]
    title = re.sub(r"[_-]+", " ", path.stem).strip() or None
    return ExtractedPage(text="\n\n".join(blocks), title=title)


# -- JSON records -------------------------------------------------------------------------------

def _first_string(record: dict[str, Any], fields: tuple[str, ...]) -> str | None:
    for name in fields:
        value = record.get(name)
        if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
            value = "\n\n".join(value)  # a body given as a list of paragraphs
        if isinstance(value, str) and value.strip():
            return value
    return None


def _date_value(record: dict[str, Any]) -> str | None:
    """The record's date as ISO text, or None when none of DATE_FIELDS holds one we can read."""
    for name in DATE_FIELDS:
        value = record.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and _EPOCH_RANGE[0] <= value < _EPOCH_RANGE[1]:
            return dt.datetime.fromtimestamp(value, dt.UTC).date().isoformat()
        if isinstance(value, str) and value.strip():
            if re.match(r"\s*\d{4}-\d{2}-\d{2}", value):
                return value.strip()
            try:  # "Tue, 04 Jun 2024 09:30:00 +0000"
                return email.utils.parsedate_to_datetime(value).date().isoformat()
            except (TypeError, ValueError):
                continue
    return None


def _record_key(record: dict[str, Any], position: int) -> str:
    for name in ID_FIELDS:
        value = record.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return _KEY_UNSAFE.sub("_", str(value).strip())[:_MAX_KEY_CHARS]
    return str(position)


@dataclass(frozen=True)
class _BadLine:
    problem: str


def _records_from(found: Iterator[tuple[int, Any]], where: str) -> ExtractedRecords:
    """Turn (position, value) pairs into pages keyed by id. A record that can't be read is named by
    its id when it has one, else by its position ('line 7', 'record 3'), in the skip reason."""
    result = ExtractedRecords()
    seen: set[str] = set()
    for position, record in found:
        if isinstance(record, _BadLine):
            result.skipped.append((f"{where} {position}", record.problem))
            continue
        if not isinstance(record, dict):
            result.skipped.append((f"{where} {position}", f"is a JSON {type(record).__name__}, not an object"))
            continue
        key = _record_key(record, position)
        if key in seen:
            result.skipped.append((f"{where} {position}", f"repeats the id {key!r}; ids must be unique in a file"))
            continue
        seen.add(key)
        text = _first_string(record, TEXT_FIELDS)
        if text is None:
            result.skipped.append((key, f"has no text: none of the fields {', '.join(TEXT_FIELDS)} holds a string"))
            continue
        page = ExtractedPage(text=text, title=_first_string(record, TITLE_FIELDS), date=_date_value(record))
        result.records.append((key, page))
    return result


def _container_records(value: Any) -> list[Any] | None:
    """The records of a parsed .json file, or None when it does not look like records at all."""
    if isinstance(value, list):
        return value if any(isinstance(item, dict) for item in value) else None
    if isinstance(value, dict):
        if _first_string(value, TEXT_FIELDS) is not None:
            return [value]
        lists = [item for item in value.values() if isinstance(item, list) and item and isinstance(item[0], dict)]
        if len(lists) == 1:
            return lists[0]
    return None


def _some_records(result: ExtractedRecords) -> ExtractedRecords:
    """A file none of whose records has text is skipped as a whole, in one line (a data or config
    file is not worth a reason per element); otherwise the unreadable records are listed apart."""
    if result.records:
        return result
    if not result.skipped:
        raise FileUnreadable("holds no records")
    raise FileUnreadable(f"holds no text records ({len(result.skipped)} skipped; the first {result.skipped[0][1]})")


def read_json(path: Path) -> ExtractedRecords:
    try:
        value = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise FileUnreadable(f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from exc
    except RecursionError as exc:
        raise FileUnreadable("is JSON nested too deeply to read") from exc
    found = _container_records(value)
    if found is None:
        raise FileUnreadable(f"holds no text records: expected an array of objects with a {' or '.join(TEXT_FIELDS[:3])} field")
    return _some_records(_records_from(enumerate(found, start=1), "record"))


def _jsonl_values(text: str) -> Iterator[tuple[int, Any]]:
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield line_no, json.loads(line)
        except json.JSONDecodeError as exc:
            yield line_no, _BadLine(f"is not valid JSON ({exc.msg} at column {exc.colno})")
        except RecursionError:
            yield line_no, _BadLine("is JSON nested too deeply to read")


def read_jsonl(path: Path) -> ExtractedRecords:
    return _some_records(_records_from(_jsonl_values(read_text(path)), "line"))
