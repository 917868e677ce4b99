"""Materials handed in through the locker (补交材料 / 容缺受理): HandinFlow, its receipt, the case look-up port.

A citizen whose case was accepted with materials missing hands them in at any hour:

    CASE --the case number typed, or the acceptance slip's barcode scanned--> CHECKING (the case looked up)
    CHECKING --the case asks for the ID card, or it is not known, or the platform cannot answer--> ID_CARD
             --the case asks for no ID card--> SIZE
    ID_CARD --a card read (the case's holder's, where the platform knows the holder)--> SIZE
    SIZE --a door size (small unless the citizen asks for more room)--> OPENING --> DOOR_OPEN
    DOOR_OPEN --door closed on the papers--> PRINTING --> DONE      (handin recorded, receipt printed)
              --closed, the item sensor sees nothing--> EMPTY --open again--> OPENING
              --open past door_close_timeout_s--> PRINTING --> DOOR_LEFT_OPEN (recorded, alarm) --closed--> DONE
              --"the door did not open"--> OPENING once more; the second time HELP (alarm; nothing recorded)
    OPENING --the door does not open after a retry--> DOOR_FAILED (alarm) --another door--> OPENING
    no free door of that size --> NO_FREE_DOOR --a larger size--> SIZE

What the pickup guarantees holds here: the door is held and the intent to
open it committed in one commit before the unlock (`LockerModel.reserve_handin`),
so a power cut with the door open is recorded on restart as an unconfirmed
hand-in with an alarm (`LockerModel.recover`); a door left open raises
`pickup:door_left_open:N`; a door that does not open is retried once and then
staff are called. The `handin` transaction carries the case number, the door,
the time, the receipt number, the keyed hash of the ID card read (or null),
the size and the hall (kiosk/wire/cases.py `HandinData` is how the platform
reads it); never a name or an ID number. The platform tells the case's staff
from it. Staff take the materials out with Recall (kiosk/core/locker/recall.py).

The case look-up is the deposit's port (kiosk/core/locker/cases.py `CaseLookup`,
the central client injected): where it answers (a `KioskCase`), a case that
asks for no ID card needs none, and one with a known holder takes only that
holder's card. Offline (kiosk/wire/errors.py `PlatformUnavailable`), or for a
case the platform does not know (None), the hand-in is accepted by its case
number with the ID card read: nothing waits on the network.

Leaving the visit (kiosk/core/flow.py): a door being unlocked or standing open
and the receipt being printed finish first; a receipt that did not print keeps
its number on screen until the citizen taps Finish (not for the idle timeout:
the hand-in is recorded, and nobody is there to read it).
"""
from __future__ import annotations

import datetime as dt
import enum
import logging
import time
from typing import Callable

from kiosk.core.background import Executor
from kiosk.core.flow import FREE, Clock, Leave, Leaving
from kiosk.core.guides.printout import wrap
from kiosk.core.locker.base import LockerFlow
from kiosk.core.locker.cases import CaseLookup
from kiosk.core.locker.model import DEVICE, SIZES, Item, LockerModel, LockerRuleError, check_case_number
from kiosk.core.payment.money import new_reference, show_reference
from kiosk.core.printing.sign_off import sign_off
from kiosk.core.steps import Steps
from kiosk.hardware.device import CancelToken
from kiosk.hardware.receipt import Receipt
from kiosk.i18n import N_, _
from kiosk.wire.errors import PlatformUnavailable

log = logging.getLogger(__name__)

SERVICE = "handin"
# the devices the hand-in uses; without the first three it is not offered (the case number can be typed)
DEVICES = ("locker", "receipt_printer", "idcard", "scanner")
NEEDS = ("locker", "receipt_printer", "idcard")


# --- the flow -----------------------------------------------------------------------------------------

