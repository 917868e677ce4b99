"""What the locker flows share on top of the flow base (kiosk/core/flow.py).

A locker step is long: a door is unlocked, then watched for minutes until it
closes, and the flow's state moves several times within the one blocking
step. So a step's work reports each change with `_report(step, notice)`: the
change is delivered to the flow's own thread (the UI's main thread) through
the executor, and dropped when the visit the work started in has ended. What
the UI thread decides itself (a key, a chosen size) it shows at once with
`_show`. The work keeps `_at`, the step it last reported, for the decisions it
takes itself (leaving with the certificate still inside); the store is read
and written only in work, on a connection of the worker's own thread.

The device steps every flow takes the same way live here too, on top of
kiosk/core/locker/doors.py: unlocking a door with its alarm (`_unlock`), the
second unlock when the person at the door says it did not open (`_open_once_more`),
waiting for a door to close while the person may tap Finish or ask for help
(`_wait_closed`), a door left standing open (`_door_left_open`), reading the
holder's ID card into its keyed hash (`_holder_on_card`), and listening to the
scanner while a code is asked for (`start_scanning`, kiosk/core/scanning.py).
"""
from __future__ import annotations

import enum
import logging
import time
from typing import Any, Callable, Generic, TypeVar

from kiosk.core.background import Done, Executor
from kiosk.core.flow import Clock, Flow
from kiosk.core.locker import doors
from kiosk.core.locker.model import BOARD, DEVICE, Item, LockerModel
from kiosk.core.privacy import holder_hash, remember_person
from kiosk.core.scanning import ScannerListening
from kiosk.core.steps import device_wait
from kiosk.hardware.device import CancelToken, Completion, DeviceError
from kiosk.hardware.locker import TIMEOUTS as LOCKER_TIMEOUTS
from kiosk.hardware.receipt import TIMEOUTS as RECEIPT_TIMEOUTS
from kiosk.store import PerThread

log = logging.getLogger(__name__)

S = TypeVar("S", bound=enum.Enum)

# how long the person has to close a door left open before the flow stops watching it (the health
# poll's reconciliation watches it from then on)
LEFT_OPEN_WATCH_S = 300.0


