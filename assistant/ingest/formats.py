"""Per-format text extraction. Each reader raises FileUnreadable with a short reason."""

from __future__ import annotations

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


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FileUnreadable(f"cannot be read ({exc.strerror or exc})") from exc


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

    soup = BeautifulSoup(decode_text(_read_bytes(path)), "html.parser")
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


def read_pdf(path: Path) -> ExtractedPage:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata
    except (PdfReadError, OSError, ValueError, KeyError) as exc:
        raise FileUnreadable(f"is not a readable PDF ({exc})") from exc
    title = str(meta.title).strip() if meta and meta.title else None
    # The file's creation date is not the document's date, so PDFs get one only from a text header.
    return ExtractedPage(text="\n\n".join(pages), title=title)
