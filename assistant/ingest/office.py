"""Zipped XML documents: Word (.docx), PowerPoint (.pptx) and EPUB e-books.

Each library is an optional extra, imported on first use; title and date come from the file's own
metadata (Office core properties, EPUB Dublin Core), never from the file system. Readers take the
file's bytes, which `formats.read_file` has measured first (see archives: no zip bomb gets here), and
the file's modification time, which only bounds an Office date (see `_trusted_created`)."""

from __future__ import annotations

import datetime as dt
import functools
import io
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

from assistant.ingest.extract import (
    ExtractedPage,
    FileUnreadable,
    iso_date,
    markup_text,
    one_line,
    require_extra,
)

# A damaged package surfaces as a zip error, a missing part (KeyError), bad XML (lxml's XMLSyntaxError
# is a SyntaxError) or a bad value in a part (ValueError, TypeError, AttributeError, IndexError): any of
# them means this one file is unreadable, not that indexing must stop.
_PACKAGE_DAMAGE = (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, TypeError, SyntaxError,
                   AttributeError, IndexError, OSError, EOFError, RecursionError)


def _unreadable(kind: str, exc: BaseException) -> FileUnreadable:
    return FileUnreadable(f"is not a readable {kind} file ({type(exc).__name__}: {one_line(exc)})")


def _clean_title(value: object) -> str | None:
    text = " ".join(str(value or "").split())
    return text or None


# -- Office dates -------------------------------------------------------------------------------

# Time zones: a created time written without one is read as UTC, so a file saved just after it was
# created could look up to 14 hours "older" than its date; only a date beyond this slack is refused.
_CLOCK_SLACK = dt.timedelta(hours=14)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


@functools.cache
def _template_created(blank: Callable[[], Any]) -> dt.datetime | None:
    """The created time in the core properties of the library's own default template (python-docx:
    2013-12-23, python-pptx: 2013-01-27), read from the installed template, not hard-coded."""
    created = blank().core_properties.created
    return _utc(created) if isinstance(created, dt.datetime) else None


def _trusted_created(created: object, blank: Callable[[], Any], file_mtime: float | None) -> dt.datetime | None:
    """The core properties' created time, or None when it is not the document's: the library template's
    (every file a script writes with python-docx/-pptx carries it, and so does one edited later in Office,
    which keeps `created`; so the author is not consulted), or later than the file itself was written."""
    if not isinstance(created, dt.datetime):
        return None
    created = _utc(created)
    if created == _template_created(blank):
        return None
    if file_mtime is not None and created > dt.datetime.fromtimestamp(file_mtime, dt.timezone.utc) + _CLOCK_SLACK:
        return None
    return created


# -- Word ---------------------------------------------------------------------------------------

def _table_lines(table: Any) -> Iterator[str]:
    """One line per table row, cells joined with ' | ' (merged cells repeat in python-docx; kept once)."""
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            yield " | ".join(cells)


def read_docx(data: bytes, file_mtime: float | None = None) -> ExtractedPage:
    docx = require_extra("docx", "docx", "python-docx")
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        for block in document.iter_inner_content():  # paragraphs and tables in reading order
            if isinstance(block, Table):
                lines.extend(_table_lines(block))
            else:
                lines.append(block.text)
        props = document.core_properties
        title, created = _clean_title(props.title), _trusted_created(props.created, docx.Document, file_mtime)
    except PackageNotFoundError as exc:
        raise FileUnreadable("is not a Word .docx file (not an Office package); re-save it as .docx") from exc
    except _PACKAGE_DAMAGE as exc:
        raise _unreadable("Word .docx", exc) from exc
    return ExtractedPage(text="\n\n".join(lines), title=title, date=iso_date(created))


# -- PowerPoint ---------------------------------------------------------------------------------

def _shape_lines(shape: Any) -> Iterator[str]:
    from pptx.shapes.group import GroupShape

    if shape.has_text_frame:
        yield from (paragraph.text for paragraph in shape.text_frame.paragraphs)
    elif shape.has_table:
        yield from _table_lines(shape.table)
    elif isinstance(shape, GroupShape):  # its members in order
        for member in shape.shapes:
            yield from _shape_lines(member)


def _slide_text(slide: Any) -> str:
    lines = [line for shape in slide.shapes for line in _shape_lines(shape)]
    if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
        lines.append(slide.notes_slide.notes_text_frame.text)  # speaker notes are part of the talk
    return "\n".join(line for line in lines if line.strip())


# The title python-pptx's own template carries: not a title anybody gave their slides.
_TEMPLATE_TITLES = {"PowerPoint Presentation"}


def read_pptx(data: bytes, file_mtime: float | None = None) -> ExtractedPage:
    pptx = require_extra("pptx", "pptx", "python-pptx")
    from pptx.exc import PackageNotFoundError

    try:
        deck = pptx.Presentation(io.BytesIO(data))
        slides = [_slide_text(slide) for slide in deck.slides]
        props = deck.core_properties
        title = _clean_title(props.title)
        if title in _TEMPLATE_TITLES:
            title = None
        if title is None and len(deck.slides) and deck.slides[0].shapes.title is not None:
            title = _clean_title(deck.slides[0].shapes.title.text)  # the first slide's title
        created = _trusted_created(props.created, pptx.Presentation, file_mtime)
    except PackageNotFoundError as exc:
        raise FileUnreadable("is not a PowerPoint .pptx file (not an Office package); re-save it as .pptx") from exc
    except _PACKAGE_DAMAGE as exc:
        raise _unreadable("PowerPoint .pptx", exc) from exc
    return ExtractedPage(text="\n\n".join(text for text in slides if text), title=title, date=iso_date(created))


# -- EPUB ---------------------------------------------------------------------------------------

def _dublin_core(book: Any, name: str) -> str | None:
    values = book.get_metadata("DC", name)
    return _clean_title(values[0][0]) if values else None


def read_epub(data: bytes, file_mtime: float | None = None) -> ExtractedPage:
    """`file_mtime` is not used: a Dublin Core date is the edition's publication date, set on purpose."""
    require_extra("ebooklib", "epub", "ebooklib")
    from ebooklib import ITEM_DOCUMENT, epub

    try:
        # ignore_ncx: read the spine (the reading order) and skip the old NCX table of contents.
        book = epub.read_epub(io.BytesIO(data), options={"ignore_ncx": True})
        chapters: list[str] = []
        for idref, _linear in book.spine:
            item = book.get_item_with_id(idref)
            if item is None or item.get_type() != ITEM_DOCUMENT or isinstance(item, epub.EpubNav):
                continue  # the navigation page only repeats chapter titles
            chapters.append(markup_text(item.get_content()))
        title, date = _dublin_core(book, "title"), _dublin_core(book, "date")
    except epub.EpubException as exc:
        raise FileUnreadable(f"is not a readable EPUB file ({one_line(exc)})") from exc
    except _PACKAGE_DAMAGE as exc:
        raise _unreadable("EPUB", exc) from exc
    return ExtractedPage(text="\n\n".join(chapters), title=title, date=date)
