"""Read a corpus folder (recursively; the types in CorpusSettings.extensions) or a JSONL file into Documents.

Unreadable files, links that leave the folder or loop, and pipes or devices are skipped with a
warning naming the file and why; the rest still load. Whatever a parser raises, a file is the unit
of failure: it is skipped with the reason, never the whole load. A .json/.jsonl file inside a folder
holds records (see ingest.records): each becomes a document named `<file>#<id>`."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import CorpusSettings
from assistant.errors import CorpusError, JsonlFormatError
from assistant.ingest import cleaning
from assistant.ingest.editions import KnownEdition, KnownEditions, input_digest
from assistant.ingest.extract import one_line, read_bytes, repair_text
from assistant.ingest.formats import (
    RECORD_READERS,
    ZIP_READERS,
    ArchiveLimits,
    ExtractedRecords,
    FileUnreadable,
    not_regular_reason,
    read_file,
)
from assistant.ingest.walk import CorpusWalk
from assistant.jsonl import iter_json_objects
from assistant.types import Document
from assistant.validation import expand_path

log = logging.getLogger(__name__)
# Its own logger: a caller that shows `LoadReport.skipped` itself (the CLI) silences it, the server log keeps it.
SKIPPED_FILES_LOGGER = "assistant.ingest.skipped"
skips_log = logging.getLogger(SKIPPED_FILES_LOGGER)


@dataclass
class LoadReport:
    documents: list[Document] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)
    # Documents whose input matched a known digest: not read again (see ingest.editions).
    unchanged: list[KnownEdition] = field(default_factory=list)
    # source -> digest of the input it was read from, for documents and unchanged ones alike; a
    # document of a records file inside a folder has none (such files are always read).
    digests: dict[str, str] = field(default_factory=dict)

    def skip(self, source: str, reason: str) -> None:
        source, reason = repair_text(source), repair_text(reason)  # a name or message may not be UTF-8
        self.skipped.append((source, reason))
        skips_log.warning("skipped %s: %s", source, reason)


def content_hash(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def make_document(source: str, raw_text: str, *, title: str | None = None, date_value: str | None = None) -> Document:
    """Clean raw text and attach metadata: header date > front matter > given value.

    Every text field is repaired first (extract.repair_text), so hashing and indexing never meet
    text that is not valid UTF-8."""
    source, raw_text = repair_text(source), repair_text(raw_text)
    title = repair_text(title) if title else None
    header_date, text = cleaning.split_date_header(raw_text)
    front, text = cleaning.split_front_matter(text)
    text = cleaning.clean_text(text)
    date = header_date or cleaning.parse_date(front.get("date", "")) or cleaning.parse_date(date_value or "")
    title = (front.get("title") or title or "").strip() or cleaning.derive_title(text, fallback=Path(source).stem)
    return Document(
        source=source,
        title=title,
        date=date,
        text=text,
        content_hash=content_hash(source, title, date.isoformat() if date else "", text),
    )


RECORD_SEPARATOR = "#"  # `<file>#<record id>`: no real file's name can end its extension with "#..."
RECORDS_SUFFIXES = tuple(RECORD_READERS)


def record_file(source: str) -> str | None:
    """The records file (.json/.jsonl) a record's source came from; None for a whole-file document."""
    head, separator, _ = source.partition(RECORD_SEPARATOR)
    return head if separator and head.lower().endswith(RECORDS_SUFFIXES) else None


def _load_file(path: Path, source: str, limits: ArchiveLimits, report: LoadReport) -> list[Document]:
    """The file's documents: one, or one per readable record (the others are reported as skipped)."""
    found = read_file(path, limits)
    if not isinstance(found, ExtractedRecords):
        return [make_document(source, found.text, title=found.title, date_value=found.date)]
    documents = [make_document(f"{source}{RECORD_SEPARATOR}{key}", page.text, title=page.title, date_value=page.date)
                 for key, page in found.records]
    # Reported once every record is made: a file that fails as a whole is then one line, not a
    # line per record followed by one for the file.
    for key, reason in found.skipped:
        report.skip(f"{source}{RECORD_SEPARATOR}{key}", reason)
    return documents


