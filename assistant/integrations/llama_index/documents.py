"""Index llama-index `Document`s next to what is already indexed.

Each Document becomes an upload: a text file kept in the collection's uploads folder, named
`upload:<name>` in the index (the uploads' namespace, which no corpus path can take), with its
title and date as front matter. Going through the upload path means the documents are indexed
incrementally like any upload, and survive a re-index or `--rebuild` (a document held only in
Chroma would be dropped by the next run that mirrors the corpus).

Names come from metadata "source", else "file_name", else "file_path" (the base name), else the
Document's id; a "page_label" (llama-index's PDF reader gives one Document per page) is added to
the name. The title is metadata "title", else the file name; the date a ` date YYYY-MM-DD ` header
in the text, else the first of "date", "published", "publication_date" that reads as a date. The
"creation_date" / "last_modified_date" llama-index's file readers set are the file system's dates, not
the document's, so they are not used (our own loaders ignore file times for the same reason).
Adding a Document under a name already indexed replaces that document."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from llama_index.core import Document as LlamaDocument

from assistant.config import Settings
from assistant.documents import add_files
from assistant.engine import AnswerEngine
from assistant.errors import InvalidArgumentError
from assistant.index.run import IndexReport, Progress
from assistant.ingest.cleaning import parse_date, split_date_header
from assistant.ingest.uploads import safe_name, upload_source
from assistant.integrations.llama_index.binding import resolve_engine

_NAME_KEYS = ("source", "file_name", "file_path")
_DATE_KEYS = ("date", "published", "publication_date")
_TEXT_SUFFIXES = (".txt", ".md")   # read as text with front matter; anything else gets ".txt" appended
_MAX_NAME_BYTES = 200              # file systems allow 255 bytes; leave room for the suffix


@dataclass(frozen=True)
class Upload:
    """One llama-index Document as the upload that stands for it."""

    name: str           # the stored file's name; the document's source is `upload:<name>`
    content: str        # front matter (title, date) + the Document's text

    @property
    def source(self) -> str:
        return upload_source(self.name)


def _metadata_text(metadata: Mapping[str, Any], key: str) -> str:
    value = metadata.get(key)
    return " ".join(str(value).split()) if isinstance(value, (str, int, float)) and str(value).strip() else ""


def _base_name(document: LlamaDocument) -> str:
    metadata = document.metadata or {}
    raw = next((_metadata_text(metadata, k) for k in _NAME_KEYS if _metadata_text(metadata, k)), "") or document.doc_id
    name = safe_name(raw)
    page = _metadata_text(metadata, "page_label")
    return f"{name} (page {safe_name(page)})" if page else name


def _truncate(name: str) -> str:
    data = name.encode("utf-8")
    return name if len(data) <= _MAX_NAME_BYTES else data[:_MAX_NAME_BYTES].decode("utf-8", "ignore")


def _title(document: LlamaDocument) -> str:
    metadata = document.metadata or {}
    title = _metadata_text(metadata, "title")
    if title:
        return title
    named = _metadata_text(metadata, "file_name") or _metadata_text(metadata, "file_path")
    return PurePath(named.replace("\\", "/")).name if named else ""  # empty: derived from the text


def _date(document: LlamaDocument) -> dt.date | None:
    """The first of the _DATE_KEYS metadata that reads as a date (others are ignored)."""
    metadata = document.metadata or {}
    for key in _DATE_KEYS:
        value = metadata.get(key)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and (parsed := parse_date(value)):
            return parsed
    return None


def upload_for(document: LlamaDocument) -> Upload:
    """The upload (name and file content) that stands for one llama-index Document."""
    name = _truncate(_base_name(document))
    if not name.lower().endswith(_TEXT_SUFFIXES):
        name += ".txt"
    # A ` date YYYY-MM-DD ` header in the text wins over metadata, as it does for files.
    header_date, text = split_date_header(document.text)
    header = []
    if title := _title(document):
        header.append(f"title: {title}")
    if date := header_date or _date(document):
        header.append(f"date: {date.isoformat()}")
    front = "---\n" + "\n".join(header) + "\n---\n" if header else ""
    return Upload(name=name, content=front + (text if header_date else document.text))


def _as_list(documents: LlamaDocument | Iterable[LlamaDocument]) -> list[LlamaDocument]:
    if isinstance(documents, LlamaDocument):
        return [documents]
    if isinstance(documents, (str, bytes, Mapping)) or not isinstance(documents, Iterable):
        raise InvalidArgumentError(
            f"documents is a {type(documents).__name__}; pass a list of llama_index.core.Document")
    items = list(documents)
    for i, item in enumerate(items):
        if not isinstance(item, LlamaDocument):
            raise InvalidArgumentError(
                f"documents[{i}] is a {type(item).__name__}, not a llama_index.core.Document; "
                "wrap text as Document(text=..., metadata={'file_name': ...})")
    return items


def plan_uploads(documents: LlamaDocument | Iterable[LlamaDocument]) -> tuple[list[Upload], list[tuple[str, str]]]:
    """The uploads to index and the (source, reason) of Documents skipped for having no text.
    Two Documents that would share a name are refused before anything is written."""
    uploads: list[Upload] = []
    skipped: list[tuple[str, str]] = []
    first_at: dict[str, int] = {}
    for i, document in enumerate(_as_list(documents)):
        upload = upload_for(document)
        if upload.name in first_at:
            raise InvalidArgumentError(
                f"documents[{first_at[upload.name]}] and documents[{i}] would both be indexed as {upload.source!r}; "
                "give each Document a distinct metadata['source'] (or file_name), or join them into one Document")
        first_at[upload.name] = i
        if not (document.text or "").strip():
            skipped.append((upload.source, f"documents[{i}] has no text; nothing to index"))
        else:
            uploads.append(upload)
    return uploads, skipped


def add_documents(documents: LlamaDocument | Iterable[LlamaDocument], *, engine: AnswerEngine | None = None,
                  settings: Settings | None = None, progress: Progress | None = None) -> IndexReport:
    """Index llama-index Documents into the engine's collection (the shared engine for `settings`
    when no engine is given) and return the run's report; `report.skipped` names the Documents
    left out and why. The engine answers from them at its next question."""
    uploads, skipped = plan_uploads(documents)  # every argument is checked before anything is touched
    target = resolve_engine(engine, settings)
    view = target.view()  # a never-built collection is built first, or refused, as ask() would
    if not uploads:
        return IndexReport(collection=target.settings.store.collection, documents=len(view.manifest.documents),
                           chunks=view.manifest.chunks, skipped=skipped)
    with tempfile.TemporaryDirectory(prefix="assistant-llama-index-") as folder:
        paths = [Path(folder) / upload.name for upload in uploads]
        for path, upload in zip(paths, uploads):
            path.write_text(upload.content, encoding="utf-8")
        report = add_files(target, paths, names=[u.name for u in uploads], progress=progress)
    report.skipped[:0] = skipped
    return report