class Step(str, enum.Enum):
    CASE = "case"
    CHECKING = "checking"
    ID_CARD = "id_card"
    SIZE = "size"
    OPENING = "opening"
    DOOR_OPEN = "door_open"
    EMPTY = "empty"
    PRINTING = "printing"
    DOOR_LEFT_OPEN = "door_left_open"
    DONE = "done"
    NO_FREE_DOOR = "no_free_door"
    DOOR_FAILED = "door_failed"
    HELP = "help"                        # the door did not open for the citizen twice: staff come


class Notice(str, enum.Enum):
    BAD_CASE_NUMBER = "bad_case_number"
    CASE_NUMBER_LOOKS_LIKE_ID = "case_number_looks_like_id"
    NOT_A_CASE_NUMBER = "not_a_case_number"     # a pickup or payment code on the scanner
    NO_ID_READER = "no_id_reader"
    ID_MISMATCH = "id_mismatch"
    NO_CARD = "no_card"
    CARD_NOT_READ = "card_not_read"
    CLOSE_THE_DOOR = "close_the_door"


# the steps the citizen is told of: the case number, the ID card where the case asks for it, the door's
# size, the door (the receipt prints as it closes)
STEPS = Steps(("case", "id_card", "size", "door"), {
    Step.CASE: "case", Step.CHECKING: "case",
    Step.ID_CARD: "id_card",
    Step.SIZE: "size", Step.NO_FREE_DOOR: "size",
    Step.OPENING: "door", Step.DOOR_OPEN: "door", Step.EMPTY: "door", Step.PRINTING: "door",
    Step.DOOR_LEFT_OPEN: "door", Step.DOOR_FAILED: "door",
    Step.DONE: None, Step.HELP: None,
}, optional=("id_card",))

LEAVING = {
    Step.OPENING: Leaving(Leave.FINISH, "door_opening"),
    Step.DOOR_OPEN: Leaving(Leave.FINISH, "handin_door_open"),
    Step.PRINTING: Leaving(Leave.FINISH, "receipt_printing"),
}
WHAT = "materials handed in"    # for the technician's alarms: "door 3 did not open for materials handed in"


def new_receipt_no() -> str:
    """`K7Q2M-9X4A1`: read aloud to staff without doubt (no I or O), as the payment references."""
    return show_reference(new_reference())


