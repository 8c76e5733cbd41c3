"""The collection's uploaded files: kept in their own folder and their own namespace.

Uploads are copied to `<index folder>/uploads/<collection>/` (0600: they may be private) before
they are indexed, so an interrupted upload, a `--rebuild` or a re-index re-reads them from there.
Their sources are `upload:<file name>`, which no path inside a corpus folder can be, so a corpus
subfolder called `uploads/` stays an ordinary folder.

With a Chroma server, each upload is also kept on the server (`assistant-uploads`), which is the
copy that counts: replicas sharing the server share no folder, so each mirrors the server's
uploads into its own folder before an index run reads them."""

from __future__ import annotations

import base64
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from assistant import atomic
from assistant.config import Settings
from assistant.errors import UploadError
from assistant.ingest.loaders import LoadReport, load_files
from assistant.registry import UPLOADS_COLLECTION, ServerRegistry, server_registry

# What the library reads (assistant.ingest.formats); .json/.jsonl hold records, one document each.
UPLOAD_EXTENSIONS: tuple[str, ...] = (".txt", ".md", ".html", ".pdf", ".docx", ".pptx", ".epub", ".csv", ".json",
                                      ".jsonl", ".ipynb", ".eml")

UPLOAD_SOURCE_PREFIX = "upload:"
_UNSAFE_NAME = re.compile(r"[\x00-\x1f/\\]")


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


@dataclass
class UploadBatch:
    """Files that passed the checks (path, safe name) and files refused (name, reason)."""

    accepted: list[tuple[Path, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def sort_uploads(files: Iterable[tuple[Path, str]], *, max_mb: float) -> UploadBatch:
    """Check each (path, name) like an upload; the good ones go to `Assistant.add_files` under their names."""
    batch = UploadBatch()
    for path, name in files:
        try:
            check_upload(path, name=name, max_mb=max_mb)
        except UploadError as err:
            batch.refused.append((name, str(err)))
            continue
        batch.accepted.append((path, name))
    return batch


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 100 * 1024 else f"{size / 1024:.0f} KB"


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
    if settings.store.chroma_url:
        _server_uploads(settings).write(_upload_key(settings, final.name),
                                        base64.b64encode(final.read_bytes()).decode("ascii"),
                                        {"collection": settings.store.collection, "name": final.name})
    return final


def _server_uploads(settings: Settings) -> ServerRegistry:
    return server_registry(settings.store, UPLOADS_COLLECTION)


def _upload_key(settings: Settings, name: str) -> str:
    return f"{settings.store.collection}/{name}"


def _mirror_server_uploads(settings: Settings) -> list[Path]:
    """Copy the server's uploads of this collection into the local folder; their local paths.
    Local files the server doesn't hold are left alone (and not indexed)."""
    records = _server_uploads(settings).find({"collection": settings.store.collection}, with_text=True)
    paths = []
    for record in records:
        target = upload_dir(settings) / safe_name(str(record.metadata.get("name", "")))
        data = base64.b64decode(record.text)
        if not target.is_file() or target.read_bytes() != data:
            atomic.write_bytes(target, data, mode=0o600)
        paths.append(target)
    return sorted(paths)


def remove_upload(settings: Settings, name: str) -> None:
    if settings.store.chroma_url:
        _server_uploads(settings).delete(_upload_key(settings, safe_name(name)))
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
    paths = _mirror_server_uploads(settings) if settings.store.chroma_url else stored_upload_paths(settings)
    return load_uploads(paths, settings)