# Kinds of input digests (ingest.editions).
FILE_INPUT = "file"
JSONL_LINE_INPUT = "jsonl-line"


def _file_digest(path: Path, source: str, limits: ArchiveLimits) -> str | None:
    """The digest of a file that is read as one document; None for a records file (its records'
    skip reasons are not recorded) and for a name that needed repair (it may meet another name
    that reads the same, and only the first of them is kept): those are always read. A zip
    package's reader also depends on the archive caps and the file's mtime (office dates are
    bounded by it)."""
    suffix = path.suffix.lower()
    if suffix in RECORD_READERS or "\ufffd" in repair_text(source):
        return None
    data = read_bytes(path)
    name = source
    if suffix in ZIP_READERS:
        name = f"{source}\x00{limits!r}\x00{path.stat().st_mtime_ns}"
    return input_digest(FILE_INPUT, name, data)


def _changed_while_read(path: Path, source: str, limits: ArchiveLimits, digest: str) -> bool:
    try:
        return _file_digest(path, source, limits) != digest
    except FileUnreadable:
        return True


def _add_file(path: Path, source: str, settings: CorpusSettings, report: LoadReport,
              known: KnownEditions | None = None) -> None:
    """Load one file into the report, or record why it (or one of its records) was skipped. A file
    whose digest is in `known` is not read again: its known edition goes to `report.unchanged`."""
    try:
        info = path.stat()
    except OSError as exc:
        report.skip(source, f"cannot be read ({exc.strerror or exc})")
        return
    special = not_regular_reason(info.st_mode)
    if special:
        report.skip(source, special)
        return
    if info.st_size > settings.max_file_mb * 1024 * 1024:
        report.skip(source, f"file is {info.st_size / 1e6:.1f} MB, over the {settings.max_file_mb:g} MB limit (ASSISTANT_CORPUS__MAX_FILE_MB)")
        return
    limits = ArchiveLimits.from_settings(settings)
    try:
        digest = _file_digest(path, source, limits)
        edition = known.get(digest) if known is not None and digest is not None else None
        if edition is not None and digest is not None:
            report.unchanged.append(edition)
            report.digests[edition.source] = digest
            return
        documents = _load_file(path, source, limits, report)
    except FileUnreadable as exc:
        report.skip(source, str(exc))
        return
    except Exception as exc:
        # The one isolation boundary per file. Third-party parsers (email, json, lxml, python-docx,
        # python-pptx, pypdf, ebooklib, nbformat...) raise types no list can foresee on hostile input,
        # and one file must never stop the load. Not silenced: the file is skipped with the type and
        # message, the traceback goes to the debug log. KeyboardInterrupt/SystemExit still stop it.
        log.debug("reading %s failed", source, exc_info=True)
        report.skip(source, f"could not be read ({type(exc).__name__}: {one_line(exc)}); "
                    "the file may be damaged: re-save it or leave it out")
        return
    if digest is not None and _changed_while_read(path, source, limits, digest):
        digest = None  # the document may not be of the bytes digested: no digest, read it next time too
    for document in documents:
        if document.text.strip():
            report.documents.append(document)
            if digest is not None:
                report.digests[document.source] = digest
        else:
            report.skip(document.source, "no text left after cleaning")


def _drop_repeated_sources(report: LoadReport) -> LoadReport:
    """Keep the first document of each name: the index needs one per name. Two names can meet when
    load_files is given two files of one name, or two file names that are not UTF-8 read the same once
    repaired (U+FFFD). An unchanged edition never meets another (see _file_digest)."""
    seen: set[str] = {edition.source for edition in report.unchanged}
    kept: list[Document] = []
    for document in report.documents:
        if document.source in seen:
            report.skip(document.source, "has the same name as a file loaded before it (names that are not UTF-8 "
                        "read alike once repaired); rename one of them")
        else:
            seen.add(document.source)
            kept.append(document)
    report.documents = kept
    return report


