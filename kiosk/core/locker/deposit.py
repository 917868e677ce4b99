"""Staff deposit at the locker (DepositFlow): a case number, the item's size, the holder, a door, a code.

    CASE --typed or scanned 办件编号--> OPTIONS --size, ID card at pickup?, low door?-->
      [HOLDER --ID number typed or read from the card-->] OPENING --> DOOR_OPEN
    DOOR_OPEN --door closed (and the sensor sees the item)--> CODE   (deposit recorded; code shown once)
              --closed, the sensor sees nothing--> EMPTY           (nothing recorded; open again or cancel)
              --open past the timeout--> DOOR_LEFT_OPEN            (waits: no code for an open door)
    CODE --seen--> CASE (the next item)
    OPENING --door does not open after a retry--> DOOR_FAILED (alarm; another door can be tried)
    DOOR_OPEN --"the door did not open"--> OPENING once more; the second time DOOR_FAILED (alarm)
    no door of a fitting size free --> NO_FREE_DOOR

The case on the platform: once the case number is taken the flow asks the
platform about it (`CaseLookup`, injected; on an executor of its own, with the
short look-up timeout) while staff already choose the size. Found, the case
gives the rules (ID card at pickup, how long the item is held), the holder (the
keyed hash of the ID number: no card to read) and, for the screen, the item's
name and the applicant's masked mobile number. Not found, or the platform
cannot answer: the deposit goes on as staff set it, as without a platform.
Nothing waits for the answer: one that comes after staff have gone on from the
options is not used.

Leaving the visit (kiosk/core/flow.py): a door being unlocked or standing open
for a deposit finishes first (the item must be in and the door closed before
a code exists), and the code, shown only once, must be confirmed as noted.

A flow on the one base (kiosk/core/flow.py, kiosk/core/locker/base.py): what
staff type or choose is taken at once; the blocking steps (a scan, the card,
reserving and opening a door, watching it, issuing the code) run on the flow's
executor and report each change back to the flow's thread.

The staff member is signed in before (kiosk.core.staff). The holder's ID
number lives only until it is hashed; the store and the `deposit` transaction
keep the keyed hashes of the code and the holder, the case number and the door
(kiosk/core/locker/model.py: and the code sealed to the platform's notifier).
"""
from __future__ import annotations

import enum
import logging
import time
from typing import Callable

from stdnum.cn import ric

from kiosk.core.background import Executor
from kiosk.core.flow import FREE, Clock, Leave, Leaving
from kiosk.core.locker import doors
from kiosk.core.locker.base import LockerFlow
from kiosk.core.locker.cases import CaseLookup, KioskCase
from kiosk.core.locker.model import Item, LockerModel, LockerRuleError, check_case_number
from kiosk.core.privacy import ID_NUMBER, holder_hash, normalise_id_number
from kiosk.hardware.device import CancelToken, Completion, DeviceError
from kiosk.wire.errors import PlatformUnavailable

log = logging.getLogger(__name__)


class Step(str, enum.Enum):
    CASE = "case"
    OPTIONS = "options"
    HOLDER = "holder"
    OPENING = "opening"
    DOOR_OPEN = "door_open"
    DOOR_LEFT_OPEN = "door_left_open"
    EMPTY = "empty"
    CODE = "code"
    NO_FREE_DOOR = "no_free_door"
    DOOR_FAILED = "door_failed"


class Notice(str, enum.Enum):
    BAD_CASE_NUMBER = "bad_case_number"
    CASE_NUMBER_LOOKS_LIKE_ID = "case_number_looks_like_id"
    BAD_ID_NUMBER = "bad_id_number"
    NO_CARD = "no_card"
    CARD_NOT_READ = "card_not_read"
    NO_SCAN = "no_scan"
    CLOSE_THE_DOOR = "close_the_door"


class Lookup(str, enum.Enum):
    """What the platform said about the case (shown beside the options)."""
    NONE = "none"                  # not asked: no platform to ask, or staff went on before the answer
    LOOKING = "looking"
    FOUND = "found"                # rules, holder, item name and masked phone from the case
    NOT_FOUND = "not_found"        # the platform does not know the case: staff set the rules
    UNREACHABLE = "unreachable"    # no answer now (offline, timeout, an answer that is not a case)


class Handover(str, enum.Enum):
    """How the code reaches the applicant, for what staff are told beside it."""
    TEXT = "text"                          # the platform texts it to the case's mobile (shown masked)
    TEXT_ONCE_KNOWN = "text_once_known"    # the platform texts it once it has the case (not found, not asked)
    NO_PHONE = "no_phone"                  # the platform has the case but no mobile number: staff give it on
    STAFF = "staff"                        # no notice key: nothing is sent, staff give it on


