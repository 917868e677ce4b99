"""Citizen pickup at the locker (PickupFlow): a code or a QR code, the ID card when needed, the door.

    CODE --digits/QR--> (wrong: CODE with a notice; the 5th wrong code: LOCKED, 60 s doubling)
         --the code of an item since collected or recalled--> CODE with a notice saying so (not a wrong code)
         --right code--> [ID_CARD --card of the holder-->] OPENING --> DOOR_OPEN
    DOOR_OPEN --door closed--> DONE                      (pickup recorded)
              --door closed, the sensor still sees the item--> ITEM_LEFT --open again / finish-->
              --door open past door_close_timeout_s--> DOOR_LEFT_OPEN  (pickup recorded, alarm)
    OPENING --door does not open after a retry--> DOOR_FAILED  (code still valid, alarm)
    DOOR_OPEN --"the door did not open"--> OPENING once more; the second time HELP (code still valid,
              alarm, the hotline on screen)
    DOOR_OPEN --"Finish" or leaving the visit--> DONE   (pickup recorded; a door still open is watched)

Leaving the visit (kiosk/core/flow.py): a door being unlocked finishes first;
a door standing open (or closed on the certificate) is called back: the
pickup is recorded (with an alarm when the item is still inside) and the
visit ends. A card read or a code check stops with the visit's reset.

A flow on the one base (kiosk/core/flow.py, kiosk/core/locker/base.py): the
steps and their transitions are declared; the blocking parts (checking the
code in the store, the ID card, the door and its watch, recording the pickup)
run on the flow's executor and report each change back to the flow's thread,
where the listeners (the screen) hear of it and render `step`, `notice` and
the figures. The code the citizen types lives in `digits` only until it is
checked; the store holds only its keyed hash. No user-facing text here: steps
and notices are codes the screen turns into sentences.
"""
from __future__ import annotations

import enum
import logging
import math
import threading
import time
from typing import Callable

from kiosk.core.background import Executor
from kiosk.core.flow import FREE, Clock, Leave, Leaving
from kiosk.core.locker import doors
from kiosk.core.locker.base import LockerFlow
from kiosk.core.locker.model import DEVICE, Item, LockerModel
from kiosk.core.steps import Steps
from kiosk.hardware.device import CancelToken

log = logging.getLogger(__name__)

class Step(str, enum.Enum):
    CODE = "code"
    LOCKED = "locked"
    CHECKING = "checking"
    ID_CARD = "id_card"
    OPENING = "opening"
    DOOR_OPEN = "door_open"
    ITEM_LEFT = "item_left"
    DOOR_LEFT_OPEN = "door_left_open"
    DONE = "done"
    DOOR_FAILED = "door_failed"
    HELP = "help"                        # the door did not open for the citizen twice: staff come


class Notice(str, enum.Enum):
    WRONG_CODE = "wrong_code"
    OVERDUE = "overdue"                  # collect_when_overdue = false: staff hand it over
    NOT_A_PICKUP_CODE = "not_a_pickup_code"
    ID_MISMATCH = "id_mismatch"
    NO_CARD = "no_card"
    CARD_NOT_READ = "card_not_read"
    NO_ID_READER = "no_id_reader"
    DOOR_BUSY = "door_busy"
    ALREADY_COLLECTED = "already_collected"   # the code's item was collected (`ended_at` says when)
    RECALLED = "recalled"                     # the code's item went back to the window with staff


# the steps the citizen is told of: the code, the holder's ID card where the certificate needs it, the door
STEPS = Steps(("code", "id_card", "door"), {
    Step.CODE: "code", Step.LOCKED: "code", Step.CHECKING: "code",
    Step.ID_CARD: "id_card",
    Step.OPENING: "door", Step.DOOR_OPEN: "door", Step.ITEM_LEFT: "door", Step.DOOR_LEFT_OPEN: "door",
    Step.DONE: None, Step.DOOR_FAILED: None, Step.HELP: None,
}, optional=("id_card",))

