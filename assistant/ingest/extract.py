"""What every format reader shares: its result types, its one error, and safe byte reading.

Readers live in one module per format family (formats: text/HTML/PDF, office, records, mail,
notebooks); `formats.read_file` picks one by extension."""

from __future__ import annotations

import codecs
import datetime as dt
import importlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType


class FileUnreadable(Exception):
    """This file cannot be read as a document; the message says why."""


@dataclass(frozen=True)
class ExtractedPage:
    text: str
    title: str | None = None
    date: str | None = None  # ISO text (a time part is allowed); cleaning.parse_date reads it


@dataclass(frozen=True)
class ExtractedRecords:
    """A file that holds many documents (JSON records). Each readable one comes with a key naming it
    inside its file; records that cannot be read are listed as (key, why)."""

    records: list[tuple[str, ExtractedPage]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


_SNIFF_BYTES = 8192
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)  # no O_NONBLOCK (or FIFOs) on Windows

_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a folder"),
)


def not_regular_reason(mode: int) -> str | None:
    """Why a file of this st_mode is not read, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _SPECIAL_KINDS if test(mode)), "not a regular file")
    return f"is {kind}, not a regular file; only regular files are read"


def read_bytes(path: Path) -> bytes:
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait forever for a writer. The type is
    # checked on the open descriptor, so a file swapped for a pipe after the folder walk is refused too.
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise FileUnreadable(f"cannot be read ({exc.strerror or exc})") from exc
    try:
        reason = not_regular_reason(os.fstat(fd).st_mode)
        if reason:
            raise FileUnreadable(reason)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    except OSError as exc:
        raise FileUnreadable(f"cannot be read ({exc.strerror or exc})") from exc
    finally:
        os.close(fd)


def one_line(exc: BaseException, limit: int = 160) -> str:
    """An exception's message on one short line, for a skip reason."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def repair_text(text: str) -> str:
    """The text with every code point UTF-8 cannot encode replaced by U+FFFD.

    Only surrogates are such code points: lone ones come from JSON escapes ("\\ud800") and from file
    names that are not UTF-8 (Python's surrogateescape); a split pair is joined back into its character.
    Hashing, chunking and the index all need valid UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


# Byte-order marks of the Unicode encodings that hold NUL bytes (Windows Notepad's "Unicode" is UTF-16 LE with a
# mark); UTF-32's first, as its little-endian mark starts with UTF-16's. Without a mark such text looks binary.
_UNICODE_MARKS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
                  (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def decode_text(data: bytes) -> str:
    for mark, encoding in _UNICODE_MARKS:
        if data.startswith(mark):
            try:
                return data[len(mark):].decode(encoding)
            except UnicodeDecodeError as exc:
                raise FileUnreadable(f"starts as {encoding.upper()} text but has a bad byte at offset "
                                     f"{exc.start + len(mark)}; re-save it as UTF-8") from exc
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise FileUnreadable("looks binary (contains NUL bytes), not text; if it is UTF-16 text, re-save it as UTF-8 "
                             "or with a byte-order mark")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileUnreadable(f"is not UTF-8 text (bad byte at offset {exc.start}); re-save it as UTF-8") from exc


def read_text(path: Path) -> str:
    return decode_text(read_bytes(path))


def require_extra(module: str, extra: str, package: str) -> ModuleType:
    """Import an optional format library, or refuse the file naming the extra that installs it.

    Imported on first use, so a missing library costs only the files that need it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise FileUnreadable(f"needs the '{extra}' extra ({package} is not installed): "
                             f"pip install 'assistant[{extra}]'") from exc


def iso_date(value: dt.datetime | dt.date | None) -> str | None:
    """A metadata timestamp as ISO text (the date part is what documents keep)."""
    return value.isoformat() if value is not None else None


# Elements that start a new line; inline ones (<b>, <a>, <span>...) stay inside their sentence, so a
# quoted sentence is not cut where a word was emphasised.
_BLOCK_TAGS = ["p", "div", "br", "li", "ul", "ol", "dl", "dt", "dd", "tr", "td", "th", "table", "blockquote", "pre", "hr",
               "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer", "aside", "figure",
               "figcaption"]


def markup_text(markup: str | bytes) -> str:
    """The visible text of an HTML/XHTML fragment (an e-book chapter, an HTML-only e-mail)."""
    from bs4 import BeautifulSoup
    from bs4.exceptions import ParserRejectedMarkup

    try:
        soup = BeautifulSoup(markup, "html.parser")
        for tag in soup(["head", "script", "style", "noscript", "template", "svg"]):
            tag.decompose()
        for tag in soup.find_all(_BLOCK_TAGS):
            tag.insert_before("\n")
            tag.insert_after("\n")
        return soup.get_text()
    except (ParserRejectedMarkup, RecursionError) as exc:
        raise FileUnreadable(f"holds HTML that cannot be parsed ({type(exc).__name__})") from exc
