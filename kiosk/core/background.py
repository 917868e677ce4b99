"""Where a flow's slow work runs: device I/O and network calls off the UI thread, results back on it.

A flow hands `run(work, done)` a blocking function and a callback; `done(result, error)`
is called with the function's return value or the exception it raised. `Inline` runs
both at once on the caller's thread (flow tests); `Held` keeps the work until a test
releases it, so a test can look at the "waiting" state in between; `Threads` runs the
work on a small pool of reused threads and hands `done` to `deliver`, which the UI
sets to "schedule on the Kivy main thread" (screens then only ever see state changes
on the thread that owns the widgets).
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Protocol

log = logging.getLogger(__name__)

Done = Callable[[Any, BaseException | None], None]


class Background(Protocol):
    def run(self, work: Callable[[], Any], done: Done) -> None: ...


class Inline:
    """Runs the work now, on this thread: for flow tests and command-line tools."""

    def run(self, work: Callable[[], Any], done: Done) -> None:
        try:
            result = work()
        except Exception as exc:  # the flow decides what an error means; it must hear of every one
            done(None, exc)
        else:
            done(result, None)


class Held:
    """Keeps each piece of work until `release()`: a test sees the state while the work is under way."""

    def __init__(self):
        self.waiting: list[tuple[Callable[[], Any], Done]] = []

    def run(self, work: Callable[[], Any], done: Done) -> None:
        self.waiting.append((work, done))

    def release(self, count: int | None = None) -> int:
        """Run the oldest `count` (default: all, including any queued meanwhile); returns how many ran."""
        ran = 0
        while self.waiting and (count is None or ran < count):
            work, done = self.waiting.pop(0)
            Inline().run(work, done)
            ran += 1
        return ran


class Threads:
    """A few reused worker threads; `deliver(fn)` brings each result back (the UI: the main thread)."""

    def __init__(self, deliver: Callable[[Callable[[], None]], None], workers: int = 3, name: str = "kiosk-work"):
        self.deliver = deliver
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)

    def run(self, work: Callable[[], Any], done: Done) -> None:
        def task():
            try:
                result, error = work(), None
            except Exception as exc:
                result, error = None, exc
            self.deliver(lambda: done(result, error))
        self.pool.submit(task)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
