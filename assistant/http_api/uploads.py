"""Receiving uploaded files over HTTP: each is streamed to a private temporary folder, never
read past the size limit, and checked like the page's uploads before the library indexes it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import UploadFile

from assistant.errors import UploadError
from assistant.uploads import check_upload, safe_name

_READ_BLOCK = 1 << 20


def receive_uploads(files: Sequence[UploadFile], folder: Path, *,
                    max_mb: float) -> tuple[list[tuple[Path, str]], list[tuple[str, str]]]:
    """(path, safe name) of each accepted file and (name, reason) of each refused one."""
    accepted: list[tuple[Path, str]] = []
    refused: list[tuple[str, str]] = []
    limit = int(max_mb * 1024 * 1024)
    for number, upload in enumerate(files):
        name = safe_name(upload.filename or "upload")
        path = folder / f"{number}-{name}"  # two files of one name stay apart; the name given is `name`
        written = 0
        with path.open("wb") as target:
            while written <= limit and (block := upload.file.read(_READ_BLOCK)):
                target.write(block)
                written += len(block)
        try:
            check_upload(path, name=name, max_mb=max_mb)
        except UploadError as err:
            refused.append((name, str(err)))
            continue
        accepted.append((path, name))
    return accepted, refused
