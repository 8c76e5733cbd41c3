"""The collection's uploaded files: kept in their own folder and their own namespace.

Uploads are copied to `<index folder>/uploads/<collection>/` (0600: they may be private) before
they are indexed, so an interrupted upload, a `--rebuild` or a re-index re-reads them from there.
Their sources are `upload:<file name>`, which no path inside a corpus folder can be, so a corpus
subfolder called `uploads/` stays an ordinary folder."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from assistant.config import Settings
from assistant.errors import UploadError
from assistant.ingest.loaders import LoadReport, load_files

UPLOAD_SOURCE_PREFIX = "upload:"
_UNSAFE_NAME = re.compile(r"[\x00-\x1f/\\]")


def upload_dir(settings: Settings) -> Path:
    return Path(settings.store.path) / "uploads" / settings.store.collection


def safe_name(name: str) -> str:
    """A file name that stays inside the uploads folder (no separators, control characters or
    leading dots). Other characters are kept: names are escaped when shown, never trusted."""
    cleaned = _UNSAFE_NAME.sub("_", Path(name.replace("\\", "/")).name).strip().lstrip(".")
    return cleaned[:200] or "upload"


def upload_source(name: str) -> str:
    return UPLOAD_SOURCE_PREFIX + name


def store_upload(settings: Settings, path: Path, name: str) -> Path:
    """Copy a checked file into the uploads folder (0600), replacing an older copy atomically."""
    folder = upload_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / safe_name(name)
    staging = folder / f".{final.name}.incoming"
    try:
        with path.open("rb") as source, os.fdopen(os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as target:
            shutil.copyfileobj(source, target)
            target.flush()
            os.fsync(target.fileno())
        os.chmod(staging, 0o600)
        os.replace(staging, final)
    except OSError as exc:
        staging.unlink(missing_ok=True)
        raise UploadError(f"the file could not be saved ({exc.strerror or exc})") from exc
    return final


def remove_upload(settings: Settings, name: str) -> None:
    (upload_dir(settings) / safe_name(name)).unlink(missing_ok=True)


def stored_upload_paths(settings: Settings) -> list[Path]:
    folder = upload_dir(settings)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.is_symlink() and not p.name.startswith("."))


def load_uploads(paths: list[Path], settings: Settings) -> LoadReport:
    """Load uploaded files as documents named `upload:<file name>`."""
    return load_files(paths, settings.corpus, prefix=UPLOAD_SOURCE_PREFIX)


def load_stored_uploads(settings: Settings) -> LoadReport:
    return load_uploads(stored_upload_paths(settings), settings)
