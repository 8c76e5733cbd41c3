"""Loading and cleaning: metadata from headers, front matter and HTML; boilerplate dropped; bad files skipped."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from assistant.config import ChunkingSettings, CorpusSettings
from assistant.errors import CorpusError, JsonlFormatError
from assistant.ingest import chunk_documents, load_corpus
from assistant.ingest.cleaning import clean_text, split_date_header
from tests.conftest import BUNDLED_CORPUS

SETTINGS = CorpusSettings()


def by_source(path: Path) -> dict:
    return {d.source: d for d in load_corpus(path, SETTINGS).documents}


def test_bundled_corpus_dates_titles_and_header_removed():
    docs = by_source(BUNDLED_CORPUS)
    assert set(docs) == {p.name for p in BUNDLED_CORPUS.glob("*.txt")}
    jatec = docs["000_41cde8d9d66dd8ed.txt"]
    assert jatec.date == dt.date(2024, 11, 17)
    assert jatec.text.startswith("Ukraine and NATO have reached an agreement")
    assert "date 2024" not in jatec.text
    assert docs["003_e49305c45f08ffdc.txt"].date == dt.date(2023, 11, 29)
    assert docs["004_5fd673f8dd665ae0.txt"].date is None  # no header: no invented date
    assert docs["002_73f85231b0a38a8c.txt"].title.startswith("NATO Defense Ministers agree")


def test_boilerplate_and_news_ticker_dropped():
    docs = by_source(BUNDLED_CORPUS)
    washington = docs["004_5fd673f8dd665ae0.txt"]
    assert "Skip to content" not in washington.text
    assert washington.title.startswith("NATO head of states meeting in Washington")
    ticker_doc = docs["002_73f85231b0a38a8c.txt"]
    assert "Syrsky discusses front situation" not in ticker_doc.text      # unrelated headline feed
    assert "17:00 14.06.2024" not in ticker_doc.text
    assert "nearly 700 personnel" in ticker_doc.text                       # the article itself stays


def test_clean_text_keeps_paragraphs_and_real_lines():
    text = "Skip to content\nMenu\n\nFirst paragraph.\n\n\n\nSecond   paragraph with  spaces."
    assert clean_text(text) == "First paragraph.\n\nSecond paragraph with spaces."


def test_date_header_parsing_variants():
    assert split_date_header(" date 2024-06-14 Facts") == (dt.date(2024, 6, 14), "Facts")
    assert split_date_header("No header here") == (None, "No header here")
    assert split_date_header(" date 2024-13-45 Bad")[0] is None


def test_markdown_front_matter_and_html_meta(tmp_path: Path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.md").write_text("---\ntitle: Field notes\ndate: 2022-03-04\n---\n# Heading\n\nBody text here.")
    (tmp_path / "b.html").write_text(
        "<html><head><title>Page title</title><meta property='article:published_time' content='2021-05-06T10:00:00Z'>"
        "<script>var x = 1;</script></head><body><nav>Home | About</nav><h1>Big news</h1><p>Paragraph one.</p></body></html>"
    )
    docs = by_source(tmp_path)
    md = docs["notes/a.md"]
    assert (md.title, md.date) == ("Field notes", dt.date(2022, 3, 4))
    assert "title:" not in md.text
    html = docs["b.html"]
    assert (html.title, html.date) == ("Page title", dt.date(2021, 5, 6))
    assert "Paragraph one." in html.text and "var x" not in html.text and "Home | About" not in html.text


def test_pdf_is_read(tmp_path: Path):
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=300, height=200)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    stream = DecodedStreamObject()
    stream.set_data(b"BT /F1 12 Tf 20 100 Td (The harbour opened in 1888.) Tj ET")
    page[NameObject("/Contents")] = writer._add_object(stream)
    writer.add_metadata({"/Title": "Harbour history"})
    with open(tmp_path / "h.pdf", "wb") as fh:
        writer.write(fh)
    doc = by_source(tmp_path)["h.pdf"]
    assert doc.title == "Harbour history"
    assert "harbour opened in 1888" in doc.text


def test_binary_and_non_utf8_files_skipped_with_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    (tmp_path / "good.txt").write_text("A readable document about ports.")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me".encode("latin-1"))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    with caplog.at_level(logging.WARNING):
        report = load_corpus(tmp_path, SETTINGS)
    assert [d.source for d in report.documents] == ["good.txt"]
    skipped = dict(report.skipped)
    assert set(skipped) == {"binary.txt", "latin1.txt", "broken.pdf"}
    assert "binary" in skipped["binary.txt"] and "UTF-8" in skipped["latin1.txt"]
    for name in skipped:
        assert name in caplog.text


def test_empty_and_missing_corpus(tmp_path: Path):
    with pytest.raises(CorpusError, match="no readable documents"):
        load_corpus(tmp_path, SETTINGS)
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope", SETTINGS)


def test_jsonl_records_and_bad_line_number(tmp_path: Path):
    good = tmp_path / "p.jsonl"
    good.write_text('{"id": "a#0", "title": "Alpha_beta", "text": "Alpha text."}\n\n{"id": "b#1", "title": "B", "text": "Beta text."}\n')
    docs = load_corpus(good, SETTINGS).documents
    assert [(d.source, d.title) for d in docs] == [("a#0", "Alpha beta"), ("b#1", "B")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "ok"}\n{"id": "b", "text": "ok"}\n{"id": "c", "text": \n')
    with pytest.raises(JsonlFormatError, match=r"bad\.jsonl:3: not valid JSON") as info:
        load_corpus(bad, SETTINGS)
    assert info.value.line_no == 3
    missing = tmp_path / "missing.jsonl"
    missing.write_text('{"id": "a", "title": "no text"}\n')
    with pytest.raises(JsonlFormatError, match=r":1: missing or empty string field\(s\): text"):
        load_corpus(missing, SETTINGS)


def test_chunk_ids_are_stable_and_content_derived():
    docs = load_corpus(BUNDLED_CORPUS, SETTINGS).documents
    first = chunk_documents(docs, ChunkingSettings())
    second = chunk_documents(docs, ChunkingSettings())
    assert [c.chunk_id for c in first] == [c.chunk_id for c in second]
    assert len({c.chunk_id for c in first}) == len(first)
    editions = {d.source: d.content_hash[:12] for d in docs}
    assert all(c.chunk_id == f"{c.source}#{editions[c.source]}:{c.index}" for c in first)  # ids name the edition
    smaller = chunk_documents(docs, ChunkingSettings(chunk_size=80, chunk_overlap=10))
    assert len(smaller) > len(first)
