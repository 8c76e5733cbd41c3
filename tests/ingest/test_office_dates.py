"""Office dates are kept only when they are the document's: not the writing library's template date
(python-docx stamps 2013-12-23 on every file it writes), and not later than the file itself."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from assistant.config import CorpusSettings
from assistant.ingest import load_corpus
from assistant.ingest.archives import ArchiveLimits
from assistant.ingest.formats import read_file

docx = pytest.importorskip("docx")
pptx = pytest.importorskip("pptx")

SETTINGS = CorpusSettings()
LIMITS = ArchiveLimits.from_settings(SETTINGS)
PAST = dt.datetime(2019, 4, 2, 8, 30, tzinfo=dt.timezone.utc)


def write_docx(path: Path, created: dt.datetime | None = None) -> Path:
    document = docx.Document()
    document.add_paragraph("The Holm ferry carried 212 passengers on its first crossing.")
    if created is not None:
        document.core_properties.created = created
    document.save(str(path))
    return path


def write_pptx(path: Path, created: dt.datetime | None = None) -> Path:
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Harbour survey"
    slide.placeholders[1].text = "The harbour wall was raised by two metres."
    if created is not None:
        deck.core_properties.created = created
    deck.save(str(path))
    return path


def test_a_docx_written_by_python_docx_is_undated(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "plain.docx")
    assert docx.Document(str(path)).core_properties.created.year == 2013  # the template's date is in the file
    assert read_file(path, LIMITS).date is None


def test_a_docx_created_on_a_real_past_date_keeps_it(tmp_path: Path) -> None:
    assert read_file(write_docx(tmp_path / "dated.docx", PAST), LIMITS).date.startswith("2019-04-02")


def test_only_the_templates_exact_time_is_refused(tmp_path: Path) -> None:
    template = docx.Document().core_properties.created  # read from the installed template, as the reader does
    near = template.replace(tzinfo=template.tzinfo or dt.timezone.utc) + dt.timedelta(seconds=1)
    assert read_file(write_docx(tmp_path / "near.docx", near), LIMITS).date is not None


def test_a_date_later_than_the_file_itself_is_refused(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "future.docx", dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc))
    written = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc).timestamp()
    os.utime(path, (written, written))  # the file says it was last written years before its "creation"
    assert read_file(path, LIMITS).date is None
    os.utime(path, (written + 5 * 365 * 86400,) * 2)  # written after it: the date stands
    assert read_file(path, LIMITS).date.startswith("2024-05-01")


def test_slide_decks_follow_the_same_rule(tmp_path: Path) -> None:
    assert read_file(write_pptx(tmp_path / "plain.pptx"), LIMITS).date is None
    assert read_file(write_pptx(tmp_path / "dated.pptx", PAST), LIMITS).date.startswith("2019-04-02")


def test_undated_office_documents_are_indexed_without_a_date(tmp_path: Path) -> None:
    write_docx(tmp_path / "plain.docx")
    write_docx(tmp_path / "dated.docx", PAST)
    dates = {d.source: d.date for d in load_corpus(tmp_path, SETTINGS).documents}
    assert dates == {"plain.docx": None, "dated.docx": dt.date(2019, 4, 2)}
