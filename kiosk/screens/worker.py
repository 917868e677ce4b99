"""Blocking work off the Kivy main thread, its reports and results back on it.

`KivyWorker` implements the `Worker` of kiosk.core.guides: the work runs on
one background thread per worker (device I/O in order, one job after the
other), and each progress report and the final outcome are handed to the main
thread with `Clock.schedule_once`, where flows change state and widgets are
touched. One worker per flow, made once per process.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from kivy.clock import Clock

from kiosk.core.guides import Outcome

log = logging.getLogger(__name__)


class KivyWorker:
    def __init__(self, name: str):
        self.name = name
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"kiosk-{name}")
        self.pending = 0   # jobs submitted and not yet reported back (the UI tests wait on it)

    def run(self, work, progress, done) -> None:
        self.pending += 1

        def on_main(fn, value):
            Clock.schedule_once(lambda _dt: fn(value), 0)

        def finish(outcome: Outcome) -> None:
            self.pending -= 1
            done(outcome)

        def job():
            try:
                value = work(lambda x: on_main(progress, x))
            except Exception as exc:
                on_main(finish, Outcome(error=exc))
            else:
                on_main(finish, Outcome(value))

        self._pool.submit(job)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