class LockerFlow(ScannerListening, Flow[S], Generic[S]):
    def __init__(self, initial: S, model: Callable[[], LockerModel], locker, *,
                 executor: Executor | None = None, clock: Clock = time.monotonic,
                 scanner=None, scan_executor: Executor | None = None):
        super().__init__(initial, executor=executor, clock=clock)
        self._model = PerThread(model)   # one model (one connection) per thread that uses it
        self.locker = locker
        self.notice: Any = None
        self._cancel = CancelToken()
        self._at: S = initial            # the step the work last reported (the work's own view)
        self._work_visit = self.visit
        self._interrupt = ""             # why a door's watch was stopped: help | finish | "" (the visit ends)
        self.help_asked = 0              # times the person said the open door did not open
        self.reading_card = False        # a read of the holder's ID card is under way
        self.scanner = scanner
        # where the scanner is listened to while a code is asked for: a loop that runs as long as that
        # step is on screen, so an executor of its own (without one the scanner is not listened to)
        self.scan_executor = scan_executor

    @property
    def step(self) -> S:
        return self.state

    @property
    def model(self) -> LockerModel:
        return self._model()

    # -- how long the waits on the devices take at most (the screens say it: Flow.waits) -------------------
    @property
    def door_opening_s(self) -> float:
        """An unlock's answer and the door reporting open, twice: doors.open_door tries once more."""
        return 2 * device_wait(self.locker, LOCKER_TIMEOUTS, "unlock_reply", "open_confirm")

    @property
    def card_reading_s(self) -> float:
        return float(self.rules.id_card_timeout_s)

    @property
    def receipt_printing_s(self) -> float:
        return device_wait(getattr(self, "printer", None), RECEIPT_TIMEOUTS, "write")

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

    # -- the door (in the work) ---------------------------------------------------------------------
    def _unlock(self, item: Item, what: str) -> bool | None:
        """Unlock `item`'s door for `what` ("a pickup", "a deposit", ...), the intent or reservation
        committed before by the caller. True: it reports open (its door_not_opened alarm cleared);
        False: it did not open after a retry, and the board's door_not_opened alarm is raised; None:
        the flow was canceled. On False and None the caller lets go of what it committed."""
        alarms = self.model.alarms
        try:
            doors.open_door(self.locker, item.door, self._cancel)
        except doors.DoorFailure as exc:
            if exc.reason == "canceled":
                return None
            alarms.raise_alarm(BOARD, f"door_not_opened:{item.door}",
                               f"door {item.door} did not open for {what} (case {item.case_number}): {exc.message}")
            return False
        alarms.clear(BOARD, f"door_not_opened:{item.door}", "opened")
        return True

    def _open_once_more(self, item: Item, what: str, opening: S, door_open: S) -> bool | None:
        """The person at the door says it did not open although the board reports it open. The first
        time it is unlocked once more (`opening`, then `door_open` reported): True when it reports open
        again, None when the flow was canceled. Else False, with the board's door_stuck alarm: staff
        must come, and the caller lets go of the door."""
        self.help_asked += 1
        if self.help_asked == 1:
            log.info("%s: door %d did not open for the person there; unlocking it again", self.name, item.door)
            self._report(opening, None)
            opened = doors.open_once_more(self.locker, item.door, self._cancel)
            if opened is None:
                return None
            if opened:
                self._report(door_open, None)
                return True
        self.model.alarms.raise_alarm(BOARD, f"door_stuck:{item.door}",
                                      f"door {item.door} did not open for {what} (case {item.case_number}), "
                                      "although the board reports it open")
        return False

    def _stop_watch(self, why: str) -> None:
        """From the flow's thread: end the door's watch now, for `why` (help | finish)."""
        self._interrupt = why
        self._cancel.cancel()

    # the steps (values) in which a door stands open and its watch takes the person's word
    open_steps: tuple[str, ...] = ("door_open",)

    def finish_open(self) -> None:
        """The person taps Finish at the open door: the watch looks at the door now (what follows is the flow's)."""
        if self.step.value in self.open_steps:
            self._stop_watch("finish")

    def door_did_not_open(self) -> None:
        """The person says the open door did not open: the watch stops, and `_door_help` unlocks it once more
        or calls staff."""
        if self.step.value in self.open_steps:
            self._stop_watch("help")

    def _door_help(self) -> None:
        """The person said the open door did not open (the flows that wait with `_wait_closed`)."""
        raise NotImplementedError

    def _wait_closed(self, item: Item, timeout: float, still_open: Any) -> doors.Closed | None:
        """Watch `item`'s door until it closes, or `timeout` passes (Closed(False)). The person's word
        stops the watch early (`_stop_watch`): "finish" looks at the door at once (closed: returned;
        still open: the notice `still_open`, and the watch goes on), "help" runs `_door_help` and
        returns None. None too when the watch was stopped without a word: the visit ended, and its
        end settles the door."""
        while True:
            try:
                return doors.watch_closed(self.locker, item.door, timeout, self._cancel, self.clock)
            except doors.DoorFailure:
                why, self._interrupt = self._interrupt, ""
                if not why:
                    return None
                self._cancel = CancelToken()
                if why == "help":
                    self._door_help()
                    return None
                closed = doors.watch_closed(self.locker, item.door, 0, self._cancel, self.clock)
                if closed.closed:
                    return closed
                self._report(notice=still_open)

    def _door_left_open(self, item: Item, what: str, left_open: S, done: S, record: Callable[[], None]) -> None:
        """`item`'s door stood open past its timeout after `what`: the door_left_open alarm (cleared
        when it closes), `record()`, `left_open` reported, and LEFT_OPEN_WATCH_S more for someone to
        close it (then `done`)."""
        alarms = self.model.alarms
        alarms.raise_alarm(DEVICE, f"door_left_open:{item.door}",
                           f"door {item.door} was left open after {what} (case {item.case_number})")
        record()
        self._report(left_open, None)
        try:
            closed = doors.watch_closed(self.locker, item.door, LEFT_OPEN_WATCH_S, self._cancel, self.clock)
        except doors.DoorFailure:
            return
        if closed.closed:
            alarms.clear(DEVICE, f"door_left_open:{item.door}", "closed")
            self._report(done, None)

    # -- the ID card --------------------------------------------------------------------------------
    def _read_holder(self, at: S, mismatch: Any, expected: str | None, matched: Callable[[str], None]) -> None:
        """On the flow's thread, at step `at`: wait for the ID card on the executor, one read at a time
        (`reading_card`). The keyed hash of the card read goes to `matched(holder)` in the work, unless
        `expected` is set and differs: then the flow's notice `mismatch`, still at `at`. No card read:
        the reader's reason as the flow's notice of that name (no_card | card_not_read)."""
        if self.step is not at or self.reading_card:
            return
        self.reading_card = True
        notices = type(mismatch)

        def work() -> None:
            holder = self._holder_on_card(self.idcard, self.rules.id_card_timeout_s, self.key,
                                          lambda why: self._report(at, notices(why)))
            if holder is None:
                return
            if expected is not None and holder != expected:
                log.info("%s: the ID card read is not the holder's", self.name)
                self._report(at, mismatch)
                return
            matched(holder)

        def ended(_result, _error) -> None:
            self.reading_card = False
        self._work(work, ended)

    def _holder_on_card(self, idcard, timeout: float, key: str, not_read: Callable[[str], None]) -> str | None:
        """Read the ID card on `idcard` (within `timeout` s; the flow's cancel stops it) into the keyed
        hash of its number; nothing else of the card is kept. None when no card was read:
        `not_read("no_card" | "card_not_read")` has said why (it is not called when canceled)."""
        try:
            card = idcard.read_card(timeout, self._cancel)
        except DeviceError as exc:
            if exc.completion is not Completion.CANCELED:
                not_read("no_card" if exc.detail == "no_card" else "card_not_read")
            return None
        remember_person(card.name, card.id_number)
        return holder_hash(key, card.id_number)
