"""Nothing a user uploads can break the index: hostile files, made here for real, go through the real
loaders and are skipped alone with a one-line reason while the good files next to them load.

- a parser that raises anything (the stdlib e-mail parser's AttributeError, zlib.error from a broken
  e-book) costs that one file;
- zip packages are measured before a parser opens them: entry count, inflated sizes, ratio, and sizes
  that lie (the bomb tests run in a child process so its peak RSS is the loader's alone);
- text that is not valid Unicode (lone surrogates) is repaired to U+FFFD and still indexes."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest
from test_formats import make_docx, make_epub, make_pptx

from assistant import Assistant
from assistant.config import CorpusSettings
from assistant.ingest import cleaning, formats
from assistant.ingest.archives import ArchiveLimits, check_archive
from assistant.ingest.extract import FileUnreadable, repair_text
from assistant.ingest.loaders import LoadReport, content_hash, load_files, load_folder

SETTINGS = CorpusSettings()
GOOD_TEXT = "The harbour crane lifted 42 tonnes."
MB = 1024 * 1024


def loaded(report: LoadReport) -> dict[str, str]:
    return {document.source: document.text for document in report.documents}


def with_good_file(folder: Path) -> Path:
    (folder / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    return folder


# -- a file is the unit of failure --------------------------------------------------------------

@pytest.mark.parametrize("to_header", ["a:b:c;d", "a@["])
def test_an_eml_that_trips_the_stdlib_address_parser_is_skipped_alone(tmp_path: Path, to_header: str) -> None:
    # Python's e-mail parser raises AttributeError on these To: headers (a bug in the stdlib).
    with_good_file(tmp_path)
    (tmp_path / "poisoned.eml").write_bytes(
        f"From: ines@example.org\r\nTo: {to_header}\r\nSubject: Bolts\r\n\r\nSeven bolts were corroded.\r\n".encode())
    report = load_folder(tmp_path, SETTINGS)
    assert loaded(report) == {"good.txt": GOOD_TEXT}
    [(source, reason)] = report.skipped
    assert source == "poisoned.eml"
    assert reason.startswith("has a To header that cannot be read (AttributeError: ")
    assert "\n" not in reason


def _corrupt_entry(path: Path, member: str) -> None:
    """Make one entry's deflate data start with an invalid block type, so inflating it raises zlib.error."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    data[info.header_offset + 30 + name_len + extra_len] = 0x07  # final block, reserved type 11
    path.write_bytes(bytes(data))


def test_a_parser_error_of_an_unexpected_type_skips_that_file_alone(tmp_path: Path) -> None:
    # ebooklib lets zipfile's zlib.error through: no reader lists it, the per-file boundary takes it.
    with_good_file(tmp_path)
    make_epub(tmp_path / "broken.epub")
    _corrupt_entry(tmp_path / "broken.epub", "EPUB/content.opf")
    report = load_folder(tmp_path, SETTINGS)
    assert loaded(report) == {"good.txt": GOOD_TEXT}
    [(source, reason)] = report.skipped
    assert source == "broken.epub"
    assert reason.startswith("could not be read (error: Error -3 while decompressing data: invalid block type)")


class ParserBug(Exception):
    """An exception type no reader could have listed."""


def test_any_exception_type_from_a_reader_is_reported_per_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def bad_reader(path: Path) -> formats.ExtractedPage:
        raise ParserBug(f"cannot cope with\n{path.name}")

    monkeypatch.setitem(formats.PAGE_READERS, ".pdf", bad_reader)
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4")
    report = load_files([with_good_file(tmp_path) / "good.txt", tmp_path / "a.pdf"], SETTINGS)
    assert loaded(report) == {"good.txt": GOOD_TEXT}
    assert report.skipped == [("a.pdf", "could not be read (ParserBug: cannot cope with a.pdf); "
                                        "the file may be damaged: re-save it or leave it out")]


def test_a_failure_while_making_the_document_skips_that_file_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_clean = cleaning.clean_text

    def clean_text(text: str) -> str:
        if "poison" in text:
            raise RecursionError("maximum recursion depth exceeded")
        return real_clean(text)

    monkeypatch.setattr(cleaning, "clean_text", clean_text)
    (with_good_file(tmp_path) / "bad.md").write_text("poison", encoding="utf-8")
    report = load_folder(tmp_path, SETTINGS)
    assert loaded(report) == {"good.txt": GOOD_TEXT}
    assert report.skipped[0][0] == "bad.md" and "RecursionError" in report.skipped[0][1]