LEAVING = {
    Step.OPENING: Leaving(Leave.FINISH, "door_opening"),
    Step.DOOR_OPEN: Leaving(Leave.FINISH, "deposit_door_open"),
    Step.DOOR_LEFT_OPEN: Leaving(Leave.FINISH, "deposit_door_open"),
    Step.CODE: Leaving(Leave.CONFIRM, "code_shown_once"),
}


def check_id_number(value: str) -> str:
    """A holder's ID number as typed: the forms of privacy.ID_NUMBER, check digit verified for 18 characters."""
    v = normalise_id_number(value or "")
    if not ID_NUMBER.fullmatch(v) or (len(v) == 18 and not ric.is_valid(v)):
        raise LockerRuleError("bad_id_number", "not a valid ID number (check the last character)")
    return v


class DepositFlow(LockerFlow[Step]):
    name = "deposit"
    open_steps = ("door_open", "door_left_open")   # staff are there while it stands open: Finish and help work
    transitions = {
        Step.CASE: {Step.OPTIONS},
        Step.OPTIONS: {Step.HOLDER, Step.OPENING, Step.NO_FREE_DOOR},
        Step.HOLDER: {Step.OPENING, Step.NO_FREE_DOOR},
        Step.OPENING: {Step.DOOR_OPEN, Step.DOOR_FAILED},
        Step.DOOR_OPEN: {Step.CODE, Step.EMPTY, Step.DOOR_LEFT_OPEN, Step.OPENING, Step.DOOR_FAILED},
        Step.DOOR_LEFT_OPEN: {Step.CODE, Step.EMPTY, Step.OPENING, Step.DOOR_FAILED},
        Step.EMPTY: {Step.OPENING, Step.DOOR_FAILED},
        Step.DOOR_FAILED: {Step.OPENING, Step.NO_FREE_DOOR},
        Step.CODE: {Step.CASE},    # the code noted: the next item
        # NO_FREE_DOOR: staff go back to the menu; the next deposit starts from CASE (begin)
    }

    def __init__(self, model: Callable[[], LockerModel], locker, *, rules, hash_key: str, idcard=None,
                 scanner=None, clock: Clock = time.monotonic, executor: Executor | None = None,
                 cases: CaseLookup | None = None, lookup_executor: Executor | None = None):
        super().__init__(Step.CASE, model, locker, executor=executor, clock=clock, scanner=scanner)
        self.idcard = idcard
        self.cases = cases
        # the look-up runs beside the door steps, so that a deposit never queues behind a slow answer
        self.lookup_executor = lookup_executor if lookup_executor is not None else self.executor
        self.rules = rules
        self.key = hash_key
        self.staff_id: str | None = None
        self._reset_item()

    def _reset_item(self) -> None:
        self.notice: Notice | None = None
        self.case_number = ""
        self.size = "medium"
        self.require_id = True
        self.prefer_low = False
        self.holder: str | None = None
        self.item: Item | None = None
        self.failed_doors: set[int] = set()
        self.code: str | None = None
        self.door: int | None = None
        self.help_asked = 0
        self.lookup = Lookup.NONE
        self.case: KioskCase | None = None     # the case as the platform knows it (Lookup.FOUND)
        self._asked: object | None = None      # the look-up under way; a late answer of another is dropped
        self.texted = False                    # the code went to the platform's notifier, sealed

    # --- what the platform knows of the case ----------------------------------------------------------
    @property
    def item_name(self) -> str | None:
        return self.case.item_name if self.case else None

    @property
    def phone_masked(self) -> str | None:
        return self.case.phone_masked if self.case else None

    @property
    def hold_days(self) -> int | None:
        return self.case.hold_days if self.case else None

    @property
    def days_held(self) -> int:
        """How long this item will be held: the case's hold time, else [pickup] hold_days."""
        return self.hold_days or self.rules.hold_days

    @property
    def handover(self) -> Handover:
        if not self.texted:
            return Handover.STAFF
        if self.lookup is Lookup.FOUND:
            return Handover.TEXT if self.phone_masked else Handover.NO_PHONE
        return Handover.TEXT_ONCE_KNOWN

    @property
    def holder_from_case(self) -> bool:
        return self.case is not None and self.holder is not None and self.holder == self.case.holder_hash

    # --- leaving the visit (kiosk/core/flow.py) ------------------------------------------------------
    def leaving(self, idle: bool) -> Leaving:
        if idle and self.step is Step.CODE:
            # staff walked away: the code must not stay on an unattended screen (the item is recorded)
            return FREE
        return LEAVING.get(self.step, FREE)

    def cancel_in_flight(self) -> None:
        """Nothing to call back: an open door finishes its deposit, a code waits to be noted."""

    # --- the item --------------------------------------------------------------------------------

    def begin(self, staff_id: str) -> None:
        self._restart()
        self.staff_id = staff_id
        self._cancel = CancelToken()
        self._reset_item()
        self._show(Step.CASE, None)

    def set_case(self, text: str) -> bool:
        try:
            self.case_number = check_case_number(text)
        except LockerRuleError as exc:
            self._show(notice=Notice(exc.code))
            return False
        self.lookup = Lookup.LOOKING if self.cases is not None else Lookup.NONE
        self._show(Step.OPTIONS, None)
        if self.cases is not None:
            self._look_up(self.case_number)
        return True

    def _look_up(self, case_number: str) -> None:
        """Ask the platform about the case, on the look-up executor; the answer is used only while this
        item's options are on screen."""
        asked = self._asked = object()
        visit, cases = self.visit, self.cases

        def answered(case, error) -> None:
            if visit != self.visit or asked is not self._asked:
                log.info("deposit: the platform's answer about case %s came after staff went on", case_number)
                return
            self._asked = None
            self._looked_up(case, error)
        self.lookup_executor.run(lambda: cases.find_case(case_number), answered)

    def _looked_up(self, case: KioskCase | None, error: BaseException | None) -> None:
        if error is not None:
            if not isinstance(error, PlatformUnavailable):
                log.warning("deposit: case %s could not be looked up (%s: %s); staff set the rules",
                            self.case_number, type(error).__name__, error)
            else:
                log.info("deposit: the platform cannot answer about case %s now: %s", self.case_number, error)
            self.lookup = Lookup.UNREACHABLE
        elif case is None:
            self.lookup = Lookup.NOT_FOUND
        else:
            self.case, self.lookup = case, Lookup.FOUND
            # the rules and the holder come from the case: no ID card to read, nothing for staff to decide
            self.require_id = case.needs_id_card
            self.holder = case.holder_hash if case.needs_id_card else None
            log.info("deposit: case %s found on the platform%s", self.case_number,
                     f" (state {case.state})" if case.ended else "")
        self._show()

    def scan_case(self, timeout: float = 30.0) -> bool:
        """Wait for the case number's barcode on the scanner (on the executor). True when a case number
        was taken: known at once with an inline executor; the screen renders the change instead."""
        if self.scanner is None or self.step is not Step.CASE:
            return False
        taken: list[bool] = []

        def work():
            try:
                return self.scanner.read_code(timeout, self._cancel)
            except DeviceError as exc:
                if exc.completion is Completion.CANCELED:
                    return False
                return None

        def scanned(code, error) -> None:
            if code is False:
                return
            if error is not None or code is None:
                self._show(notice=Notice.NO_SCAN)
                return
            taken.append(self.set_case(code.value))
        self._work(work, scanned)
        return bool(taken and taken[0])

    def choose(self, *, size: str | None = None, require_id: bool | None = None,
               prefer_low: bool | None = None) -> None:
        if size is not None:
            if size not in ("small", "medium", "large"):
                raise ValueError(f"size must be small, medium or large, not {size!r}")
            self.size = size
        if require_id is not None and self.lookup is not Lookup.FOUND:   # a found case sets the rule
            self.require_id = require_id
        if prefer_low is not None:
            self.prefer_low = prefer_low
        self._show()

    def confirm_options(self) -> None:
        """OPTIONS done: the holder next when pickup needs the ID card, else the door."""
        if self.step is not Step.OPTIONS:
            return
        if self.lookup is Lookup.LOOKING:    # staff go on: the answer is not waited for, nor used later
            self._asked, self.lookup = None, Lookup.NONE
        if self.require_id and self.holder is None:
            self._show(Step.HOLDER, None)
        else:
            if not self.require_id:
                self.holder = None
            self._work(self._deposit)

    def set_holder_number(self, text: str) -> bool:
        if self.step is not Step.HOLDER:
            return False
        try:
            number = check_id_number(text)
        except LockerRuleError:
            self._show(notice=Notice.BAD_ID_NUMBER)
            return False
        self.holder = holder_hash(self.key, number)
        self._work(self._deposit)
        return True

    def read_holder_card(self) -> bool:
        """The holder's ID card on the reader (staff hold it, or the holder came with it), then the door,
        on the executor. True when the card was read: known at once with an inline executor; the screen
        renders the change instead."""
        if self.step is not Step.HOLDER or self.idcard is None:
            return False
        read: list[bool] = []

        def work() -> bool:
            holder = self._holder_on_card(self.idcard, self.rules.id_card_timeout_s, self.key,
                                          lambda why: self._report(notice=Notice(why)))
            if holder is None:
                return False
            self.holder = holder
            self._deposit()
            return True
        self._work(work, lambda ok, error: read.append(bool(ok) and error is None))
        return bool(read and read[0])

    # --- the door (on the executor) -------------------------------------------------------------------

    def _deposit(self) -> None:
        model = self.model
        self.help_asked = 0
        item = model.reserve(case_number=self.case_number, size=self.size, holder_hash=self.holder,
                             staff_id=self.staff_id or "?", prefer_low=self.prefer_low, avoid=self.failed_doors,
                             item_name=self.item_name, hold_days=self.hold_days)
        if item is None:
            self._report(Step.NO_FREE_DOOR, None)
            return
        self.item, self.door = item, item.door
        self._report(Step.OPENING, None)
        model.in_use.add(item.door)
        opened = self._unlock(item, "a deposit")
        if not opened:
            model.release(item.id)
            model.in_use.discard(item.door)
            if opened is False:
                self.failed_doors.add(item.door)
                self._report(Step.DOOR_FAILED, None)
            return
        self._report(Step.DOOR_OPEN, None)
        self._watch()

    def _watch(self) -> None:
        item, model = self.item, self.model
        timeout = self.rules.door_close_timeout_s
        while True:
            closed = self._wait_closed(item, timeout, Notice.CLOSE_THE_DOOR)
            if closed is None:
                return  # canceled (cancel() settled the reservation), or staff asked for help
            if closed.closed:
                break
            self._report(Step.DOOR_LEFT_OPEN, None)  # staff are at the kiosk: keep asking, no code for an open door
        model.in_use.discard(item.door)
        if closed.item_present is False:
            self._report(Step.EMPTY, None)
            return
        item, self.code = model.complete_deposit(item.id)
        self.item, self.texted = item, model.site.sends_notices
        self._report(Step.CODE, None)

    def _door_help(self) -> None:
        item, model = self.item, self.model
        opened = self._open_once_more(item, "a deposit", Step.OPENING, Step.DOOR_OPEN)
        if opened:
            self._watch()
        elif opened is False:
            model.in_use.discard(item.door)
            model.release(item.id)
            self.failed_doors.add(item.door)
            self._report(Step.DOOR_FAILED, None)

    def another_door(self) -> None:
        """DOOR_FAILED: try the next free door that fits."""
        if self.step is Step.DOOR_FAILED:
            self._work(self._deposit)

    def open_again(self) -> None:
        """EMPTY: the sensor saw no item; open the same door to put it in."""
        if self.step is Step.EMPTY:
            self._work(self._open_again)

    def _open_again(self) -> None:
        self._report(Step.OPENING, None)
        self.model.in_use.add(self.item.door)
        try:
            doors.open_door(self.locker, self.item.door, self._cancel)
        except doors.DoorFailure:
            self.model.in_use.discard(self.item.door)
            self.model.release(self.item.id)
            self.failed_doors.add(self.item.door)
            self._report(Step.DOOR_FAILED, None)
            return
        self._report(Step.DOOR_OPEN, None)
        self._watch()

    def code_seen(self) -> None:
        """Staff have noted the code: it is forgotten, and the next item can come."""
        self.code = None
        self._reset_item()
        if self.step is Step.CODE:
            self._show(Step.CASE, None)
        else:   # nothing was recorded for this item: it starts again
            self._restart()
            self.changed()

    def cancel(self) -> None:
        """Stop: a door reserved but not yet given a code is freed (staff keep the item)."""
        self._cancel_waits(("ID card reader", self.idcard), ("scanner", self.scanner))

    def abandon_item(self) -> None:
        """After cancel: free a reservation left without a code (on the executor, once the step under
        way has ended), then start again at CASE."""
        def work() -> None:
            if self.item is not None and self.code is None:
                item = self.model.item(self.item.id)
                if item is not None and item.state == "depositing":
                    self.model.release(item.id)
                self.model.in_use.discard(self.item.door)

        def forget(_result, error) -> None:
            if error is not None:
                log.error("deposit: a reservation could not be freed: %s", error)
            self._restart()
            self._reset_item()
            self._cancel = CancelToken()
            self.changed()
        self._work(work, forget)
