"""Per-format text extraction. Each reader raises FileUnreadable with a short reason."""

from __future__ import annotations

import io
import os
import stat
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path


class FileUnreadable(Exception):
    """This file cannot be read as a document; the message says why."""


@dataclass(frozen=True)
class ExtractedPage:
    text: str
    title: str | None = None
    date: str | None = None


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


def _read_bytes(path: Path) -> bytes:
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


def _one_line(exc: BaseException, limit: int = 160) -> str:
    """An exception's message on one short line, for a skip reason."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def decode_text(data: bytes) -> str:
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise FileUnreadable("looks binary (contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileUnreadable(f"is not UTF-8 text (bad byte at offset {exc.start}); re-save it as UTF-8") from exc


def read_text(path: Path) -> str:
    return decode_text(_read_bytes(path))


def read_html(path: Path) -> ExtractedPage:
    from bs4 import BeautifulSoup
    from bs4.exceptions import ParserRejectedMarkup

    markup = decode_text(_read_bytes(path))
    try:
        soup = BeautifulSoup(markup, "html.parser")
    except ParserRejectedMarkup as exc:
        raise FileUnreadable("is not parseable HTML (the parser rejected its markup); fix or re-save it") from exc
    except RecursionError as exc:
        raise FileUnreadable("is not parseable HTML (elements nested too deeply)") from exc
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "form", "aside", "template", "svg"]):
        tag.decompose()
    title = None
    if soup.title and soup.title.get_text(strip=True):
        title = soup.title.get_text(strip=True)
    elif soup.find("h1"):
        title = soup.find("h1").get_text(" ", strip=True)
    date = None
    for attrs in ({"property": "article:published_time"}, {"name": "date"}, {"name": "pubdate"},
                  {"name": "publish-date"}, {"itemprop": "datePublished"}, {"name": "dc.date"}):
        meta = soup.find("meta", attrs=attrs)
        if meta and meta.get("content"):
            date = str(meta["content"])
            break
    if date is None and soup.find("time", attrs={"datetime": True}):
        date = str(soup.find("time", attrs={"datetime": True})["datetime"])
    body = soup.body or soup
    return ExtractedPage(text=body.get_text("\n"), title=title, date=date)


# pypdf reports damaged files through many exception types besides its own (a bad xref table
# raises KeyError or IndexError, a bad stream zlib.error or struct.error, a cyclic outline
# RecursionError); any of them means this one file is unreadable, not that indexing must stop.
_PDF_DAMAGE = (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError, AssertionError,
               NotImplementedError, RecursionError, zlib.error, struct.error)


def read_pdf(path: Path) -> ExtractedPage:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PyPdfError

    data = _read_bytes(path)
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata
        title = str(meta.title).strip() if meta and meta.title else None
    except FileNotDecryptedError as exc:
        raise FileUnreadable("is an encrypted PDF; save a copy without a password to index it") from exc
    except (PyPdfError, *_PDF_DAMAGE) as exc:
        raise FileUnreadable(f"is not a readable PDF ({type(exc).__name__}: {_one_line(exc)})") from exc
    # The file's creation date is not the document's date, so PDFs get one only from a text header.
    return ExtractedPage(text="\n\n".join(pages), title=title)