def test_an_interrupt_is_not_swallowed_by_the_boundary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(path: Path) -> formats.ExtractedPage:
        raise KeyboardInterrupt

    monkeypatch.setitem(formats.PAGE_READERS, ".pdf", interrupted)
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(KeyboardInterrupt):
        load_folder(tmp_path, SETTINGS)


# -- text is valid Unicode everywhere -------------------------------------------------------------

def test_repair_text_replaces_lone_surrogates_and_joins_split_pairs() -> None:
    assert repair_text("tide\ud800 table\udce9") == "tide\ufffd table\ufffd"
    assert repair_text("smile \ud83d\ude00") == "smile \U0001f600"
    assert repair_text("plain text") == "plain text"


def test_a_record_with_a_lone_surrogate_loads_repaired(tmp_path: Path) -> None:
    # json.loads turns the escape "\ud800" into a lone surrogate, which UTF-8 cannot encode.
    (tmp_path / "notes.jsonl").write_text(
        '{"id": "tide\\ud800", "title": "Tides \\udfff", "text": "High tide \\ud800 at noon."}\n'
        '{"id": "ok", "text": "Low tide at six."}\n', encoding="utf-8")
    report = load_folder(tmp_path, SETTINGS)
    assert report.skipped == []
    docs = {document.source: document for document in report.documents}
    assert set(docs) == {"notes.jsonl#tide\ufffd", "notes.jsonl#ok"}
    repaired = docs["notes.jsonl#tide\ufffd"]
    assert (repaired.title, repaired.text) == ("Tides \ufffd", "High tide \ufffd at noon.")
    assert re.fullmatch(r"[0-9a-f]{64}", repaired.content_hash)
    assert content_hash(repaired.source, repaired.title, repaired.text)  # every field encodes now


def test_file_names_that_are_not_utf8_load_once_each(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path)
    for name in (b"caf\xe9.txt", b"caf\xe8.txt"):  # Latin-1 names: both read "caf\ufffd.txt" once repaired
        with open(os.path.join(folder, name), "wb") as handle:
            handle.write(b"A note about the cafe.")
    report = load_folder(tmp_path, SETTINGS)
    assert [document.source for document in report.documents] == ["caf\ufffd.txt"]
    [(source, reason)] = report.skipped
    assert source == "caf\ufffd.txt" and reason.startswith("has the same name as a file loaded before it")


def test_repaired_documents_index(tmp_path: Path, engine_factory: Callable[..., Assistant]) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "tides.jsonl").write_text(
        '{"id": "t1", "title": "Tide \\ud800 table", "text": "The Kelso harbour high tide \\ud800 comes at noon."}\n',
        encoding="utf-8")
    (corpus / "bolts.eml").write_bytes(b"From: x@example.org\r\nTo: a@[\r\nSubject: Bolts\r\n\r\nSeven bolts.\r\n")
    report = engine_factory(corpus=corpus).index()
    assert report.documents == 1 and report.chunks >= 1
    assert dict(report.skipped).keys() >= {"bolts.eml"}


# -- zip packages are measured before they are opened ------------------------------------------------

DOC_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
DOC_TAIL = b"</w:body></w:document>"


PartWriter = Callable[[IO[bytes]], None]


