"""Checking uploaded files before they are handed to the library. No gradio here.

The library keeps accepted files in the collection's uploads folder (`assistant.uploads`); each
refused file gets a message meant for the page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import Settings
from assistant.errors import UploadError
from assistant.uploads import safe_name, upload_dir

# What the library reads (assistant.ingest.formats); .json/.jsonl hold records, one document each.
UPLOAD_EXTENSIONS: tuple[str, ...] = (".txt", ".md", ".html", ".pdf", ".docx", ".pptx", ".epub", ".csv", ".json",
                                      ".jsonl", ".ipynb", ".eml")

__all__ = ["UPLOAD_EXTENSIONS", "UploadBatch", "accept_uploads", "check_upload", "safe_name", "upload_dir"]


def check_upload(path: Path, *, name: str | None = None, max_mb: float,
                 extensions: Iterable[str] = UPLOAD_EXTENSIONS) -> None:
    """Raise UploadError when the file has the wrong type, is too big, or cannot be read."""
    name = name or path.name
    allowed = tuple(e.lower() for e in extensions)
    suffix = Path(name).suffix.lower()
    if suffix not in allowed:
        kind = f"{suffix} files" if suffix else "files without an extension"
        raise UploadError(f"{kind} are not supported; upload {', '.join(allowed)} files")
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise UploadError(f"the file could not be read ({exc.strerror or exc})") from exc
    limit = int(max_mb * 1024 * 1024)
    if size > limit:
        raise UploadError(f"the file is {_mb(size)}, over the {max_mb:g} MB upload limit")
    if size == 0:
        raise UploadError("the file is empty")


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 100 * 1024 else f"{size / 1024:.0f} KB"


@dataclass
class UploadBatch:
    """Files that passed the checks (path, safe name) and files refused (name, reason)."""

    accepted: list[tuple[Path, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def accept_uploads(paths: Iterable[Path | str], settings: Settings) -> UploadBatch:
    """Check each file; the good ones go to `Assistant.add_files` under their safe names."""
    batch = UploadBatch()
    for raw in paths:
        path = Path(raw)
        name = safe_name(path.name)
        try:
            check_upload(path, name=name, max_mb=settings.ui.max_upload_mb)
        except UploadError as err:
            batch.refused.append((name, str(err)))
            continue
        batch.accepted.append((path, name))
    return batch
