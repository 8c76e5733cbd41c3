"""The collection's uploaded files: checked, staged, stored, listed and loaded.

Uploads are copied to the collection's uploads folder (0600: they may be private) before they are
indexed, so an interrupted upload, a `--rebuild` or a re-index re-reads them from there; names and
folders are in `upload_paths`, files that stopped loading in `quarantine`.

With a Chroma server, each upload is also kept on the server, which is the copy that counts:
replicas sharing the server share no folder, so each mirrors the server's uploads into its own
folder before an index run reads them. That copy is an `UploadMirror` the caller passes in (the
index stage's `registry.upload_mirror`), so this stage never imports the store."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from assistant import atomic
from assistant.config import Settings
from assistant.errors import UploadError
from assistant.ingest.loaders import LoadReport, load_files, record_file
from assistant.ingest.quarantine import (
    clear_quarantine,
    quarantine_reasons,
    quarantine_upload,
)
from assistant.ingest.upload_paths import (
    UPLOAD_NAME_MAX_BYTES,
    UPLOAD_SOURCE_PREFIX,
    check_upload_name,
    plain_files,
    quarantine_dir,
    safe_name,
    upload_dir,
    upload_source,
)

# The uploads' one public face: names, folders and quarantine are split out only to keep modules small.
__all__ = [
    "UPLOAD_EXTENSIONS", "UPLOAD_NAME_MAX_BYTES", "UPLOAD_SOURCE_PREFIX", "IndexedDocument", "UploadBatch",
    "UploadMirror", "UploadedDocument", "UploadedFile", "check_upload", "check_upload_name", "describe_uploads",
    "discard_staged", "list_uploads", "load_stored_uploads", "load_uploads", "publish_staged", "quarantine_dir",
    "quarantine_reasons", "quarantine_upload", "remove_upload", "safe_name", "sort_uploads", "stage_upload",
    "stored_upload_paths", "upload_dir", "upload_file_path", "upload_source",
]

# What the library reads (assistant.ingest.formats); .json/.jsonl hold records, one document each.
UPLOAD_EXTENSIONS: tuple[str, ...] = (".txt", ".md", ".html", ".pdf", ".docx", ".pptx", ".epub", ".csv", ".json",
                                      ".jsonl", ".ipynb", ".eml")

_STAGING_FOLDER = ".incoming"


def check_upload(path: Path, *, name: str | None = None, max_mb: float,
                 extensions: Iterable[str] = UPLOAD_EXTENSIONS) -> None:
    """Raise UploadError when the file has the wrong type, is too big, or cannot be read."""
    name = name or path.name
    check_upload_name(name)
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
    """Check each (path, name) like an upload; the good ones go to `Assistant.add_files` under their names
    (kept by name: a second file of a name is refused, not left to replace the first; one file twice counts once)."""
    batch = UploadBatch()
    taken: dict[str, Path] = {}
    for path, name in files:
        try:
            check_upload(path, name=name, max_mb=max_mb)
        except UploadError as err:
            batch.refused.append((name, str(err)))
            continue
        if name in taken:
            if not _same_file(path, taken[name]):
                batch.refused.append((name, f"another file named {name} comes earlier in this batch; rename one of "
                                            "them (uploads are kept by name)"))
            continue
        taken[name] = path
        batch.accepted.append((path, name))
    return batch


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 100 * 1024 else f"{size / 1024:.0f} KB"


def stage_upload(settings: Settings, path: Path, name: str) -> Path:
    """Copy a checked file into the uploads folder's hidden staging folder (0600) under its safe name,
    where it can be loaded before it counts as stored: nothing outside `.incoming/` changes."""
    name = safe_name(name)
    check_upload_name(name)
    staging = upload_dir(settings) / _STAGING_FOLDER / name
    try:
        staging.parent.mkdir(parents=True, exist_ok=True)
        with path.open("rb") as source, os.fdopen(os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as target:
            shutil.copyfileobj(source, target)
            target.flush()
            os.fsync(target.fileno())
        os.chmod(staging, 0o600)
    except OSError as exc:
        staging.unlink(missing_ok=True)
        raise UploadError(f"the file could not be saved ({exc.strerror or exc})") from exc
    return staging


def discard_staged(staged: Path) -> None:
    staged.unlink(missing_ok=True)


class UploadMirror(Protocol):
    """The copy of one collection's uploads that replicas share (on the Chroma server); the local folder
    follows it. Names are as stored; `files` gives (name, contents) of every upload it holds."""

    def put(self, name: str, data: bytes) -> None: ...

    def delete(self, name: str) -> None: ...

    def files(self) -> list[tuple[str, bytes]]: ...


def publish_staged(settings: Settings, staged: Path, *, mirror: UploadMirror | None) -> Path:
    """Move a staged upload that loaded into the uploads folder (atomic rename), replacing an older copy."""
    final = upload_dir(settings) / staged.name
    try:
        os.replace(staged, final)
    except OSError as exc:
        staged.unlink(missing_ok=True)
        raise UploadError(f"the file could not be saved ({exc.strerror or exc})") from exc
    atomic.fsync_dir(final.parent)
    clear_quarantine(settings, final.name)  # a good copy replaces a quarantined one
    if mirror is not None:
        mirror.put(final.name, final.read_bytes())
    return final


def _follow_mirror(settings: Settings, mirror: UploadMirror, *, skip: set[str]) -> list[Path]:
    """Copy the mirror's uploads into the local folder; their local paths. Local files the mirror
    doesn't hold are left alone (and not indexed); `skip`: quarantined here."""
    paths = []
    for stored_name, data in mirror.files():
        name = safe_name(stored_name)
        if name in skip:
            continue
        target = upload_dir(settings) / name
        if not target.is_file() or target.read_bytes() != data:
            atomic.write_bytes(target, data, mode=0o600)
        paths.append(target)
    return sorted(paths)


