"""What the three locker flows share on top of the flow base (kiosk/core/flow.py).

A locker step is long: a door is unlocked, then watched for minutes until it
closes, and the flow's state moves several times within the one blocking
step. So a step's work reports each change with `_report(step, notice)`: the
change is delivered to the flow's own thread (the UI's main thread) through
the executor, and dropped when the visit the work started in has ended. What
the UI thread decides itself (a key, a chosen size) it shows at once with
`_show`. The work keeps `_at`, the step it last reported, for the decisions it
takes itself (leaving with the certificate still inside); the store is read
and written only in work, on a connection of the worker's own thread.
"""
from __future__ import annotations

import enum
import logging
import time
from typing import Any, Callable, Generic, TypeVar

from kiosk.core.background import Done, Executor
from kiosk.core.flow import Clock, Flow
from kiosk.core.locker.model import LockerModel
from kiosk.hardware.device import CancelToken
from kiosk.store import PerThread

log = logging.getLogger(__name__)

S = TypeVar("S", bound=enum.Enum)


class LockerFlow(Flow[S], Generic[S]):
    def __init__(self, initial: S, model: Callable[[], LockerModel], locker, *,
                 executor: Executor | None = None, clock: Clock = time.monotonic):
        super().__init__(initial, executor=executor, clock=clock)
        self._model = PerThread(model)   # one model (one connection) per thread that uses it
        self.locker = locker
        self.notice: Any = None
        self._cancel = CancelToken()
        self._at: S = initial            # the step the work last reported (the work's own view)
        self._work_visit = self.visit

    @property
    def step(self) -> S:
        return self.state

    @property
    def model(self) -> LockerModel:
        return self._model()

    # -- running a step ---------------------------------------------------------------------------
    def _work(self, work: Callable[[], Any], done: Done | None = None) -> None:
        """`work` on the executor, for this visit: its `_report`s reach the flow only while the visit lasts."""
        visit = self.visit

        def step():
            self._work_visit = visit
            return work()
        self.run(step, done)

    def _report(self, step: S | None = None, notice: Any = False) -> None:
        """From the work: a change of step and/or notice, delivered to the flow's thread."""
        if step is not None:
            self._at = step
        self.deliver(lambda: self._show(step, notice), self._work_visit)

    def _show(self, step: S | None = None, notice: Any = False) -> None:
        """On the flow's thread: apply a change and tell the listeners."""
        if notice is not False:
            self.notice = notice
        if step is not None:
            self._at = step
            self.go(step)
        else:
            self.changed()

    def _cancel_waits(self, *devices: tuple[str, Any]) -> None:
        """Stop the flow's own wait and the reads of `devices` ((what, device or None), e.g. the ID card
        reader) at their next check; a device that fails to cancel is logged, never raised."""
        self._cancel.cancel()
        for what, device in devices:
            if device is not None:
                try:
                    device.cancel()
                except Exception:
                    log.exception("%s: cancel failed", what)

    def _restart(self) -> None:
        """A new visit (or the next item), at the initial step: late reports of the last one are
        dropped from now on. The listeners are not told: the caller shows what comes next."""
        self.new_visit()
        self._at = self._initial
