"""The free-space floor for index writes. Chroma that hits a full disk mid-write leaves log entries
it can't apply, and then even the *previous* index stops answering ('Failed to apply logs to the
metadata segment') until space is freed; so a run stops while there is still room."""

from __future__ import annotations

import shutil
from pathlib import Path

from assistant.config import Settings
from assistant.errors import DiskSpaceError

_MB = 1024 * 1024


def free_mb(folder: Path) -> float:
    """Free space (for unprivileged writers) in the file system that holds `folder`, or would hold it."""
    existing = folder.expanduser().absolute()
    while not existing.exists() and existing != existing.parent:  # not created yet: measure where it will be
        existing = existing.parent
    return shutil.disk_usage(existing).free / _MB


def check_free_space(settings: Settings, stopped: str) -> None:
    """DiskSpaceError (one line) when the index folder's file system has less free space than
    store.min_free_mb. `stopped` says what stopped where and what was kept, e.g. 'the index run
    stopped before writing anything'. The local folder holds the manifests and snapshots also when
    Chroma is a server, so it is checked either way."""
    floor = settings.store.min_free_mb
    if floor <= 0:
        return
    folder = Path(settings.store.path).expanduser()
    free = free_mb(folder)
    if free < floor:
        raise DiskSpaceError(
            f"{stopped}: only {free:.1f} MB free in {folder}'s file system, below the floor of "
            f"{floor:g} MB (store.min_free_mb); the previous index keeps answering. Free some space there, "
            f"or lower ASSISTANT_STORE__MIN_FREE_MB, then run the index again")