def remove_upload(settings: Settings, name: str, *, mirror: UploadMirror | None) -> None:
    """Delete an upload's stored copies (local, mirror, quarantine). Its chunks go in the next index run."""
    name = safe_name(name)
    if mirror is not None:
        mirror.delete(name)
    stored = upload_dir(settings) / name
    if stored.is_file():
        stored.unlink()
        atomic.fsync_dir(stored.parent)
    clear_quarantine(settings, name)


def stored_upload_paths(settings: Settings) -> list[Path]:
    return plain_files(upload_dir(settings))


def load_uploads(paths: list[Path], settings: Settings) -> LoadReport:
    """Load uploaded files as documents named `upload:<file name>`."""
    return load_files(paths, settings.corpus, prefix=UPLOAD_SOURCE_PREFIX)


def load_stored_uploads(settings: Settings, *, mirror: UploadMirror | None) -> LoadReport:
    """The stored uploads' documents. One that fails to load is moved to quarantine (never re-read on
    every run); quarantined ones are reported as skipped, so an edition indexed earlier is kept until
    the user removes the file."""
    quarantined = quarantine_reasons(settings)
    paths = _follow_mirror(settings, mirror, skip=set(quarantined)) if mirror is not None else stored_upload_paths(settings)
    report = load_uploads(paths, settings)
    for source, reason in list(report.skipped):
        name = source.removeprefix(UPLOAD_SOURCE_PREFIX)
        if (upload_dir(settings) / name).is_file():
            quarantine_upload(settings, name, reason)
    for name, reason in quarantined.items():
        report.skipped.append((upload_source(name), f"quarantined ({reason}); remove it with: assistant remove {name}"))
    return report


# -- listing, for the page, the API and the CLI ---------------------------------------------------

@dataclass(frozen=True)
class UploadedFile:
    """One uploaded file of a collection; `quarantined` holds why it is set aside, else None."""

    name: str
    size: int
    modified: str  # ISO 8601, UTC
    quarantined: str | None = None

    @property
    def source(self) -> str:
        return upload_source(self.name)


@dataclass(frozen=True)
class UploadedDocument:
    """An uploaded file with what the published index holds of it, as the page, the API and the CLI list it."""

    name: str
    size: int
    modified: str  # ISO 8601, UTC
    chunks: int = 0
    title: str | None = None
    quarantined: str | None = None

    @property
    def source(self) -> str:
        return upload_source(self.name)


class IndexedDocument(Protocol):
    """What the published index holds of one document (the index manifest's entry)."""

    @property
    def chunks(self) -> int: ...

    @property
    def title(self) -> str: ...


def describe_uploads(files: Iterable[UploadedFile], catalogue: Mapping[str, IndexedDocument]) -> list[UploadedDocument]:
    """The uploaded files with their chunk counts and titles. A .json/.jsonl upload is indexed as one
    document per record (`upload:x.jsonl#key`), so its chunks are summed over them (and it has no one title)."""
    chunks: dict[str, int] = {}
    for source, entry in catalogue.items():
        owner = record_file(source) or source
        chunks[owner] = chunks.get(owner, 0) + entry.chunks
    described = []
    for f in files:
        entry = catalogue.get(f.source)
        described.append(UploadedDocument(name=f.name, size=f.size, modified=f.modified, chunks=chunks.get(f.source, 0),
                                          title=entry.title if entry else None, quarantined=f.quarantined))
    return described


def _described(path: Path, quarantined: str | None) -> UploadedFile:
    info = path.stat()
    modified = dt.datetime.fromtimestamp(info.st_mtime, dt.UTC).isoformat(timespec="seconds")
    return UploadedFile(name=path.name, size=info.st_size, modified=modified, quarantined=quarantined)


def list_uploads(settings: Settings) -> list[UploadedFile]:
    """The collection's uploaded files, stored and quarantined, by name."""
    found = [_described(path, None) for path in stored_upload_paths(settings)]
    reasons = quarantine_reasons(settings)
    found += [_described(quarantine_dir(settings) / name, why) for name, why in reasons.items()]
    return sorted(found, key=lambda item: item.name)


def upload_file_path(settings: Settings, name: str) -> Path | None:
    """Where an uploaded file (stored or quarantined) lies, or None when there is no such upload."""
    name = safe_name(name)
    for folder in (upload_dir(settings), quarantine_dir(settings)):
        path = folder / name
        if path.is_file() and not path.is_symlink():
            return path
    return None
