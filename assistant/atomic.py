"""Atomic file writes: a reader or a crash sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # some filesystems can't open a folder; the rename is still atomic there
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def replacing(path: Path, *, mode: int = 0o644) -> Iterator[Path]:
    """A temporary file name beside `path` for a writer that wants a name (an exporter, a quantiser):
    on a clean exit the file is fsynced and renamed over `path`; on an error it is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def write_bytes(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write to a temporary file in the same folder, fsync it, then rename it over `path`."""
    with replacing(path, mode=mode) as tmp:
        tmp.write_bytes(data)


def write_text(path: Path, text: str, *, mode: int = 0o644) -> None:
    write_bytes(path, text.encode("utf-8"), mode=mode)


def publish_folder(staging: Path, final: Path) -> None:
    """Rename a fully written folder into place (atomic on one filesystem; `final` must not exist)."""
    for file in staging.rglob("*"):
        if file.is_file():
            with file.open("rb") as handle:
                os.fsync(handle.fileno())
    os.rename(staging, final)
    fsync_dir(final.parent)