class HandinFlow(LockerFlow[Step]):
    name = SERVICE
    steps = STEPS
    waits = {Step.ID_CARD: "card_reading_s", Step.OPENING: "door_opening_s", Step.PRINTING: "receipt_printing_s"}
    transitions = {
        Step.CASE: {Step.CHECKING},
        Step.CHECKING: {Step.CASE, Step.ID_CARD, Step.SIZE},
        Step.ID_CARD: {Step.SIZE},
        Step.SIZE: {Step.OPENING, Step.NO_FREE_DOOR},
        Step.NO_FREE_DOOR: {Step.SIZE},
        Step.OPENING: {Step.DOOR_OPEN, Step.DOOR_FAILED, Step.HELP},
        Step.DOOR_OPEN: {Step.PRINTING, Step.EMPTY, Step.OPENING, Step.HELP},
        Step.EMPTY: {Step.OPENING},
        Step.PRINTING: {Step.DONE, Step.DOOR_LEFT_OPEN},
        Step.DOOR_LEFT_OPEN: {Step.DONE},
        Step.DOOR_FAILED: {Step.OPENING, Step.NO_FREE_DOOR},
        # DONE and HELP end the visit: the next one starts from CASE (begin, end_visit)
    }

    def __init__(self, model: Callable[[], LockerModel], locker, *, rules, hash_key: str, hall: str,
                 kiosk_id: str, hotline: str, idcard=None, scanner=None, printer=None,
                 cases: CaseLookup | None = None,
                 clock: Clock = time.monotonic, executor: Executor | None = None,
                 scan_executor: Executor | None = None):
        super().__init__(Step.CASE, model, locker, executor=executor, clock=clock, scanner=scanner,
                         scan_executor=scan_executor)
        self.idcard = idcard
        self.printer = printer           # the receipt printer
        self.cases = cases
        self.rules = rules
        self.key = hash_key
        self.hall, self.kiosk_id, self.hotline = hall, kiosk_id, hotline
        self._reset_fields()

    def _reset_fields(self) -> None:
        self.notice: Notice | None = None
        self.typed = ""
        self.case_number = ""
        self.expected_holder: str | None = None   # the case's holder, where the platform knows one
        self.holder: str | None = None            # the keyed hash of the card read
        self.card_needed: bool | None = None      # None until the case was looked up
        self.reading_card = False
        self.size = "small"
        self.item: Item | None = None
        self.door: int | None = None
        self.position: tuple[str, str] = ("", "")
        self.column = self.row = 0
        self.failed_doors: set[int] = set()
        self.help_asked = 0
        self.opened = False                       # the door reported open in this visit
        self.recorded = False
        self.transaction_id: str | None = None
        self.printed: bool | None = None          # the receipt: None until it was tried
        self.number_noted = False                 # the citizen went on from the receipt number on screen
        self.handed_in_at: dt.datetime | None = None

    def skipped_steps(self) -> set[str]:
        return {"id_card"} if self.idcard is None or self.card_needed is False else set()

    @property
    def receipt_no(self) -> str:
        return self.item.receipt_no if self.item is not None and self.item.receipt_no else ""

    # --- leaving the visit (kiosk/core/flow.py) ------------------------------------------------------
    def leaving(self, idle: bool) -> Leaving:
        if (self.step in (Step.DONE, Step.DOOR_LEFT_OPEN) and self.recorded and self.printed is False
                and not self.number_noted and not idle):
            return Leaving(Leave.CONFIRM, "handin_receipt")
        return LEAVING.get(self.step, FREE)

    def cancel_in_flight(self) -> None:
        """Nothing to call back: an open door finishes its hand-in, a receipt number waits to be noted."""

    def receipt_number_noted(self) -> None:
        """The citizen tapped on from the receipt number on screen (the flow's own button): leaving is free."""
        self.number_noted = True

    def cancel(self) -> None:
        """Stop a wait under way (the card reader's, the door's) at its next check."""
        self._cancel_waits(("ID card reader", self.idcard))

    def leave(self) -> None:
        """The screen is left (on to the rating, or the visit ends): a card read under way stops. The
        door is settled when the visit ends (`end_visit`), after the step under way."""
        self.cancel()

    def end_visit(self) -> None:
        """After the visit's wipe: what is under way stops, a door held for this visit is settled (on the
        executor, after the step under way), and then nothing of the visit stays in the flow."""
        self.cancel()

        def forget(_result, error) -> None:
            if error is not None:
                log.error("handin: the door of the visit could not be settled: %s", error)
            self._restart()
            self._interrupt = ""
            self._reset_fields()
            self.changed()
        self._work(self._settle, forget)

    def _settle(self) -> None:
        item = self.item
        if item is None or self.recorded:
            return
        model = self.model
        stored = model.item(item.id)
        if stored is None or stored.state != "depositing":
            return
        if self.opened and self._at is not Step.EMPTY:
            # the door stood open and the visit ended before it was seen closed: the papers may be in
            model.alarms.raise_alarm(DEVICE, f"handin_unconfirmed:{item.door}",
                                     f"door {item.door} was open for {WHAT} (case {item.case_number}) when the "
                                     "visit ended; recorded as unconfirmed: check the door, and collect them "
                                     "with Recall")
            model.finish(item, unconfirmed=True)
        else:
            model.abandon(item)

    # --- the case number -------------------------------------------------------------------------------
    def begin(self) -> None:
        """A new citizen: an empty case number (shown once what the last visit left under way has ended)."""
        self._restart()

        def work() -> None:
            self._cancel = CancelToken()

        def shown(_result, _error) -> None:
            self._reset_fields()
            self._show(Step.CASE, None)
        self._work(work, shown)

    def press(self, key: str) -> bool:
        """One key of the case number. False: a case number is submitted with Next, never by its length."""
        if self.step is Step.CASE and len(key) == 1 and len(self.typed) < 40:
            self.typed += key
            self._show(notice=None)
        return False

    def backspace(self) -> None:
        self.typed = self.typed[:-1]
        self._show(notice=None)

    def clear(self) -> None:
        self.typed = ""
        self._show(notice=None)

    def submit(self) -> None:
        """The case number typed (or scanned): looked up on the executor, then the card or the size."""
        if self.step is not Step.CASE:
            return
        try:
            case_number = check_case_number(self.typed)
        except LockerRuleError as exc:
            self._show(notice=Notice(exc.code))
            return
        self.typed, self.case_number = "", case_number
        self._show(Step.CHECKING, None)
        self._work(self._look_up)

    def scanned(self, code) -> None:
        """A code from the scanner: the acceptance slip's barcode. A pickup or payment code is the
        citizen's secret and never taken for a case number."""
        if self.step is not Step.CASE:
            return
        if getattr(getattr(code, "kind", None), "value", None) != "other":
            self._show(notice=Notice.NOT_A_CASE_NUMBER)
            return
        self.typed = code.value
        self.submit()

    def _look_up(self) -> None:
        found = None
        if self.cases is not None:
            try:
                found = self.cases.find_case(self.case_number)
            except PlatformUnavailable as exc:
                log.info("handin: case %s not looked up (%s): the ID card is read", self.case_number, exc)
            except Exception:   # a broken answer is the platform's problem, never the citizen's
                log.exception("handin: case %s: the look-up failed; the ID card is read", self.case_number)
        if found is not None and not found.needs_id_card:
            self.card_needed = False
            self._report(Step.SIZE, None)
            return
        self.card_needed = True
        self.expected_holder = found.holder_hash if found is not None else None
        if self.idcard is None:
            self._report(Step.CASE, Notice.NO_ID_READER)
            return
        self._report(Step.ID_CARD, None)

    # --- the ID card -------------------------------------------------------------------------------------
    def read_card(self) -> None:
        """Wait for the citizen's ID card (on the executor); the size comes next when it is the right one."""
        self._read_holder(Step.ID_CARD, Notice.ID_MISMATCH, self.expected_holder, self._card_read)

    def _card_read(self, holder: str) -> None:
        self.holder = holder
        self._report(Step.SIZE, None)

    # --- the door ----------------------------------------------------------------------------------------
    def choose_size(self, size: str) -> None:
        if size not in SIZES:
            raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
        if self.step in (Step.SIZE, Step.NO_FREE_DOOR):
            self.size = size
            self._show(Step.SIZE, None)

    def open_door(self) -> None:
        """SIZE: a free door of the size chosen is held and opened (on the executor)."""
        if self.step is Step.SIZE:
            self._work(self._open)

    def another_door(self) -> None:
        """DOOR_FAILED: the next free door that fits."""
        if self.step is Step.DOOR_FAILED:
            self._work(self._open)

    def open_again(self) -> None:
        """EMPTY: the sensor saw no papers; the same door opens once more to put them in."""
        if self.step is Step.EMPTY:
            self._work(self._unlock_and_watch)

    def _open(self) -> None:
        model = self.model
        self.help_asked = 0
        item = model.reserve_handin(case_number=self.case_number, size=self.size, holder_hash=self.holder,
                                    receipt_no=new_receipt_no(), avoid=self.failed_doors)
        if item is None:
            self._report(Step.NO_FREE_DOOR, None)
            return
        self.item = item
        plan = model.plan
        self.door, self.position = item.door, plan.position(item.door)
        self.column, self.row = plan.doors[item.door].column, plan.doors[item.door].row
        self._unlock_and_watch()

    def _unlock_and_watch(self) -> None:
        item = self.item
        self._report(Step.OPENING, None)
        opened = self._unlock(item, WHAT)
        if not opened:
            self.model.abandon(item)
            if opened is False:
                self.failed_doors.add(item.door)
                self._report(Step.DOOR_FAILED, None)
            return
        self.opened = True
        self._report(Step.DOOR_OPEN, None)
        self._watch()

    def _watch(self) -> None:
        item = self.item
        closed = self._wait_closed(item, self.rules.door_close_timeout_s, Notice.CLOSE_THE_DOOR)
        if closed is None:
            return
        if not closed.closed:
            self._door_left_open(item, WHAT, Step.DOOR_LEFT_OPEN, Step.DONE,
                                 lambda: self._record_and_print(door_left_open=True))
            return
        if closed.item_present is False:
            self._report(Step.EMPTY, None)
            return
        self._record_and_print()
        self._report(Step.DONE, None)

    def _door_help(self) -> None:
        opened = self._open_once_more(self.item, WHAT, Step.OPENING, Step.DOOR_OPEN)
        if opened:
            self._watch()
        elif opened is False:
            self.model.abandon(self.item)    # nothing went in: the door is free once staff have seen to it
            self._report(Step.HELP, None)

    # --- the record and the receipt (in the work) ---------------------------------------------------------
    def _record_and_print(self, **flags) -> None:
        model = self.model
        self.transaction_id = model.finish(self.item, **flags)
        self.recorded = self.transaction_id is not None
        if not self.recorded:
            return
        self.item = model.item(self.item.id)
        self.handed_in_at = model.site.moment(self.item.deposited_at)   # as the `handin` writes it
        log.info("handin recorded: case %s, door %d, receipt %s", self.item.case_number, self.item.door,
                 self.item.receipt_no, extra={"flow": "handin", "transaction_id": self.transaction_id})
        self._report(Step.PRINTING, None)
        self.printed = self._print_receipt()

    def _print_receipt(self) -> bool:
        item, printer = self.item, self.printer
        if printer is None:
            log.warning("handin receipt %s not printed: no receipt printer", item.receipt_no)
            return False
        receipt = handin_receipt(case_number=item.case_number, door=item.door, receipt_no=item.receipt_no,
                                 handed_in_at=self.handed_in_at, hall=self.hall, kiosk_id=self.kiosk_id,
                                 hotline=self.hotline)
        try:
            printer.print_receipt(receipt)
        except Exception as exc:  # paper out, cover open, no answer: the screen keeps the receipt number
            log.warning("handin receipt %s not printed: %s", item.receipt_no, getattr(exc, "message", exc))
            return False
        return True