def load_folder(root: Path, settings: CorpusSettings, known: KnownEditions | None = None) -> LoadReport:
    """Every document under `root` (see CorpusWalk for how links and odd files are treated); a file
    whose digest is in `known` is not read again."""
    report = LoadReport()
    for path, source in CorpusWalk(root, settings, report.skip).files():
        _add_file(path, source, settings, report, known)
    return _drop_repeated_sources(report)


def load_files(paths: list[Path], settings: CorpusSettings, *, prefix: str = "") -> LoadReport:
    """Load individual files; each becomes source '<prefix><file name>'. Bad files are skipped."""
    report = LoadReport()
    extensions = {ext.lower() for ext in settings.extensions}
    for path in (expand_path(p) for p in paths):
        source = f"{prefix}{path.name}"
        if path.suffix.lower() not in extensions:
            report.skip(source, f"unsupported file type {path.suffix or '(none)'}; use one of {' '.join(sorted(extensions))}")
        else:
            _add_file(path, source, settings, report)
    return _drop_repeated_sources(report)


def load_jsonl(path: Path, known: KnownEditions | None = None) -> LoadReport:
    """One document per line: {"id", "title", "text"} (+ optional "date"). Bad lines fail with their
    line number. A line whose digest is in `known` is not parsed or cleaned again."""
    report = LoadReport()
    seen: set[str] = set()
    try:
        # Not read_text: its newline translation took 1.3 s of a 72 MB corpus, decoding 0.3 s
        # (evals/bench_scale.py); splitlines() splits at the same line ends.
        lines = path.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path} is not UTF-8 text ({exc.reason}); JSONL corpora must be UTF-8") from exc
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        # The line holds everything its document is made of (id, title, date, text).
        digest = input_digest(JSONL_LINE_INPUT, "", line.encode("utf-8"))
        edition = known.get(digest) if known is not None else None
        if edition is not None:
            _check_new_id(path, line_no, edition.source, seen)
            report.unchanged.append(edition)
            report.digests[edition.source] = digest
            continue
        document = _jsonl_document(path, line_no, line, seen)
        report.documents.append(document)
        report.digests[document.source] = digest
    return report


def _check_new_id(path: Path, line_no: int, doc_id: str, seen: set[str]) -> None:
    if doc_id in seen:
        raise JsonlFormatError(str(path), line_no, f"duplicate id {doc_id!r}")
    seen.add(doc_id)


def _jsonl_document(path: Path, line_no: int, line: str, seen: set[str]) -> Document:
    """The document of one corpus line (its id added to `seen`); JsonlFormatError naming the line."""
    def error(_position: int, problem: str) -> JsonlFormatError:
        return JsonlFormatError(str(path), line_no, problem)

    _, record = next(iter_json_objects([line], error))
    missing = [key for key in ("id", "text") if not isinstance(record.get(key), str) or not record[key].strip()]
    if missing:
        raise JsonlFormatError(str(path), line_no, f"missing or empty string field(s): {', '.join(missing)}")
    doc_id = repair_text(record["id"].strip())  # repaired before the check: two ids may read the same after
    _check_new_id(path, line_no, doc_id, seen)
    title = record.get("title") if isinstance(record.get("title"), str) else None
    return make_document(doc_id, record["text"], title=(title or "").replace("_", " ") or None,
                         date_value=record.get("date"))


def load_corpus(path: Path, settings: CorpusSettings, known: KnownEditions | None = None) -> LoadReport:
    """Load a folder or a .jsonl file. Raises CorpusError when there is nothing to index. Inputs
    whose digest is in `known` are not read again (`LoadReport.unchanged`)."""
    path = expand_path(path, name="corpus")
    if not path.exists():
        raise CorpusError(f"corpus not found: {path} does not exist; pass --corpus PATH (a folder or a .jsonl file)")
    if path.is_file():
        if path.suffix.lower() != ".jsonl":
            raise CorpusError(f"{path} is a file; a corpus is a folder of documents or a .jsonl file of {{id, title, text}} records")
        report = load_jsonl(path, known)
    else:
        report = load_folder(path, settings, known)
    if not report.documents and not report.unchanged:
        kinds = " ".join(settings.extensions)
        raise CorpusError(f"corpus {path} has no readable documents ({kinds}); add files or point --corpus elsewhere")
    return report
