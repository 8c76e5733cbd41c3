"""Find the document files under a corpus folder, with symbolic links followed on our terms.

Path.rglob follows links blindly: a link to an ancestor folder loops, a link to /etc reads files the
user never meant to index, and a FIFO with a .txt name blocks the reader forever. This walk
- reads the real folder tree first, then follows links, so each folder and file is read once and
  under its own name when it has one (a link to it is reported as a duplicate);
- skips links whose target lies outside the corpus unless `follow_external_symlinks` is set;
- reports loops, broken links, unreadable folders and pipes/sockets/devices as skipped, with why;
- never opens anything: it only lists folders and stats entries."""

from __future__ import annotations

import errno
import os
import stat
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.config import CorpusSettings
from assistant.ingest.formats import not_regular_reason

Skip = Callable[[str, str], None]  # (source, reason)

_FOLLOW_HINT = "set ASSISTANT_CORPUS__FOLLOW_EXTERNAL_SYMLINKS=true to follow it"


@dataclass(frozen=True)
class _Folder:
    path: Path    # as reached from the root (may run through a link)
    source: str   # relative name with a trailing '/', '' for the root
    real: Path    # resolved location

    @property
    def name(self) -> str:
        """How a skipped folder is named in reports: like a file, no trailing '/'."""
        return self.source.rstrip("/") or "./"


def _is_hidden(name: str) -> bool:
    return name.startswith(".")  # .git, .DS_Store, editor swap files: never documents


def _strerror(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _link_text(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError as exc:
        return f"(unreadable link: {_strerror(exc)})"


class CorpusWalk:
    """One walk over `root`; `files()` returns (path to read, source name) in source order."""

    def __init__(self, root: Path, settings: CorpusSettings, skip: Skip) -> None:
        self.root = root
        self.real_root = root.resolve()
        self.settings = settings
        self.skip = skip
        self._extensions = {ext.lower() for ext in settings.extensions}
        self._folders: dict[Path, str] = {}     # resolved folder -> source it is read as
        self._files: dict[Path, str] = {}       # resolved file -> source it is read as
        self._found: list[tuple[Path, str]] = []
        self._links: deque[tuple[Path, str]] = deque()

    def files(self) -> list[tuple[Path, str]]:
        self._walk_tree(_Folder(self.root, "", self.real_root))
        while self._links:  # links last: whatever they point to inside the corpus keeps its own name
            self._follow_link(*self._links.popleft())
        return sorted(self._found, key=lambda found: found[1].split("/"))

    # -- the real tree ------------------------------------------------------------------------
    def _walk_tree(self, top: _Folder) -> None:
        """Depth-first over real sub-folders (an explicit stack: deep trees don't hit the recursion limit)."""
        if not self._enter(top):
            return
        stack = [top]
        while stack:
            folder = stack.pop()
            subfolders = self._scan(folder)
            stack.extend(sub for sub in reversed(subfolders) if self._enter(sub))

    def _scan(self, folder: _Folder) -> list[_Folder]:
        """Record the folder's files and links; return its real sub-folders."""
        try:
            with os.scandir(folder.path) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            self.skip(folder.name, f"folder cannot be read ({_strerror(exc)})")
            return []
        subfolders = []
        for entry in entries:
            if _is_hidden(entry.name):
                continue
            source, path = folder.source + entry.name, Path(entry.path)
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError as exc:
                self.skip(source, f"cannot be read ({_strerror(exc)})")
                continue
            if stat.S_ISLNK(mode):
                self._links.append((path, source))
            elif stat.S_ISDIR(mode):
                subfolders.append(_Folder(path, source + "/", folder.real / entry.name))
            else:
                self._add_file(path, source, folder.real / entry.name, mode)
        return subfolders

    def _enter(self, folder: _Folder) -> bool:
        """Claim a folder for this walk; False (reported) when it is already read under another name."""
        earlier = self._folders.get(folder.real)
        if earlier is None:
            self._folders[folder.real] = folder.source
            return True
        if self._is_ancestor(folder.real, folder.path):
            self.skip(folder.name, f"symbolic link loop: points back to {folder.real}, which contains the link; not followed")
        else:
            self.skip(folder.name, f"same folder as '{earlier.rstrip('/') or './'}', which is read under that name")
        return False

    def _is_ancestor(self, real: Path, path: Path) -> bool:
        parent = Path(os.path.realpath(path.parent))
        return parent == real or real in parent.parents

    def _is_document(self, source: str) -> bool:
        return Path(source).suffix.lower() in self._extensions

    def _add_file(self, path: Path, source: str, real: Path, mode: int) -> None:
        if not self._is_document(source):
            return  # not a document type: ignored, like any other file
        special = not_regular_reason(mode)
        if special:
            self.skip(source, special)
            return
        earlier = self._files.get(real)
        if earlier is not None:
            self.skip(source, f"links to '{earlier}', which is read under that name")
            return
        self._files[real] = source
        self._found.append((path, source))

    # -- links --------------------------------------------------------------------------------
    def _follow_link(self, link: Path, source: str) -> None:
        target = _link_text(link)
        try:
            mode = os.stat(link).st_mode  # follows the link; never opens the target
        except OSError as exc:
            self._report_unfollowable(source, target, exc)
            return
        real = Path(os.path.realpath(link))
        if not stat.S_ISDIR(mode) and not self._is_document(source):
            return  # a link to a non-document is ignored like the file itself would be
        if not self._inside_root(real) and not self.settings.follow_external_symlinks:
            self.skip(source, f"symbolic link to {real}, outside the corpus folder; not followed ({_FOLLOW_HINT})")
            return
        if stat.S_ISDIR(mode):
            self._walk_tree(_Folder(link, source + "/", real))
        else:
            self._add_file(link, source, real, mode)

    def _report_unfollowable(self, source: str, target: str, exc: OSError) -> None:
        """A broken or looping link is reported when it could have led to documents: named like
        a document, or with no extension (it may have been a folder)."""
        if Path(source).suffix and not self._is_document(source):
            return
        if isinstance(exc, FileNotFoundError):
            self.skip(source, f"broken symbolic link to {target}: the target does not exist")
        elif exc.errno == errno.ELOOP:
            self.skip(source, f"symbolic link loop ({source} -> {target} never reaches a file); fix or remove the link")
        else:
            self.skip(source, f"symbolic link to {target} cannot be followed ({_strerror(exc)})")

    def _inside_root(self, real: Path) -> bool:
        return real == self.real_root or self.real_root in real.parents