LEAVING = {
    Step.OPENING: Leaving(Leave.FINISH, "door_opening"),
    Step.DOOR_OPEN: Leaving(Leave.CANCEL, "door_open"),    # recorded, then the visit ends
    Step.ITEM_LEFT: Leaving(Leave.CANCEL, "item_left"),    # recorded with an alarm, then the visit ends
}


class PickupFlow(LockerFlow[Step]):
    name = "pickup"
    steps = STEPS
    waits = {Step.ID_CARD: "card_reading_s", Step.OPENING: "door_opening_s"}
    transitions = {
        Step.CODE: {Step.LOCKED, Step.ID_CARD, Step.OPENING},
        Step.LOCKED: {Step.CODE},
        Step.ID_CARD: {Step.OPENING},
        Step.OPENING: {Step.DOOR_OPEN, Step.DOOR_FAILED, Step.HELP},
        Step.DOOR_OPEN: {Step.DONE, Step.DOOR_LEFT_OPEN, Step.ITEM_LEFT, Step.OPENING, Step.HELP},
        Step.DOOR_LEFT_OPEN: {Step.DONE},
        Step.ITEM_LEFT: {Step.OPENING, Step.DONE},
        # DONE, DOOR_FAILED and HELP end the visit: the next one starts from CODE (begin, end_visit)
    }

    def __init__(self, model: Callable[[], LockerModel], locker, *, rules, hash_key: str, idcard=None,
                 scanner=None, clock: Clock = time.monotonic, executor: Executor | None = None,
                 scan_executor: Executor | None = None):
        super().__init__(Step.CODE, model, locker, executor=executor, clock=clock, scanner=scanner,
                         scan_executor=scan_executor)
        self.idcard = idcard
        self.rules = rules
        self.key = hash_key
        self._busy = threading.Lock()
        self._reset_fields()

    def _reset_fields(self) -> None:
        self.notice: Notice | None = None
        self.digits = ""
        self.tries_left = self.rules.wrong_codes_before_lockout
        self.locked_until = 0.0
        self.item: Item | None = None
        self.via = "keypad"
        self.id_checked = False
        self.door: int | None = None
        self.position: tuple[str, str] = ("", "")
        self.column = self.row = 0
        self.recorded = False
        self.transaction_id: str | None = None
        self.help_asked = 0
        self.reading_card = False    # a read of the holder's card is under way
        self.ended_at: float | None = None   # when the item of a spent code was collected or recalled (unix s)

    # --- leaving the visit (kiosk/core/flow.py) ------------------------------------------------------
    def leaving(self, idle: bool) -> Leaving:
        if idle and self.step is Step.DOOR_OPEN:
            # the citizen is taking the certificate; the door's own timeout ends the wait, not the idle timer
            return Leaving(Leave.FINISH, "door_open")
        return LEAVING.get(self.step, FREE)

    def cancel_in_flight(self) -> None:
        """The citizen leaves with the door open (or closed on the certificate): record the pickup."""
        if self.step is Step.DOOR_OPEN:
            self._stop_watch("")
        elif self.step is Step.ITEM_LEFT:
            self.finish_with_item_left()

    def end_visit(self) -> None:
        """After the visit's wipe: what is under way stops, a certificate left inside is recorded (on the
        executor, after the step under way), and then nothing of the visit stays in the flow."""
        self.cancel()

        def forget(_result, _error) -> None:
            self._restart()
            self._interrupt = ""
            self._reset_fields()
            self.changed()
        self._work(self._leave, forget)

    def skipped_steps(self) -> set[str]:
        # no card reader: no certificate can be handed over by card here; a code found: its item says
        if self.idcard is None or (self.item is not None and not self.item.needs_id_card):
            return {"id_card"}
        return set()

    # --- the keypad ----------------------------------------------------------------------------

    def begin(self) -> None:
        """A new citizen: an empty keypad, or the lockout countdown if one runs (read from the store
        on the executor, once what the last visit left under way has ended)."""
        self._restart()

        def work() -> int:
            self._cancel = CancelToken()
            return self.model.locked_for()

        def shown(left, error) -> None:
            self._reset_fields()
            if error is not None:
                log.error("pickup: the lockout could not be read: %s", error)
            if left:
                self.locked_until = self.clock() + left
                self._show(Step.LOCKED, None)
            else:
                self._show(Step.CODE, None)
        self._work(work, shown)

    def seconds_locked(self) -> int:
        return max(0, math.ceil(round(self.locked_until - self.clock(), 3)))

    def unlock_if_due(self) -> bool:
        """The countdown ended: back to the keypad. True when the step changed."""
        if self.step is Step.LOCKED and self.seconds_locked() == 0:
            self._show(Step.CODE, None)
            return True
        return False

    def press(self, digit: str) -> bool:
        """One key; True when the code is complete and should be submitted."""
        if self.step is not Step.CODE or not digit.isdigit() or len(digit) != 1 or len(self.digits) >= 8:
            return False
        self.digits += digit
        self._show(notice=None)
        return len(self.digits) == self.rules.code_length

    def backspace(self) -> None:
        self.digits = self.digits[:-1]
        self._show(notice=None)

    def clear(self) -> None:
        self.digits = ""
        self._show(notice=None)

    @property
    def can_submit(self) -> bool:
        return self.step is Step.CODE and 6 <= len(self.digits) <= 8

    # --- the scanner (listened to by the base: start_scanning) -------------------------------------
    def scanned(self, code) -> None:
        """A code from the scanner (kiosk.hardware.scanner.ScannedCode)."""
        if self.step is not Step.CODE:
            return
        if getattr(code, "kind", None) is None or code.kind.value != "pickup_code":
            self._show(notice=Notice.NOT_A_PICKUP_CODE)
            return
        self.digits = code.value
        self.submit(via="qr")

    def submit(self, via: str = "keypad") -> None:
        """Check the code typed (or scanned): on the executor, and on to the card or the door."""
        if self.step is not Step.CODE:
            return
        code, self.digits = self.digits, ""

        def work() -> None:
            if not self._busy.acquire(blocking=False):
                return
            try:
                self._submit(code, via)
            finally:
                self._busy.release()
        self._work(work)

    def _submit(self, code: str, via: str) -> None:
        model = self.model
        left = model.locked_for()
        if left:
            self.locked_until = self.clock() + left
            self._report(Step.LOCKED, None)
            return
        item = model.find_by_code(code) if 6 <= len(code) <= 8 else None
        if item is None:
            # a held item with the code comes first (codes are drawn again); then a spent code is told
            # apart from a wrong one: the citizen learns where the item went, and no lockout comes nearer
            ended = model.ended_by_code(code) if 6 <= len(code) <= 8 else None
            if ended is not None:
                log.info("pickup: the code of case %s, %s, was used again", ended.case_number, ended.state)
                self.ended_at = ended.ended_at
                self._report(Step.CODE, Notice.ALREADY_COLLECTED if ended.state == "collected" else Notice.RECALLED)
                return
            locked, self.tries_left = model.wrong_code()
            if locked:
                self.locked_until = self.clock() + locked
                self._report(Step.LOCKED, None)
            else:
                self._report(Step.CODE, Notice.WRONG_CODE)
            return
        if item.door in model.in_use:
            self._report(Step.CODE, Notice.DOOR_BUSY)
            return
        if item.overdue(model.clock()) and not self.rules.collect_when_overdue:
            self._report(Step.CODE, Notice.OVERDUE)
            return
        model.good_code()
        self.item, self.via = item, via
        self._show_door(item.door)
        if item.needs_id_card:
            if self.idcard is None:
                self.item = None
                self._report(Step.CODE, Notice.NO_ID_READER)
                return
            self._report(Step.ID_CARD, None)
            return
        self._open()

    def _show_door(self, door: int) -> None:
        plan = self.model.plan
        self.door = door
        self.position = plan.position(door)
        self.column, self.row = plan.doors[door].column, plan.doors[door].row

    # --- the ID card ----------------------------------------------------------------------------------

    def read_card(self) -> None:
        """Wait for the holder's ID card (on the executor); the door opens when it matches."""
        if self.item is not None:
            self._read_holder(Step.ID_CARD, Notice.ID_MISMATCH, self.item.holder_hash, self._holder_matched)

    def _holder_matched(self, _holder: str) -> None:
        self.id_checked = True
        self._open()

    # --- the door (on the executor) -------------------------------------------------------------------

    def _open(self) -> None:
        item, model = self.item, self.model
        self._report(Step.OPENING, None)
        model.begin(item, "pickup", via=self.via, id_checked=self.id_checked)
        opened = self._unlock(item, "a pickup")
        if not opened:
            model.abandon(item)
            if opened is False:
                self._report(Step.DOOR_FAILED, None)
            return
        self._report(Step.DOOR_OPEN, None)
        self._watch()

    def _watch(self) -> None:
        item, model = self.item, self.model
        try:
            closed = doors.watch_closed(self.locker, item.door, self.rules.door_close_timeout_s, self._cancel, self.clock)
        except doors.DoorFailure:
            why, self._interrupt = self._interrupt, ""
            if why == "help":
                self._cancel = CancelToken()
                self._door_help()
                return
            # the citizen finished while the door was still open: recorded, and watched by the health poll
            self._record(door_left_open=True)
            self._report(Step.DONE, None)
            return
        if not closed.closed:
            self._door_left_open(item, "a pickup", Step.DOOR_LEFT_OPEN, Step.DONE,
                                 lambda: self._record(door_left_open=True))
            return
        if closed.item_present:
            self._report(Step.ITEM_LEFT, None)
            return
        self._record()
        self._report(Step.DONE, None)

    def _record(self, **flags) -> None:
        if self.recorded:
            return
        self.transaction_id = self.model.finish(self.item, **flags)
        self.recorded = self.transaction_id is not None
        if self.recorded:
            log.info("pickup recorded: case %s, door %d", self.item.case_number, self.item.door)

    def _door_help(self) -> None:
        """The first time the door is unlocked again; the second time staff are called."""
        opened = self._open_once_more(self.item, "a pickup", Step.OPENING, Step.DOOR_OPEN)
        if opened:
            self._watch()
        elif opened is False:
            self.model.abandon(self.item)   # nothing was taken: the code stays valid once staff freed the door
            self._report(Step.HELP, None)

    def open_again(self) -> None:
        """ITEM_LEFT: the citizen closed the door on the certificate; open it once more."""
        if self.step is Step.ITEM_LEFT:
            self._work(self._open_again)

    def _open_again(self) -> None:
        self._report(Step.OPENING, None)
        try:
            doors.open_door(self.locker, self.item.door, self._cancel)
        except doors.DoorFailure as exc:
            self.model.alarms.raise_alarm(DEVICE, f"item_left:{self.item.door}",
                                          f"door {self.item.door}: the certificate was left inside and the door "
                                          f"did not open again ({exc.message})")
            self._record(item_left=True)
            self._report(Step.DOOR_FAILED, None)
            return
        self._report(Step.DOOR_OPEN, None)
        self._watch()

    def finish_with_item_left(self) -> None:
        """ITEM_LEFT and the citizen goes: recorded, and staff are told the item is still inside."""
        if self.step is Step.ITEM_LEFT:
            self._work(self._finish_item_left)

    def _finish_item_left(self) -> None:
        if self._at is not Step.ITEM_LEFT:
            return
        self.model.alarms.raise_alarm(DEVICE, f"item_left:{self.item.door}",
                                      f"door {self.item.door}: the sensor still sees case {self.item.case_number} "
                                      "after the pickup")
        self._record(item_left=True)
        self._report(Step.DONE, None)

    def leave(self) -> None:
        """The visit ends (done, cancel, idle): nothing may stay half done. A wait under way stops and
        records what it must; then (on the executor, after it) a certificate the sensor still sees is
        recorded with an alarm."""
        self.cancel()
        self._work(self._leave)

    def _leave(self) -> None:
        if self._at is Step.ITEM_LEFT:
            self._finish_item_left()

    def cancel(self) -> None:
        """The citizen leaves (or the visit is wiped): stop any wait at its next check."""
        self._cancel_waits(("ID card reader", self.idcard))
