"""Where a collection's uploads lie and what they are called.

Uploads are kept in `<index folder>/uploads/<collection>/`, set-aside ones in
`<index folder>/quarantine/<collection>/`. Their sources are `upload:<file name>`, which no path
inside a corpus folder can be, so a corpus subfolder called `uploads/` stays an ordinary folder."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from assistant.config import Settings
from assistant.errors import UploadError

UPLOAD_SOURCE_PREFIX = "upload:"
_SEPARATORS = re.compile(r"[/\\]")
# File systems allow 255 bytes a name; the staging and quarantine names add up to ~20 bytes around it.
UPLOAD_NAME_MAX_BYTES = 200


def check_upload_name(name: str) -> None:
    """Raise UploadError when a (safe) name is too long to be stored."""
    size = len(name.encode("utf-8"))
    if size > UPLOAD_NAME_MAX_BYTES:
        raise UploadError(f"the file name is {size} bytes long in UTF-8, over the {UPLOAD_NAME_MAX_BYTES}-byte limit; "
                          "rename the file to something shorter and upload it again")


def _is_invisible(char: str) -> bool:
    """Control (Cc) and format (Cf) characters: bidi overrides such as U+202E, zero-width joiners, NUL."""
    return unicodedata.category(char) in ("Cc", "Cf")


def safe_name(name: str) -> str:
    """A file name that stays inside the uploads folder: NFC (so `café.md` sent decomposed and composed
    is one file), no separators, no control or bidi/format characters (a right-to-left override
    would make the shown name lie), no leading dots (a name that is only an extension, ".txt", becomes
    "upload.txt"). Length is checked by `check_upload_name`, not cut."""
    base = _SEPARATORS.sub("/", unicodedata.normalize("NFC", name)).rsplit("/", 1)[-1]
    visible = "".join(char for char in base if not _is_invisible(char)).strip()
    cleaned = visible.lstrip(".").strip()
    if cleaned and visible != cleaned and "." not in cleaned:  # ".txt", "...md": the name was all extension
        return f"upload.{cleaned}"
    return cleaned or "upload"


def upload_source(name: str) -> str:
    return UPLOAD_SOURCE_PREFIX + name


def upload_dir(settings: Settings) -> Path:
    return Path(settings.store.path) / "uploads" / settings.store.collection


def quarantine_dir(settings: Settings) -> Path:
    return Path(settings.store.path) / "quarantine" / settings.store.collection


def plain_files(folder: Path) -> list[Path]:
    """The folder's regular files, by name; links and hidden files (staging, bookkeeping) are not uploads."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.is_symlink() and not p.name.startswith("."))
