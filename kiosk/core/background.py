"""Where a flow's slow work runs: device I/O, network calls and database writes off the UI thread.

Every flow has one executor, injected (kiosk/core/flow.py). `run(work, done)` runs the
blocking `work` somewhere it may block and then calls `done(result, error)` on the flow's
own thread with what it returned or the exception it raised; without `done`, an exception
is logged. `deliver(fn)` hands any call to the flow's own thread (progress reports, a
timer's expiry).

    Inline    runs work and done at once on the caller's thread (flow tests, commands)
    Held      keeps each piece of work until a test releases it, so a test can look at the
              "waiting" state in between
    Threads   a few reused worker threads (one: the steps run in order, as a device needs);
              results go through `deliver`, which the UI sets to "schedule on the Kivy main
              thread", so screens only ever see changes on the thread that owns the widgets

Database writes belong in `work`, never in `done`: `done` runs on the UI thread.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Protocol

log = logging.getLogger(__name__)

Done = Callable[[Any, BaseException | None], None]


class Executor(Protocol):
    def run(self, work: Callable[[], Any], done: Done | None = None) -> None: ...

    def deliver(self, fn: Callable[[], None]) -> None: ...


def _finish(work: Callable[[], Any], done: Done | None) -> Callable[[], None]:
    """Run `work` now; return the call that reports its outcome to `done` (or logs an error)."""
    try:
        result, error = work(), None
    except Exception as exc:  # the flow decides what an error means; it must hear of every one
        result, error = None, exc
    if done is not None:
        return lambda: done(result, error)
    if error is not None:
        log.error("%s failed", getattr(work, "__name__", work), exc_info=error)
    return lambda: None


class Inline:
    """Runs the work now, on this thread: for flow tests and command-line tools."""

    pending = 0

    def run(self, work: Callable[[], Any], done: Done | None = None) -> None:
        _finish(work, done)()

    def deliver(self, fn: Callable[[], None]) -> None:
        fn()


class Held:
    """Keeps each piece of work until `release()`: a test sees the state while the work is under way."""

    def __init__(self):
        self.waiting: list[tuple[Callable[[], Any], Done | None]] = []

    @property
    def pending(self) -> int:
        return len(self.waiting)

    def run(self, work: Callable[[], Any], done: Done | None = None) -> None:
        self.waiting.append((work, done))

    def deliver(self, fn: Callable[[], None]) -> None:
        fn()

    def release(self, count: int | None = None) -> int:
        """Run the oldest `count` (default: all, including any queued meanwhile); returns how many ran."""
        ran = 0
        while self.waiting and (count is None or ran < count):
            work, done = self.waiting.pop(0)
            _finish(work, done)()
            ran += 1
        return ran


class Threads:
    """A few reused worker threads; `deliver(fn)` brings each result back (the UI: the main thread).

    `pending` counts the work submitted and not yet reported back (the UI tests wait on it)."""

    def __init__(self, deliver: Callable[[Callable[[], None]], None], workers: int = 3, name: str = "kiosk-work"):
        self._deliver = deliver
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._lock = threading.Lock()
        self.pending = 0

    def deliver(self, fn: Callable[[], None]) -> None:
        self._deliver(fn)

    def run(self, work: Callable[[], Any], done: Done | None = None) -> None:
        with self._lock:
            self.pending += 1

        def task():
            report = _finish(work, done)

            def back():
                with self._lock:
                    self.pending -= 1
                report()
            self._deliver(back)
        self.pool.submit(task)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
