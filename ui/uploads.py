"""Checking uploaded files before they are handed to the library. No gradio here.

The library keeps accepted files in the collection's uploads folder (`assistant.uploads`); each
refused file gets a message meant for the page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import Settings
from assistant.errors import UploadError
from assistant.uploads import UPLOAD_EXTENSIONS, check_upload, safe_name, upload_dir

__all__ = ["UPLOAD_EXTENSIONS", "UploadBatch", "accept_uploads", "check_upload", "safe_name", "upload_dir"]


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
