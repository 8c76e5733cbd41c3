"""Checking uploaded files before they are handed to the library, and describing the stored ones for
the page's document list. No gradio here.

The library keeps accepted files in the collection's uploads folder (`assistant.uploads`); each
refused file gets a message meant for the page."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings
from assistant.ingest.loaders import record_file
from assistant.index.manifest import DocumentEntry
from assistant.uploads import (
    UPLOAD_EXTENSIONS,
    UploadBatch,
    UploadedFile,
    check_upload,
    safe_name,
    sort_uploads,
    upload_dir,
)

__all__ = ["UPLOAD_EXTENSIONS", "DocumentRow", "UploadBatch", "accept_uploads", "check_upload", "document_rows",
           "safe_name", "upload_dir"]


def accept_uploads(paths: Iterable[Path | str], settings: Settings) -> UploadBatch:
    """Check each file; the good ones go to `Assistant.add_files` under their safe names."""
    return sort_uploads(((Path(p), safe_name(Path(p).name)) for p in paths), max_mb=settings.ui.max_upload_mb)


@dataclass(frozen=True)
class DocumentRow:
    """One uploaded document as the page lists it; `chunks` is what the published index holds of it."""

    name: str
    size: int
    modified: str  # ISO 8601, UTC
    chunks: int = 0
    quarantined: str | None = None


def document_rows(files: Iterable[UploadedFile], catalogue: Mapping[str, DocumentEntry]) -> list[DocumentRow]:
    """The uploaded files with their chunk counts. A .json/.jsonl upload is indexed as one document
    per record (`upload:x.jsonl#key`), so its chunks are summed over them."""
    chunks: dict[str, int] = {}
    for source, entry in catalogue.items():
        owner = record_file(source) or source
        chunks[owner] = chunks.get(owner, 0) + entry.chunks
    return [DocumentRow(name=f.name, size=f.size, modified=f.modified, chunks=chunks.get(f.source, 0),
                        quarantined=f.quarantined) for f in files]