# --- the receipt ----------------------------------------------------------------------------------------

RECEIPT_TITLE = N_("Receipt for materials handed in")
RECEIPT_NOTE = N_("Your materials are in the locker. The staff handling your case will be told and will "
                  "collect them. Keep this receipt until your case is complete.")


def handin_receipt(*, case_number: str, door: int, receipt_no: str, handed_in_at: dt.datetime, hall: str,
                   kiosk_id: str, hotline: str, width: int = 48) -> Receipt:
    """The citizen's receipt: the case, the door, the time, the receipt number, the hall. Nothing of
    the citizen is on it: no name, no ID number (DESIGN.md section 7)."""
    r = Receipt(width=width)
    r.title(_(RECEIPT_TITLE))
    for line in wrap(hall, width):
        r.centered(line)
    r.rule()
    r.line(_("Receipt number") + "：" + receipt_no, bold=True, large=True)
    r.line(_("Case number") + "：" + case_number, bold=True)
    r.line(_("Door") + "：" + str(door))
    r.line(_("Time") + "：" + handed_in_at.strftime("%Y-%m-%d %H:%M"))
    r.line(_("Kiosk") + "：" + kiosk_id)
    r.rule()
    for line in wrap(_(RECEIPT_NOTE), width):
        r.line(line)
    return sign_off(r, hotline, rule=False)
