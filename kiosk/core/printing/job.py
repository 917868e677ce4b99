"""One A4 print job: a PDF handed to the document printer (a CUPS queue) and followed to its end.

The one reading of a job's state for every service that prints on A4 (the documents of
documents.py, the guides of kiosk/core/guides/flow.py). `A4Job.poll()` is one look at the job
and, while it is not done, at its queue; it returns what that look says:

    Printing  the job goes on (`info` None when the printer did not answer this time)
    Printed   the job completed (CUPS handed it to the printer)
    Stopped   it will not complete: CUPS aborted or canceled it, the queue cannot go on (paper out,
              cover open, stopped: the queue's reason), it is past its deadline, or the printer did
              not answer three times running. `cause` is the snake-case reason for the citizen's
              sentence and the alarm; `live` says the job is still in the queue, so the caller
              cancels it (`cancel()`) and it never prints later, after the citizen was told or refunded.

`follow()` is the same poll in a blocking loop, for a worker that waits for the end (the guides);
the documents flow polls step by step on its executor so the screen follows the job. Both take
their time from what is injected (the clock at construction, the sleep at `follow`).
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Callable

from kiosk.hardware.cups import JobInfo

log = logging.getLogger(__name__)

MISSES = 3   # polls in a row without an answer before a job is given up


@dataclass(frozen=True)
class Printing:
    info: JobInfo | None   # None: the printer did not answer this poll


@dataclass(frozen=True)
class Printed:
    info: JobInfo


@dataclass(frozen=True)
class Stopped:
    cause: str             # paper_out, cover_open, stopped, job_aborted, job_canceled, job_timeout, no_answer...
    detail: str            # for the log and the alarm
    info: JobInfo | None = None
    live: bool = False     # still in the queue: cancel it


JobOutcome = Printing | Printed | Stopped


class A4Job:
    """A job on the document printer (kiosk.hardware.cups.CupsPrinter: submit, job, status, cancel_job)."""

    def __init__(self, printer, job_id: int, *, timeout_s: float, clock: Callable[[], float]):
        self.printer = printer
        self.job_id = job_id
        self.timeout_s = timeout_s
        self.clock = clock
        self.deadline = clock() + timeout_s
        self.misses = 0

    @classmethod
    def submit(cls, printer, pdf: str | os.PathLike, *, title: str, timeout_s: float,
               clock: Callable[[], float], copies: int = 1) -> "A4Job":
        """Queue `pdf`; the job has `timeout_s` from now to complete. The printer's DeviceError when it refuses."""
        job_id = printer.submit(pdf, title=title, copies=copies)
        return cls(printer, job_id, timeout_s=timeout_s, clock=clock)

    def poll(self) -> JobOutcome:
        """One look at the job and, unless it completed, at its queue (which says why a job stopped)."""
        try:
            info = self.printer.job(self.job_id)
            status = None if info.completed else self.printer.status()
        except Exception as exc:   # a question the printer does not answer: asked again, up to MISSES times
            return self.missed(exc)
        self.misses = 0
        return self.read(info, status)

    def missed(self, error: BaseException) -> Printing | Stopped:
        """A poll step that failed (the printer did not answer, or what the caller does with a completion
        failed): the job goes on, until the MISSES-th in a row."""
        self.misses += 1
        log.info("job %s: poll step %d of %d failed: %s", self.job_id, self.misses, MISSES, error)
        if self.misses < MISSES:
            return Printing(None)
        return Stopped(getattr(error, "detail", "") or "printer_unreachable", str(error), live=True)

    def read(self, info: JobInfo, status) -> JobOutcome:
        """What the job's state and the queue's status (None when not asked) say."""
        if info.completed:
            return Printed(info)
        if info.final:
            cause = (status.detail if status is not None and not status.usable else "") or info.failure_detail
            return Stopped(cause, f"job {info.job_id} {info.state_name} "
                                  f"({', '.join(info.reasons) or info.message or 'no reason'})", info)
        if status is not None and not status.usable:
            return Stopped(status.detail or status.state.value, f"printer {status.state.value} mid-job", info,
                           live=True)
        if self.clock() >= self.deadline:
            return Stopped("job_timeout", f"job {info.job_id} still {info.state_name} after {self.timeout_s:g} s",
                           info, live=True)
        return Printing(info)

    def follow(self, sleep: Callable[[float], None], every: float,
               progress: Callable[[JobInfo], None] = lambda info: None) -> Printed | Stopped:
        """Poll until the job ends, `every` seconds apart; `progress(info)` each time its state or pages
        change. A job stopped while still in the queue is canceled before this returns."""
        seen = None
        while True:
            outcome = self.poll()
            if outcome.info is not None and (outcome.info.state, outcome.info.pages) != seen:
                seen = (outcome.info.state, outcome.info.pages)
                progress(outcome.info)
            if isinstance(outcome, Printing):
                sleep(every)
                continue
            if isinstance(outcome, Stopped) and outcome.live:
                self.cancel()
            return outcome

    def cancel(self) -> None:
        """Cancel the job, so one that stopped here never prints later; a failure is logged (the alarm
        raised for the stop tells staff to look)."""
        try:
            self.printer.cancel_job(self.job_id)
        except Exception as exc:
            log.warning("job %s could not be canceled: %s", self.job_id, exc)
