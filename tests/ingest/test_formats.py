"""Document formats beyond text/HTML/PDF: each file is made here with its real library, indexed with
the real engine, and asked a question only it answers; titles and dates come from its metadata."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.config import CorpusSettings
from assistant.errors import JsonlFormatError
from assistant.ingest import load_corpus
from assistant.ingest.loaders import load_files
from assistant.retrieval.embedding import Embedder
from tests.conftest import make_settings
from ui.uploads import check_upload

SETTINGS = CorpusSettings()


# -- making real files --------------------------------------------------------------------------

def make_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Crane trials", level=1)
    document.add_paragraph("The harbour authority of Port Ellery ran its trials in spring.")
    document.add_paragraph("The new Port Ellery crane lifted 42 tonnes during its first trial.")
    table = document.add_table(rows=2, cols=2)
    for (row, col), text in {(0, 0): "Berth", (0, 1): "Depth", (1, 0): "North", (1, 1): "11 m"}.items():
        table.cell(row, col).text = text
    document.core_properties.title = "Port Ellery crane report"
    document.core_properties.created = dt.datetime(2021, 3, 4, 10, 30)
    document.save(str(path))


def make_pptx(path: Path) -> None:
    from pptx import Presentation

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])  # title and content
    slide.shapes.title.text = "Glacier survey"
    slide.placeholders[1].text = "The Tasman survey team camped near the lake."
    second = deck.slides.add_slide(deck.slide_layouts[1])
    second.shapes.title.text = "Findings"
    second.placeholders[1].text = "The Tasman glacier retreated 180 metres in one summer."
    second.notes_slide.notes_text_frame.text = "Show the drone photographs here."
    deck.core_properties.title = "Tasman glacier field survey"
    deck.core_properties.created = dt.datetime(2020, 1, 15, 9, 0)
    deck.save(str(path))


def make_epub(path: Path) -> None:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("lighthouse-tales-1")
    book.set_title("Tales of the Morrow Light")
    book.set_language("en")
    book.add_metadata("DC", "date", "2019-05-06")
    chapters = []
    for n, body in enumerate(["<p>Cape Morrow stands above a narrow channel.</p>",
                              "<p>The Cape Morrow lantern burned <em>colza</em> oil until 1871.</p>"], start=1):
        chapter = epub.EpubHtml(title=f"Chapter {n}", file_name=f"chapter{n}.xhtml", lang="en")
        chapter.content = f"<html><body><h1>Chapter {n}</h1>{body}</body></html>"
        book.add_item(chapter)
        chapters.append(chapter)
    book.toc = chapters
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *chapters]
    epub.write_epub(str(path), book)


def make_ipynb(path: Path) -> None:
    import nbformat
    from nbformat import v4

    notebook = v4.new_notebook()
    notebook.metadata["title"] = "Dunmore rainfall notebook"
    notebook.metadata["date"] = "2022-07-08"
    notebook.cells = [
        v4.new_markdown_cell("# Rainfall\n\nThe Dunmore gauge recorded 73 millimetres of rain in May."),
        v4.new_code_cell("rain = load_gauge('dunmore')\nrain.plot()"),
    ]
    nbformat.write(notebook, str(path))


def make_eml(path: Path) -> None:
    message = EmailMessage()
    message["From"] = "Ines Ward <ines@example.org>"
    message["To"] = "bridges@example.org"
    message["Subject"] = "Kelso bridge inspection"
    message["Date"] = "Tue, 04 Jun 2024 09:30:00 +0000"
    message.set_content("Hello team,\n\nThe Kelso bridge inspection found seven corroded bolts.\n\nInes\n")
    path.write_bytes(bytes(message))


def make_csv(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["keeper", "station", "note"])
        writer.writerow(["Ada Pell", "Skerry Head", "Ada Pell kept the Skerry Head light until she retired in 1957."])
        writer.writerow(["Tom Rusk", "Gull Rock", "Tom Rusk painted the Gull Rock tower red."])


def make_json(path: Path) -> None:
    path.write_text(json.dumps({"items": [
        {"id": "seals", "name": "Seal count", "body": "Volunteers counted 312 grey seals on Brough beach.",
         "created": 1700000000},
        {"id": "empty", "name": "A record without text"},
    ]}), encoding="utf-8")


def make_jsonl(path: Path) -> None:
    lines = [
        json.dumps({"id": "ferry-1", "title": "Ferry timetable change", "content":
                    "The Larne ferry now leaves at 6:15 on Sundays.", "date": "2023-09-10"}),
        "{this line is broken",
        json.dumps({"text": "The Larne harbour cafe opens at noon.", "published": "2023-09-12"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


MAKERS = {"report.docx": make_docx, "survey.pptx": make_pptx, "tales.epub": make_epub, "rain.ipynb": make_ipynb,
          "inspection.eml": make_eml, "light_keepers.csv": make_csv, "wildlife.json": make_json,
          "notes/ferries.jsonl": make_jsonl}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("formats-corpus")
    (root / "notes").mkdir()
    for name, make in MAKERS.items():
        make(root / name)
    (root / "package.json").write_text(json.dumps({"name": "not-documents", "version": "1.0.0"}))
    (root / "plain.txt").write_text("The village hall was repainted in green last autumn.", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def engine(folder: Path, tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Assistant:
    """One real index over every format, built once for this module."""
    settings = make_settings(tmp_path_factory.mktemp("formats-store"), corpus=folder)
    assistant = Assistant(settings, embedder=embedder)
    assistant.index()
    return assistant


# -- every format answers its own question -------------------------------------------------------

CASES = [
    # (question, source, sentence quoted, title, date)
    ("How many tonnes did the Port Ellery crane lift in its first trial?", "report.docx",
     "The new Port Ellery crane lifted 42 tonnes during its first trial.", "Port Ellery crane report", dt.date(2021, 3, 4)),
    ("How far did the Tasman glacier retreat?", "survey.pptx",
     "The Tasman glacier retreated 180 metres in one summer.", "Tasman glacier field survey", dt.date(2020, 1, 15)),
    ("What oil did the Cape Morrow lantern burn?", "tales.epub",
     "The Cape Morrow lantern burned colza oil until 1871.", "Tales of the Morrow Light", dt.date(2019, 5, 6)),
    ("How much rain did the Dunmore gauge record in May?", "rain.ipynb",
     "The Dunmore gauge recorded 73 millimetres of rain in May.", "Dunmore rainfall notebook", dt.date(2022, 7, 8)),
    ("How many corroded bolts did the Kelso bridge inspection find?", "inspection.eml",
     "The Kelso bridge inspection found seven corroded bolts.", "Kelso bridge inspection", dt.date(2024, 6, 4)),
    ("When did Ada Pell retire from the Skerry Head light?", "light_keepers.csv",
     "Ada Pell kept the Skerry Head light until she retired in 1957.", "light keepers", None),
    ("How many grey seals did volunteers count on Brough beach?", "wildlife.json#seals",
     "Volunteers counted 312 grey seals on Brough beach.", "Seal count", dt.date(2023, 11, 14)),
    ("When does the Larne ferry leave on Sundays?", "notes/ferries.jsonl#ferry-1",
     "The Larne ferry now leaves at 6:15 on Sundays.", "Ferry timetable change", dt.date(2023, 9, 10)),
]


@pytest.mark.slow
@pytest.mark.parametrize(("question", "source", "sentence", "title", "date"), CASES,
                         ids=[case[1].rsplit(".", 1)[-1].split("#")[0] for case in CASES])
def test_each_format_is_indexed_and_cited(engine: Assistant, question: str, source: str, sentence: str,
                                          title: str, date: dt.date | None) -> None:
    answer = engine.ask(question)
    assert not answer.abstained, answer.notes
    first = answer.citations[0]
    assert first.source == source
    assert sentence in first.quote
    assert first.passage[first.start:first.end] == first.quote  # the quote is an exact span of the passage
    assert (first.title, first.date) == (title, date)             # from the format's own metadata


def test_format_text_is_readable_and_metadata_is_the_files_own(folder: Path) -> None:
    report = load_corpus(folder, SETTINGS)
    docs = {d.source: d for d in report.documents}
    assert set(docs) == {"report.docx", "survey.pptx", "tales.epub", "rain.ipynb", "inspection.eml", "light_keepers.csv",
                         "wildlife.json#seals", "notes/ferries.jsonl#ferry-1", "notes/ferries.jsonl#3", "plain.txt"}
    assert "Berth | Depth\n\nNorth | 11 m" in docs["report.docx"].text                 # tables row by row
    assert "Show the drone photographs here." in docs["survey.pptx"].text              # speaker notes
    assert "Chapter 2" in docs["tales.epub"].text and "<p>" not in docs["tales.epub"].text
    assert "lantern burned colza oil" in docs["tales.epub"].text                        # inline markup stays inline
    assert docs["inspection.eml"].text.startswith("From: Ines Ward <ines@example.org>\nTo: bridges@example.org")
    assert "keeper: Tom Rusk\nstation: Gull Rock\nnote: Tom Rusk painted the Gull Rock tower red." in docs["light_keepers.csv"].text
    untitled = docs["notes/ferries.jsonl#3"]  # no id: named by its line; no title: the first line stands in
    assert (untitled.title, untitled.date) == ("The Larne harbour cafe opens at noon.", dt.date(2023, 9, 12))


def test_records_and_files_that_cannot_be_read_are_skipped_with_a_reason(folder: Path) -> None:
    skipped = dict(load_corpus(folder, SETTINGS).skipped)
    assert set(skipped) == {"wildlife.json#empty", "notes/ferries.jsonl#line 2", "package.json"}
    assert skipped["wildlife.json#empty"].startswith("has no text: none of the fields text, content, body")
    assert skipped["notes/ferries.jsonl#line 2"].startswith("is not valid JSON")
    assert "no text records" in skipped["package.json"]


def test_damaged_files_are_skipped_with_one_line_each(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("A readable note about tides.")
    (tmp_path / "zip.docx").write_bytes(b"PK\x03\x04 truncated archive")
    (tmp_path / "text.pptx").write_text("just text, not a slide deck")
    (tmp_path / "bad.epub").write_bytes(b"not a zip at all")
    (tmp_path / "bad.ipynb").write_text("{\"cells\": 3}")
    (tmp_path / "bad.json").write_text("{\"text\": ")
    (tmp_path / "none.eml").write_bytes(b"")
    (tmp_path / "nothing.jsonl").write_text("{\"title\": \"t\"}\n[1, 2]\n")
    report = load_corpus(tmp_path, SETTINGS)
    assert [d.source for d in report.documents] == ["ok.txt"]
    skipped = dict(report.skipped)
    assert {"zip.docx", "text.pptx", "bad.epub", "bad.ipynb", "bad.json", "none.eml", "nothing.jsonl"} <= set(skipped)
    assert "Word .docx" in skipped["zip.docx"] and "PowerPoint .pptx" in skipped["text.pptx"]
    assert "EPUB" in skipped["bad.epub"] and "Jupyter notebook" in skipped["bad.ipynb"]
    assert "not valid JSON" in skipped["bad.json"] and "e-mail" in skipped["none.eml"]
    # A file with no text record at all is one line, not a line per record.
    assert skipped["nothing.jsonl"].startswith("holds no text records (2 skipped; the first has no text")
    assert not any(source.startswith("nothing.jsonl#") for source in skipped)
    assert all("\n" not in reason for reason in skipped.values())


def test_unicode_text_with_a_byte_order_mark_is_read_and_unmarked_nul_text_says_how_to_fix_it(tmp_path: Path) -> None:
    tide = "Spring tides at Carrow Point reach 5.2 metres — twice the neap range."
    (tmp_path / "notepad.txt").write_bytes(tide.encode("utf-16"))  # Windows Notepad's "Unicode": UTF-16 LE, marked
    (tmp_path / "big.md").write_bytes(codecs.BOM_UTF16_BE + tide.encode("utf-16-be"))
    (tmp_path / "wide.txt").write_bytes(tide.encode("utf-32"))
    (tmp_path / "unmarked.txt").write_bytes(tide.encode("utf-16-le"))  # no mark: NUL bytes, nothing says UTF-16
    report = load_corpus(tmp_path, SETTINGS)
    texts = {d.source: d.text for d in report.documents}
    assert set(texts) == {"notepad.txt", "big.md", "wide.txt"}
    assert all(tide in text and "\ufeff" not in text for text in texts.values())
    reason = dict(report.skipped)["unmarked.txt"]
    assert "contains NUL bytes" in reason and "re-save it as UTF-8" in reason


@pytest.mark.parametrize(("name", "module", "extra"), [
    ("report.docx", "docx", "docx"), ("survey.pptx", "pptx", "pptx"),
    ("tales.epub", "ebooklib", "epub"), ("rain.ipynb", "nbformat", "ipynb"),
])
def test_a_missing_library_skips_its_files_naming_the_extra(folder: Path, monkeypatch: pytest.MonkeyPatch,
                                                            name: str, module: str, extra: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # what Python does for a module that is not installed
    report = load_files([folder / name, folder / "plain.txt"], SETTINGS)
    assert [d.source for d in report.documents] == ["plain.txt"]
    assert report.skipped[0][0] == name
    assert report.skipped[0][1].startswith(f"needs the '{extra}' extra")
    assert report.skipped[0][1].endswith(f"pip install 'assistant[{extra}]'")


def test_a_jsonl_given_as_the_corpus_is_still_a_strict_passage_file(folder: Path) -> None:
    # Inside a folder any text field will do and a broken line is skipped; as the corpus itself the
    # file must hold {id, title, text} passages and the first bad line fails with its number.
    with pytest.raises(JsonlFormatError, match=r"ferries\.jsonl:1: missing or empty string field\(s\): text"):
        load_corpus(folder / "notes" / "ferries.jsonl", SETTINGS)


def test_the_upload_check_accepts_every_format(folder: Path) -> None:
    for name in MAKERS:
        check_upload(folder / name, max_mb=5)


@pytest.mark.slow
def test_an_uploaded_slide_deck_is_indexed_and_answers(engine: Assistant, tmp_path: Path) -> None:
    from pptx import Presentation

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Orchard yields"
    slide.placeholders[1].text = "The Hollin orchard picked 9 tonnes of pears this autumn."
    path = tmp_path / "orchard.pptx"
    deck.save(str(path))
    report = engine.add_files([path])
    assert report.added == ["upload:orchard.pptx"]
    answer = engine.ask("How many tonnes of pears did the Hollin orchard pick?")
    assert answer.citations[0].source == "upload:orchard.pptx"
    assert answer.citations[0].title == "Orchard yields"  # no title in the file's properties: the first slide's


@pytest.mark.slow
def test_a_records_file_that_cannot_be_read_keeps_its_indexed_records(tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "otters.txt").write_text("Otters returned to the river Dunnet in 2019.\n")
    records = corpus / "herons.jsonl"
    records.write_text(json.dumps({"id": "h1", "title": "Heron census", "text": "Wardens counted 27 grey herons at Lough Tarn."}) + "\n")
    engine = Assistant(make_settings(tmp_path / "store", corpus=corpus), embedder=embedder)
    engine.index()
    records.write_bytes(b"\x80\x81 not UTF-8 any more")  # a passing read error, e.g. a half-written save
    report = engine.index()
    assert any(source == "herons.jsonl" for source, _ in report.skipped)
    assert "herons.jsonl#h1" not in report.removed
    assert engine.retrieve("grey herons Lough Tarn", top_k=1)[0].source == "herons.jsonl#h1"
    records.unlink()  # gone for good: now its records go too
    assert "herons.jsonl#h1" in engine.index().removed
