"""Checking and keeping uploaded files before they are indexed. No gradio here.

Uploads are copied to `<store path>/uploads/<collection>/` so they outlive the browser's
temporary copy; each refused file raises `UploadError` with a message meant for the page."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import Settings
from assistant.errors import UploadError

UPLOAD_EXTENSIONS: tuple[str, ...] = (".txt", ".md", ".html", ".pdf")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f/\\]")


def upload_dir(settings: Settings) -> Path:
    return Path(settings.store.path) / "uploads" / settings.store.collection


def safe_name(name: str) -> str:
    """A file name that stays inside the uploads folder (no separators, control characters or
    leading dots). Other characters are kept: names are escaped when shown, never trusted."""
    cleaned = _UNSAFE_NAME.sub("_", Path(name.replace("\\", "/")).name).strip().lstrip(".")
    return cleaned[:200] or "upload"


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
    """Files accepted (copied into the uploads' staging folder) and refused (name, reason)."""

    accepted: list[Path] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def accept_uploads(paths: Iterable[Path | str], settings: Settings) -> UploadBatch:
    """Check each file and copy the good ones into the uploads' staging folder; `keep()` moves a
    file into the uploads folder once it is indexed, `discard()` drops one the indexer refused."""
    batch = UploadBatch()
    target = upload_dir(settings) / ".incoming"
    for raw in paths:
        path = Path(raw)
        name = safe_name(path.name)
        try:
            check_upload(path, name=name, max_mb=settings.ui.max_upload_mb)
        except UploadError as err:
            batch.refused.append((name, str(err)))
            continue
        target.mkdir(parents=True, exist_ok=True)
        destination = target / name
        try:
            shutil.copyfile(path, destination)
        except OSError as exc:
            batch.refused.append((name, f"the file could not be saved ({exc.strerror or exc})"))
            continue
        batch.accepted.append(destination)
    return batch


def keep(staged: Path) -> Path:
    """Move an indexed upload from staging into the uploads folder (replacing an older copy)."""
    final = staged.parent.parent / staged.name
    staged.replace(final)
    return final


def discard(path: Path) -> None:
    """Remove a staged upload that the indexer refused; an older copy of it stays untouched."""
    try:
        path.unlink()
    except OSError:
        pass
