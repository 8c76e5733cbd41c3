"""Receiving uploaded files over HTTP: each is streamed to a private temporary folder, never
read past the size limit, and checked like the page's uploads before the library indexes it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import UploadFile

from assistant.ingest.uploads import UploadBatch, safe_name, sort_uploads

_READ_BLOCK = 1 << 20


def receive_uploads(files: Sequence[UploadFile], folder: Path, *, max_mb: float) -> UploadBatch:
    """Each file saved to `folder` (never read past the limit) and checked like the page's uploads."""
    saved: list[tuple[Path, str]] = []
    limit = int(max_mb * 1024 * 1024)
    for number, upload in enumerate(files):
        name = safe_name(upload.filename or "upload")
        # A neutral temporary name: the given one may be too long for the file system (checked, with a
        # clear reason, by sort_uploads), and two files of one name stay apart.
        path = folder / f"{number}.upload"
        written = 0
        with path.open("wb") as target:
            while written <= limit and (block := upload.file.read(_READ_BLOCK)):
                target.write(block)
                written += len(block)
        saved.append((path, name))
    return sort_uploads(saved, max_mb=max_mb)
