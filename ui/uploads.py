"""Checking uploaded files before they are handed to the library. No gradio here.

The library keeps accepted files in the collection's uploads folder (`assistant.ingest.uploads`); each
refused file gets a message meant for the page."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from assistant.config import Settings
from assistant.ingest.uploads import (
    UPLOAD_EXTENSIONS,
    UploadBatch,
    check_upload,
    safe_name,
    sort_uploads,
    upload_dir,
)

__all__ = ["UPLOAD_EXTENSIONS", "UploadBatch", "accept_uploads", "check_upload", "safe_name", "upload_dir"]


def accept_uploads(paths: Iterable[Path | str], settings: Settings) -> UploadBatch:
    """Check each file; the good ones go to `Assistant.add_files` under their safe names."""
    return sort_uploads(((Path(p), safe_name(Path(p).name)) for p in paths), max_mb=settings.ui.max_upload_mb)
