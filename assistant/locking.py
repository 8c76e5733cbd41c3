"""One writer per collection at a time, across processes: an OS file lock beside the manifests.

The lock is `flock`-based (the `filelock` package), so the kernel releases it when its holder
dies, even by kill -9: a crashed indexer never leaves a stale lock. With a Chroma server the lock
lives in the shared index folder, so writers must share that folder (documented in the README)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from assistant import atomic
from assistant.config import Settings
from assistant.errors import IndexBusyError, IndexCorruptError


def lock_path(settings: Settings) -> Path:
    return settings.store.path / "locks" / f"{settings.store.collection}.lock"


def _holder_path(settings: Settings) -> Path:
    return lock_path(settings).with_suffix(".holder.json")


def describe_holder(settings: Settings) -> str:
    """Who holds the lock, as recorded by the holder (best effort: it is informational)."""
    try:
        holder = json.loads(_holder_path(settings).read_text())
        return f"pid {holder['pid']} on {holder['host']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def is_locked(settings: Settings) -> bool:
    """True while some writer holds the collection's lock."""
    path = lock_path(settings)
    if not path.exists():
        return False
    probe = FileLock(str(path))
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return True
    probe.release()
    return False


@contextmanager
def writer_lock(settings: Settings, *, on_wait: Callable[[str], None] | None = None,
                timeout_s: float | None = None) -> Iterator[None]:
    """Hold the collection's writer lock; wait (telling `on_wait` once) up to the timeout, then
    raise IndexBusyError naming the holder."""
    path = lock_path(settings)
    lock = FileLock(str(path))
    timeout = settings.store.lock_timeout_s if timeout_s is None else timeout_s
    name = settings.store.collection
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=0)
    except Timeout:  # before OSError: filelock's Timeout is a TimeoutError
        holder = describe_holder(settings)
        if on_wait is not None:
            on_wait(f"collection {name!r} is being indexed by {holder}; waiting up to {timeout:g} s for it to finish")
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise IndexBusyError(
                f"collection {name!r} is still being indexed by {holder} after {timeout:g} s; try again when it "
                "finishes (or raise ASSISTANT_STORE__LOCK_TIMEOUT_S)") from None
    except OSError as exc:
        raise IndexCorruptError(f"cannot use the lock file {path} ({exc.strerror or exc}); remove whatever is at that "
                                "path (the index folder's locks/ holds only lock files) and try again") from exc
    try:
        atomic.write_text(_holder_path(settings), json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
        yield
    finally:
        _holder_path(settings).unlink(missing_ok=True)
        lock.release()
