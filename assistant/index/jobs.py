"""Indexing in a background thread with progress, so a caller (the web page) can report it while
questions keep being answered from the published snapshot."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from assistant.index.run import Progress

T = TypeVar("T")


class BackgroundJob(Generic[T]):
    """Runs `work(progress)` in a daemon thread; `wait()` polls, `result()` returns or re-raises."""

    def __init__(self, work: Callable[[Progress], T], *, name: str = "index-job") -> None:
        self._work = work
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._latest = "starting…"
        self._result: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _progress(self, message: str) -> None:
        with self._lock:
            self._latest = message

    def _run(self) -> None:
        try:
            self._result = self._work(self._progress)
        except BaseException as exc:  # handed to whoever calls result(), in their thread
            self._error = exc
        finally:
            self._done.set()

    @property
    def latest(self) -> str:
        with self._lock:
            return self._latest

    def wait(self, timeout: float) -> bool:
        """True once the job has finished (successfully or not)."""
        return self._done.wait(timeout)

    def result(self) -> T:
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result
