"""Text cleaning: metadata headers out, web boilerplate out, whitespace tidied."""

from __future__ import annotations

import datetime as dt
import re

# The seed files open with " date YYYY-MM-DD " followed directly by the article text.
_DATE_HEADER = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b[ \t]*")
_FRONT_MATTER = re.compile(r"^---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_FRONT_MATTER_FIELD = re.compile(r"^(\w+)\s*:\s*(.*?)\s*$", re.MULTILINE)

# Whole lines that are navigation chrome rather than content (compared case-insensitively).
_BOILERPLATE_LINES = {
    "skip to content",
    "skip to main content",
    "skip to navigation",
    "jump to content",
    "toggle navigation",
    "menu",
    "search",
    "share",
    "share this article",
    "print",
    "subscribe",
    "sign in",
    "log in",
    "advertisement",
    "cookie settings",
    "accept cookies",
    "back to top",
    "read more",
}


def parse_date(value: str) -> dt.date | None:
    """ISO date (optionally with a time part) or None."""
    match = re.match(r"\s*(\d{4}-\d{2}-\d{2})", value or "")
    if not match:
        return None
    try:
        return dt.date.fromisoformat(match.group(1))
    except ValueError:
        return None


def split_date_header(text: str) -> tuple[dt.date | None, str]:
    """Remove a leading ` date YYYY-MM-DD ` header; return (date, rest of text)."""
    match = _DATE_HEADER.match(text)
    if not match:
        return None, text
    return parse_date(match.group(1)), text[match.end():]


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Remove YAML-style `---` front matter (flat `key: value` lines only)."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    fields = {k.lower(): v.strip().strip("\"'") for k, v in _FRONT_MATTER_FIELD.findall(match.group(1))}
    return fields, text[match.end():]


def is_boilerplate(line: str) -> bool:
    return line.strip().lower().rstrip(".:!") in _BOILERPLATE_LINES


# A line that is only a timestamp such as "17:00 14.06.2024" or "2024-06-14 17:00".
_TIMESTAMP_LINE = re.compile(r"^\s*(\d{1,2}:\d{2}\s+\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}-\d{2}-\d{2}(\s+\d{1,2}:\d{2})?)\s*$")
# The same pattern over a whole text: no match means no line is a timestamp, and the line-by-line
# ticker scan (the slowest part of cleaning a large records file) can be skipped.
_ANY_TIMESTAMP_LINE = re.compile(_TIMESTAMP_LINE.pattern, re.MULTILINE)
_TICKER_MIN_ENTRIES = 3
# Only runs that change: a lone space is left alone, which makes the pass over a large text ~4x faster.
_SPACE_RUNS = re.compile(r" [ \t]+|\t[ \t]*")
_BLANK_RUNS = re.compile(r"\n{3,}")


def drop_news_ticker(lines: list[str]) -> list[str]:
    """Remove runs of (timestamp line, headline line) pairs: a feed of unrelated headlines.

    A run of at least three such pairs is a ticker; lone timestamp lines are dropped too,
    since they carry no content of their own."""
    if not _ANY_TIMESTAMP_LINE.search("\n".join(lines)):
        return lines
    out: list[str] = []
    i = 0
    while i < len(lines):
        j = i
        while j + 1 < len(lines) and _TIMESTAMP_LINE.match(lines[j]) and lines[j + 1].strip() and not _TIMESTAMP_LINE.match(lines[j + 1]):
            j += 2
            while j < len(lines) and not lines[j].strip():
                j += 1
        if (j - i) // 2 >= _TICKER_MIN_ENTRIES:
            i = j
            continue
        if not _TIMESTAMP_LINE.match(lines[i]):
            out.append(lines[i])
        i += 1
    return out


def clean_text(text: str) -> str:
    """Drop boilerplate lines and news tickers, normalise spaces, keep paragraph breaks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    # Runs of spaces and tabs never cross a line break, so one pass over the text collapses them.
    kept = [line.strip() for line in _SPACE_RUNS.sub(" ", text).split("\n") if not is_boilerplate(line)]
    cleaned = "\n".join(drop_news_ticker(kept))
    return _BLANK_RUNS.sub("\n\n", cleaned).strip()


def derive_title(text: str, fallback: str) -> str:
    """First non-empty line, shortened to a sentence or 120 characters."""
    stripped = [line.strip() for line in text.split("\n") if line.strip()]
    if stripped and stripped[0].startswith("#") and stripped[0].lstrip("#").strip():
        return stripped[0].lstrip("#").strip()[:120]  # a Markdown heading is the title
    lines = [line.lstrip("#").strip() for line in stripped]
    # Prefer a line that reads like a headline (4+ words) over a section label such as "Facts".
    candidates = [line for line in lines if len(line.split()) >= 4] or [line for line in lines if len(line) >= 3]
    for line in candidates[:1]:
        if line:
            sentence = re.split(r"(?<=[.!?])\s", line, maxsplit=1)[0]
            return sentence if len(sentence) <= 120 else sentence[:117].rstrip() + "..."
    return fallback
