"""Read a corpus folder (recursively; the types in CorpusSettings.extensions) or a JSONL file into Documents.

Unreadable files, links that leave the folder or loop, and pipes or devices are skipped with a
warning naming the file and why; the rest still load. A .json/.jsonl file inside a folder holds
records (see ingest.records): each becomes a document named `<file>#<id>`."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import CorpusSettings
from assistant.errors import CorpusError, JsonlFormatError
from assistant.ingest import cleaning
from assistant.ingest.formats import (
    RECORD_READERS,
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


@dataclass
class LoadReport:
    documents: list[Document] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source, reason)

    def skip(self, source: str, reason: str) -> None:
        self.skipped.append((source, reason))
        log.warning("skipped %s: %s", source, reason)


def content_hash(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()


def make_document(source: str, raw_text: str, *, title: str | None = None, date_value: str | None = None) -> Document:
    """Clean raw text and attach metadata: header date > front matter > given value."""
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


def _load_file(path: Path, source: str, report: LoadReport) -> list[Document]:
    """The file's documents: one, or one per readable record (the others are reported as skipped)."""
    found = read_file(path)
    if not isinstance(found, ExtractedRecords):
        return [make_document(source, found.text, title=found.title, date_value=found.date)]
    for key, reason in found.skipped:
        report.skip(f"{source}{RECORD_SEPARATOR}{key}", reason)
    return [make_document(f"{source}{RECORD_SEPARATOR}{key}", page.text, title=page.title, date_value=page.date)
            for key, page in found.records]


def _add_file(path: Path, source: str, settings: CorpusSettings, report: LoadReport) -> None:
    """Load one file into the report, or record why it (or one of its records) was skipped."""
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
    try:
        documents = _load_file(path, source, report)
    except FileUnreadable as exc:
        report.skip(source, str(exc))
        return
    for document in documents:
        if document.text.strip():
            report.documents.append(document)
        else:
            report.skip(document.source, "no text left after cleaning")


def load_folder(root: Path, settings: CorpusSettings) -> LoadReport:
    """Every document under `root` (see CorpusWalk for how links and odd files are treated)."""
    report = LoadReport()
    for path, source in CorpusWalk(root, settings, report.skip).files():
        _add_file(path, source, settings, report)
    return report


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
    return report


def load_jsonl(path: Path) -> LoadReport:
    """One document per line: {"id", "title", "text"} (+ optional "date"). Bad lines fail with their line number."""
    report = LoadReport()
    seen: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path} is not UTF-8 text ({exc.reason}); JSONL corpora must be UTF-8") from exc
    for line_no, record in iter_json_objects(lines, lambda n, problem: JsonlFormatError(str(path), n, problem)):
        missing = [key for key in ("id", "text") if not isinstance(record.get(key), str) or not record[key].strip()]
        if missing:
            raise JsonlFormatError(str(path), line_no, f"missing or empty string field(s): {', '.join(missing)}")
        doc_id = record["id"].strip()
        if doc_id in seen:
            raise JsonlFormatError(str(path), line_no, f"duplicate id {doc_id!r}")
        seen.add(doc_id)
        title = record.get("title") if isinstance(record.get("title"), str) else None
        report.documents.append(
            make_document(doc_id, record["text"], title=(title or "").replace("_", " ") or None, date_value=record.get("date"))
        )
    return report


def load_corpus(path: Path, settings: CorpusSettings) -> LoadReport:
    """Load a folder or a .jsonl file. Raises CorpusError when there is nothing to index."""
    path = expand_path(path, name="corpus")
    if not path.exists():
        raise CorpusError(f"corpus not found: {path} does not exist; pass --corpus PATH (a folder or a .jsonl file)")
    if path.is_file():
        if path.suffix.lower() != ".jsonl":
            raise CorpusError(f"{path} is a file; a corpus is a folder of documents or a .jsonl file of {{id, title, text}} records")
        report = load_jsonl(path)
    else:
        report = load_folder(path, settings)
    if not report.documents:
        kinds = " ".join(settings.extensions)
        raise CorpusError(f"corpus {path} has no readable documents ({kinds}); add files or point --corpus elsewhere")
    return report