def write_paragraphs(size: int) -> PartWriter:
    """A document.xml of `size` bytes of empty paragraphs, written in 1 MB chunks (never held whole)."""
    chunk = b"<w:p/>" * (MB // 6)

    def write(out: IO[bytes]) -> None:
        out.write(DOC_HEAD)
        left = size - len(DOC_HEAD) - len(DOC_TAIL)
        while left > 0:
            left -= out.write(chunk[:left])
        out.write(DOC_TAIL)

    return write


def rewrite_package(source: Path, target: Path, *, replace: dict[str, PartWriter] | None = None,
                    add: dict[str, bytes] | None = None) -> None:
    """Copy a zip package with some parts rewritten (streamed, zip64 allowed) and entries added."""
    replace = replace or {}
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename in replace:
                with new.open(info.filename, "w", force_zip64=True) as out:
                    replace[info.filename](out)
            else:
                new.writestr(info, old.read(info.filename))
        for name, data in (add or {}).items():
            new.writestr(name, data)


def from_template(folder: Path, name: str, make: Callable[[Path], None], **changes: dict) -> Path:
    """A real package (its library made it), rewritten with `changes` (see rewrite_package)."""
    template = folder / f"template{Path(name).suffix}"
    make(template)
    rewrite_package(template, folder / name, **changes)
    template.unlink()
    return folder / name


def bomb_docx(folder: Path, name: str, inflated: int) -> Path:
    """A real .docx whose document.xml inflates to `inflated` bytes."""
    return from_template(folder, name, make_docx, replace={"word/document.xml": write_paragraphs(inflated)})


# Runs load_folder in a fresh process: its ru_maxrss is then the loader's own peak, not this test
# session's (models loaded by other tests would hide any growth). Address space is capped at 1 GB over
# what the imports took, so a broken check fails with MemoryError instead of exhausting the machine.
_MEASURED_LOAD = """
import json, resource, sys
from pathlib import Path
from assistant.config import CorpusSettings
from assistant.ingest.loaders import load_folder
import docx, pptx, ebooklib.epub, lxml.etree  # imported before measuring: not part of the growth
pages = int(open("/proc/self/statm").read().split()[0])
resource.setrlimit(resource.RLIMIT_AS, (pages * resource.getpagesize() + 2**30, resource.RLIM_INFINITY))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
report = load_folder(Path(sys.argv[1]), CorpusSettings(**json.loads(sys.argv[2])))
growth_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"documents": [d.source for d in report.documents], "skipped": report.skipped, "growth_kb": growth_kb}))
"""


def measured_load(folder: Path, **corpus: object) -> dict:
    done = subprocess.run([sys.executable, "-c", _MEASURED_LOAD, str(folder), json.dumps(corpus)],
                          capture_output=True, text=True, timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_zip_bomb_docx_at_the_default_caps_is_refused_without_inflating_it(tmp_path: Path) -> None:
    bomb = bomb_docx(tmp_path, "bomb.docx", 256 * MB)  # over the 200 MB total and 100 MB entry caps
    assert bomb.stat().st_size < 1 * MB
    with_good_file(tmp_path)
    result = measured_load(tmp_path)
    assert result["documents"] == ["good.txt"]
    [(source, reason)] = result["skipped"]
    assert source == "bomb.docx"
    assert reason == ("has an entry 'word/document.xml' of 256.0 MB inflated, over the 100 MB limit "
                      "(ASSISTANT_CORPUS__ARCHIVE_MAX_ENTRY_MB)")
    assert result["growth_kb"] < 20 * 1024  # inflating it would have taken 256 MB, parsing it gigabytes


def _forge_declared_size(path: Path, member: str, declared: int) -> None:
    """Rewrite an entry's inflated size in the central directory, which is what zipfile believes."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        at = archive.start_dir
        for info in archive.infolist():  # central records follow each other: 46 bytes + 3 lengths
            if info.filename == member:
                break
            at += 46 + sum(struct.unpack_from("<3H", data, at + 28))
    struct.pack_into("<L", data, at + 24, declared)
    path.write_bytes(bytes(data))


def test_an_entry_that_inflates_past_its_declared_size_is_refused(tmp_path: Path) -> None:
    # zipfile cuts an entry at its declared size only after inflating up to 1 GiB in one go, so a
    # lie in the central directory must be caught by inflating it here first, in small chunks.
    bomb = bomb_docx(tmp_path, "liar.docx", 64 * MB)
    _forge_declared_size(bomb, "word/document.xml", 1000)
    with_good_file(tmp_path)
    result = measured_load(tmp_path)
    assert result["documents"] == ["good.txt"]
    [(source, reason)] = result["skipped"]
    assert source == "liar.docx"
    assert reason == ("has an entry 'word/document.xml' that inflates past the 1000 bytes it declares; "
                      "the archive is forged or damaged")
    assert result["growth_kb"] < 20 * 1024


def test_an_entry_over_a_low_entry_cap_is_refused(tmp_path: Path) -> None:
    bomb_docx(tmp_path, "big.docx", 3 * MB)
    report = load_folder(with_good_file(tmp_path), CorpusSettings(archive_max_entry_mb=2, archive_max_ratio=10_000))
    assert loaded(report) == {"good.txt": GOOD_TEXT}
    [(source, reason)] = report.skipped
    assert source == "big.docx" and reason.endswith("over the 2 MB limit (ASSISTANT_CORPUS__ARCHIVE_MAX_ENTRY_MB)")


def test_a_high_ratio_entry_is_refused(tmp_path: Path) -> None:
    bomb_docx(tmp_path, "dense.docx", 3 * MB)  # empty paragraphs compress ~700:1
    report = load_folder(with_good_file(tmp_path), SETTINGS)
    assert loaded(report) == {"good.txt": GOOD_TEXT}
    [(source, reason)] = report.skipped
    assert source == "dense.docx"
    assert re.fullmatch(r"has an entry 'word/document\.xml' compressed \d+:1, over the 200:1 limit "
                        r"\(ASSISTANT_CORPUS__ARCHIVE_MAX_RATIO\); it looks like a zip bomb", reason)


def test_a_package_over_the_total_inflated_cap_is_refused(tmp_path: Path) -> None:
    parts = {f"word/media/image{n}.bin": os.urandom(MB) for n in range(3)}  # incompressible: ratio 1
    from_template(tmp_path, "heavy.docx", make_docx, add=parts)
    report = load_folder(with_good_file(tmp_path), CorpusSettings(archive_max_inflated_mb=2))
    assert loaded(report) == {"good.txt": GOOD_TEXT}
    [(source, reason)] = report.skipped
    assert source == "heavy.docx"
    assert re.fullmatch(r"inflates to 3\.\d MB in all, over the 2 MB limit \(ASSISTANT_CORPUS__ARCHIVE_MAX_INFLATED_MB\)",
                        reason)


def test_a_package_with_too_many_entries_is_refused(tmp_path: Path) -> None:
    from_template(tmp_path, "crowded.pptx", make_pptx, add={f"ppt/junk/{n}.xml": b"<x/>" for n in range(60)})
    report = load_folder(with_good_file(tmp_path), CorpusSettings(archive_max_entries=50))
    assert loaded(report) == {"good.txt": GOOD_TEXT}
    [(source, reason)] = report.skipped
    assert source == "crowded.pptx"
    assert re.fullmatch(r"holds \d+ zip entries, over the 50 limit \(ASSISTANT_CORPUS__ARCHIVE_MAX_ENTRIES\)", reason)


def test_a_bzip2_entry_is_refused(tmp_path: Path) -> None:
    # zipfile inflates bzip2 and LZMA entries with no bound on the output; packages never use them.
    make_epub(tmp_path / "template.epub")
    with zipfile.ZipFile(tmp_path / "template.epub") as old, \
            zipfile.ZipFile(tmp_path / "odd.epub", "w", zipfile.ZIP_BZIP2) as new:
        for info in old.infolist():
            new.writestr(info.filename, old.read(info.filename))
    (tmp_path / "template.epub").unlink()
    report = load_folder(with_good_file(tmp_path), SETTINGS)
    assert loaded(report) == {"good.txt": GOOD_TEXT}
    [(source, reason)] = report.skipped
    assert source == "odd.epub" and "compressed with method 12, not deflate" in reason


@pytest.mark.parametrize(("name", "make"), [("report.docx", make_docx), ("survey.pptx", make_pptx),
                                            ("tales.epub", make_epub)])
def test_normal_packages_pass_the_measure_and_load(tmp_path: Path, name: str, make: Callable[[Path], None]) -> None:
    make(tmp_path / name)
    check_archive((tmp_path / name).read_bytes(), ArchiveLimits.from_settings(SETTINGS))  # no FileUnreadable
    report = load_folder(with_good_file(tmp_path), SETTINGS)
    assert report.skipped == []
    assert set(loaded(report)) == {name, "good.txt"}


def test_a_file_that_is_not_a_zip_keeps_its_format_reason(tmp_path: Path) -> None:
    (tmp_path / "notes.docx").write_text("just text", encoding="utf-8")
    report = load_folder(with_good_file(tmp_path), SETTINGS)
    assert "Word .docx" in dict(report.skipped)["notes.docx"]  # python-docx's reason, not the measure's


def test_check_archive_refuses_with_file_unreadable(tmp_path: Path) -> None:
    bomb = bomb_docx(tmp_path, "bomb.docx", 2 * MB)
    limits = ArchiveLimits(max_entries=100, max_inflated_mb=1, max_entry_mb=100, max_ratio=10_000)
    with pytest.raises(FileUnreadable, match=r"over the 1 MB limit \(ASSISTANT_CORPUS__ARCHIVE_MAX_INFLATED_MB\)"):
        check_archive(bomb.read_bytes(), limits)
