"""Per-format text extraction, chosen by file extension. Each reader raises FileUnreadable with a
short reason. Plain text, HTML and PDF are read here; other families have their own module. Zip
packages are measured against the archive caps (see archives) before their reader opens them."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from assistant.ingest import mail, notebooks, office, records
from assistant.ingest.archives import ArchiveLimits, check_archive
from assistant.ingest.extract import (
    ExtractedPage,
    ExtractedRecords,
    FileUnreadable,
    decode_text,
    not_regular_reason,
    one_line,
    read_bytes,
    read_text,
)

__all__ = ["ArchiveLimits", "ExtractedPage", "ExtractedRecords", "FileUnreadable", "decode_text",
           "not_regular_reason", "read_file", "read_html", "read_pdf", "read_text"]


def read_html(path: Path) -> ExtractedPage:
    from bs4 import BeautifulSoup
    from bs4.exceptions import ParserRejectedMarkup

    markup = decode_text(read_bytes(path))
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

    data = read_bytes(path)
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata
        title = str(meta.title).strip() if meta and meta.title else None
    except FileNotDecryptedError as exc:
        raise FileUnreadable("is an encrypted PDF; save a copy without a password to index it") from exc
    except (PyPdfError, *_PDF_DAMAGE) as exc:
        raise FileUnreadable(f"is not a readable PDF ({type(exc).__name__}: {one_line(exc)})") from exc
    # The file's creation date is not the document's date, so PDFs get one only from a text header.
    return ExtractedPage(text="\n\n".join(pages), title=title)


def read_plain(path: Path) -> ExtractedPage:
    return ExtractedPage(text=read_text(path))


PageReader = Callable[[Path], ExtractedPage]
RecordReader = Callable[[Path], ExtractedRecords]
PackageReader = Callable[[bytes, float | None], ExtractedPage]  # the bytes and the file's mtime

# Extensions not listed here (a user may add e.g. ".rst" to the settings) are read as plain text.
PAGE_READERS: dict[str, PageReader] = {
    ".html": read_html, ".htm": read_html, ".pdf": read_pdf,
    ".csv": records.read_csv, ".ipynb": notebooks.read_ipynb, ".eml": mail.read_eml,
}
# Zip-based formats: read_file measures the bytes (check_archive) and hands the same bytes to the
# reader, so a format added here is guarded against zip bombs by this one entry.
ZIP_READERS: dict[str, PackageReader] = {".docx": office.read_docx, ".pptx": office.read_pptx, ".epub": office.read_epub}
# Files holding many documents: each record becomes its own document.
RECORD_READERS: dict[str, RecordReader] = {".json": records.read_json, ".jsonl": records.read_jsonl}


def _mtime(path: Path) -> float | None:
    """When the file was last written; None if it cannot be told (the reader then trusts no bound)."""
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def read_file(path: Path, limits: ArchiveLimits) -> ExtractedPage | ExtractedRecords:
    """The text of one file, by its extension: one page, or the records of a JSON file.

    `limits` caps what a zip package may inflate to: ArchiveLimits.from_settings(corpus_settings)."""
    suffix = path.suffix.lower()
    package_reader = ZIP_READERS.get(suffix)
    if package_reader is not None:
        data = read_bytes(path)
        check_archive(data, limits)
        return package_reader(data, _mtime(path))
    record_reader = RECORD_READERS.get(suffix)
    if record_reader is not None:
        return record_reader(path)
    return PAGE_READERS.get(suffix, read_plain)(path)
