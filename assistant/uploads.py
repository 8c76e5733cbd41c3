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
import datetime as dt
import json
import os
import re
import shutil
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from assistant.index import atomic
from assistant.config import Settings
from assistant.errors import UploadError
from assistant.index.manifest import DocumentEntry
from assistant.ingest.loaders import LoadReport, load_files, record_file
from assistant.index.registry import UPLOADS_COLLECTION, ServerRegistry, server_registry

# What the library reads (assistant.ingest.formats); .json/.jsonl hold records, one document each.
UPLOAD_EXTENSIONS: tuple[str, ...] = (".txt", ".md", ".html", ".pdf", ".docx", ".pptx", ".epub", ".csv", ".json",
                                      ".jsonl", ".ipynb", ".eml")

UPLOAD_SOURCE_PREFIX = "upload:"
_SEPARATORS = re.compile(r"[/\\]")
# File systems allow 255 bytes a name; the staging and quarantine names add up to ~20 bytes around it.
UPLOAD_NAME_MAX_BYTES = 200
_STAGING_FOLDER = ".incoming"
_QUARANTINE_REASONS = ".reasons.json"  # hidden: no upload name (leading dots stripped) can be it


def check_upload_name(name: str) -> None:
    """Raise UploadError when a (safe) name is too long to be stored."""
    size = len(name.encode("utf-8"))
    if size > UPLOAD_NAME_MAX_BYTES:
        raise UploadError(f"the file name is {size} bytes long in UTF-8, over the {UPLOAD_NAME_MAX_BYTES}-byte limit; "
                          "rename the file to something shorter and upload it again")


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


def _is_invisible(char: str) -> bool:
    """Control (Cc) and format (Cf) characters: bidi overrides such as U+202E, zero-width joiners, NUL."""
    return unicodedata.category(char) in ("Cc", "Cf")


def safe_name(name: str) -> str:
    """A file name that stays inside the uploads folder: NFC (so `café.md` sent decomposed and composed
    is one file), no separators, no control or bidi/format characters (a right-to-left override
    would make the shown name lie), no leading dots. Length is checked by `check_upload_name`, not cut."""
    base = _SEPARATORS.sub("/", unicodedata.normalize("NFC", name)).rsplit("/", 1)[-1]
    cleaned = "".join(char for char in base if not _is_invisible(char)).strip().lstrip(".").strip()
    return cleaned or "upload"


def upload_source(name: str) -> str:
    return UPLOAD_SOURCE_PREFIX + name


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


def publish_staged(settings: Settings, staged: Path) -> Path:
    """Move a staged upload that loaded into the uploads folder (atomic rename), replacing an older copy."""
    final = upload_dir(settings) / staged.name
    try:
        os.replace(staged, final)
    except OSError as exc:
        staged.unlink(missing_ok=True)
        raise UploadError(f"the file could not be saved ({exc.strerror or exc})") from exc
    atomic.fsync_dir(final.parent)
    _clear_quarantine(settings, final.name)  # a good copy replaces a quarantined one
    if settings.store.chroma_url:
        _server_uploads(settings).write(_upload_key(settings, final.name),
                                        base64.b64encode(final.read_bytes()).decode("ascii"),
                                        {"collection": settings.store.collection, "name": final.name})
    return final


def _server_uploads(settings: Settings) -> ServerRegistry:
    return server_registry(settings.store, UPLOADS_COLLECTION)


def _upload_key(settings: Settings, name: str) -> str:
    return f"{settings.store.collection}/{name}"


def _mirror_server_uploads(settings: Settings, *, skip: set[str]) -> list[Path]:
    """Copy the server's uploads of this collection into the local folder; their local paths.
    Local files the server doesn't hold are left alone (and not indexed); `skip`: quarantined here."""
    records = _server_uploads(settings).find({"collection": settings.store.collection}, with_text=True)
    paths = []
    for record in records:
        name = safe_name(str(record.metadata.get("name", "")))
        if name in skip:
            continue
        target = upload_dir(settings) / name
        data = base64.b64decode(record.text)
        if not target.is_file() or target.read_bytes() != data:
            atomic.write_bytes(target, data, mode=0o600)
        paths.append(target)
    return sorted(paths)


def remove_upload(settings: Settings, name: str) -> None:
    """Delete an upload's stored copies (local, server, quarantine). Its chunks go in the next index run."""
    name = safe_name(name)
    if settings.store.chroma_url:
        _server_uploads(settings).delete(_upload_key(settings, name))
    stored = upload_dir(settings) / name
    if stored.is_file():
        stored.unlink()
        atomic.fsync_dir(stored.parent)
    _clear_quarantine(settings, name)


def stored_upload_paths(settings: Settings) -> list[Path]:
    return _plain_files(upload_dir(settings))


def _plain_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.is_symlink() and not p.name.startswith("."))


def load_uploads(paths: list[Path], settings: Settings) -> LoadReport:
    """Load uploaded files as documents named `upload:<file name>`."""
    return load_files(paths, settings.corpus, prefix=UPLOAD_SOURCE_PREFIX)


def load_stored_uploads(settings: Settings) -> LoadReport:
    """The stored uploads' documents. One that fails to load is moved to quarantine (never re-read on
    every run); quarantined ones are reported as skipped, so an edition indexed earlier is kept until
    the user removes the file."""
    quarantined = quarantine_reasons(settings)
    paths = _mirror_server_uploads(settings, skip=set(quarantined)) if settings.store.chroma_url else stored_upload_paths(settings)
    report = load_uploads(paths, settings)
    for source, reason in list(report.skipped):
        name = source.removeprefix(UPLOAD_SOURCE_PREFIX)
        if (upload_dir(settings) / name).is_file():
            quarantine_upload(settings, name, reason)
    for name, reason in quarantined.items():
        report.skipped.append((upload_source(name), f"quarantined ({reason}); remove it with: assistant remove {name}"))
    return report


# -- quarantine: stored uploads that stopped loading ------------------------------------------------

def quarantine_dir(settings: Settings) -> Path:
    return Path(settings.store.path) / "quarantine" / settings.store.collection


def quarantine_reasons(settings: Settings) -> dict[str, str]:
    """Quarantined upload name -> why it was set aside."""
    folder = quarantine_dir(settings)
    try:
        reasons = json.loads((folder / _QUARANTINE_REASONS).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none yet, unreadable or not JSON: the files themselves say what is there
        reasons = {}
    present = {p.name for p in _plain_files(folder)}
    return {name: str(reasons.get(name, "could not be loaded")) for name in sorted(present)}


def quarantine_upload(settings: Settings, name: str, reason: str) -> Path:
    """Move a stored upload that fails to load beside the uploads, with its reason."""
    folder = quarantine_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    os.replace(upload_dir(settings) / name, target)
    _write_reasons(settings, {**quarantine_reasons(settings), name: reason})
    return target


def _clear_quarantine(settings: Settings, name: str) -> None:
    target = quarantine_dir(settings) / name
    if target.is_file():
        target.unlink()
        reasons = quarantine_reasons(settings)
        reasons.pop(name, None)
        _write_reasons(settings, reasons)


def _write_reasons(settings: Settings, reasons: dict[str, str]) -> None:
    atomic.write_text(quarantine_dir(settings) / _QUARANTINE_REASONS, json.dumps(reasons, indent=1, sort_keys=True), mode=0o600)


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


def describe_uploads(files: Iterable[UploadedFile], catalogue: Mapping[str, DocumentEntry]) -> list[UploadedDocument]:
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
