"""One writer per collection at a time, across processes: an OS file lock beside the manifests.

The lock is `flock`-based (the `filelock` package), so the kernel releases it when its holder
dies, even by kill -9: a crashed indexer never leaves a stale lock. With a Chroma server, writers
may share no folder, so the lock is a renewed lease record on the server instead."""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

from filelock import FileLock, Timeout

from assistant import atomic
from assistant.config import Settings
from assistant.errors import IndexBusyError, IndexCorruptError, StoreUnavailableError
from assistant.index.registry import RegistryRecord, server_registry

log = logging.getLogger(__name__)


def lock_path(settings: Settings) -> Path:
    return settings.store.path / "locks" / f"{settings.store.collection}.lock"


class WriterLock(Protocol):
    """The collection's one-writer lock, across processes (and hosts, with a Chroma server)."""

    def held(self) -> bool:
        """True while some writer holds it."""

    def holder(self) -> str:
        """Who holds it, as the holder recorded (informational)."""

    def hold(self, timeout_s: float, on_wait: Callable[[str], None] | None) -> AbstractContextManager[None]:
        """Hold it; wait (telling `on_wait` once) up to the timeout, then raise IndexBusyError."""


def make_writer_lock(settings: Settings) -> WriterLock:
    return ServerLease(settings) if settings.store.chroma_url else FileWriterLock(settings)


def describe_holder(settings: Settings) -> str:
    return make_writer_lock(settings).holder()


def is_locked(settings: Settings) -> bool:
    return make_writer_lock(settings).held()


def writer_lock(settings: Settings, *, on_wait: Callable[[str], None] | None = None,
                timeout_s: float | None = None) -> AbstractContextManager[None]:
    timeout = settings.store.lock_timeout_s if timeout_s is None else timeout_s
    return make_writer_lock(settings).hold(timeout, on_wait)


def _busy(settings: Settings, holder: str, timeout: float) -> IndexBusyError:
    return IndexBusyError(
        f"collection {settings.store.collection!r} is still being indexed by {holder} after {timeout:g} s; try again "
        "when it finishes (or raise ASSISTANT_STORE__LOCK_TIMEOUT_S)")


def _waiting(settings: Settings, holder: str, timeout: float) -> str:
    return (f"collection {settings.store.collection!r} is being indexed by {holder}; "
            f"waiting up to {timeout:g} s for it to finish")


class FileWriterLock:
    """flock on a file beside the manifests: the kernel releases it when its holder dies."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.path = lock_path(settings)
        self._holder_path = self.path.with_suffix(".holder.json")

    def holder(self) -> str:
        try:
            holder = json.loads(self._holder_path.read_text())
            return f"pid {holder['pid']} on {holder['host']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "another process"

    def held(self) -> bool:
        if not self.path.exists():
            return False
        probe = FileLock(str(self.path))
        try:
            probe.acquire(timeout=0)
        except Timeout:
            return True
        probe.release()
        return False

    @contextmanager
    def hold(self, timeout_s: float, on_wait: Callable[[str], None] | None) -> Iterator[None]:
        lock = FileLock(str(self.path))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock.acquire(timeout=0)
        except Timeout:  # before OSError: filelock's Timeout is a TimeoutError
            holder = self.holder()
            if on_wait is not None:
                on_wait(_waiting(self.settings, holder, timeout_s))
            try:
                lock.acquire(timeout=timeout_s)
            except Timeout:
                raise _busy(self.settings, holder, timeout_s) from None
        except OSError as exc:
            raise IndexCorruptError(f"cannot use the lock file {self.path} ({exc.strerror or exc}); remove whatever is at "
                                    "that path (the index folder's locks/ holds only lock files) and try again") from exc
        try:
            atomic.write_text(self._holder_path, json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
            yield
        finally:
            self._holder_path.unlink(missing_ok=True)
            lock.release()


class ServerLease:
    """A lease record on the Chroma server, for writers that share no folder.

    Taking it: `add` the record with our token (Chroma keeps the first of racing adds) and read it
    back. The holder renews it in the background; a holder killed by kill -9 stops renewing, and
    the lease can be taken over once it has expired, by deleting the record only while it still
    carries the dead holder's token. Expiry compares clocks of different hosts, so the lease is
    far longer than any clock skew NTP leaves (`store.lease_s`, 60 s by default)."""

    POLL_S = 0.5

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lease_s = settings.store.lease_s
        self._registry = server_registry(settings.store)
        self._key = f"lock/{settings.store.collection}"

    def _current(self) -> RegistryRecord | None:
        record = self._registry.read(self._key)
        if record is None or float(record.metadata.get("expires", 0)) < time.time():
            return None
        return record

    def held(self) -> bool:
        return self._current() is not None

    def holder(self) -> str:
        record = self._registry.read(self._key)
        if record is None:
            return "another process"
        return f"pid {record.metadata.get('pid')} on {record.metadata.get('host')}"

    def _try_take(self, token: str) -> bool:
        record = self._registry.read(self._key)
        if record is not None and float(record.metadata.get("expires", 0)) < time.time():
            self._registry.delete(self._key, where={"token": str(record.metadata.get("token"))})
        self._registry.add_if_absent(self._key, "", self._metadata(token))
        record = self._registry.read(self._key)
        return record is not None and record.metadata.get("token") == token

    def _metadata(self, token: str) -> dict[str, Any]:
        return {"kind": "lease", "token": token, "pid": os.getpid(), "host": socket.gethostname(),
                "expires": time.time() + self.lease_s}

    @contextmanager
    def hold(self, timeout_s: float, on_wait: Callable[[str], None] | None) -> Iterator[None]:
        token = secrets.token_hex(16)
        deadline = time.monotonic() + timeout_s
        told = False
        while not self._try_take(token):
            if not told and on_wait is not None:
                on_wait(_waiting(self.settings, self.holder(), timeout_s))
                told = True
            if time.monotonic() >= deadline:
                raise _busy(self.settings, self.holder(), timeout_s)
            time.sleep(self.POLL_S)
        stop = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(token, stop), daemon=True, name="lease-renewer")
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            self._registry.delete(self._key, where={"token": token})

    def _renew(self, token: str, stop: threading.Event) -> None:
        while not stop.wait(self.lease_s / 6):
            try:
                record = self._registry.read(self._key)
                if record is None or record.metadata.get("token") != token:
                    log.error("collection %r: the writer lease was lost (this run stalled past %gs); another writer "
                              "may run now", self.settings.store.collection, self.lease_s)
                    return
                self._registry.update_metadata(self._key, self._metadata(token))
            except StoreUnavailableError as exc:  # a passing outage: the lease has time left, try again
                log.warning("could not renew the writer lease: %s", exc)
