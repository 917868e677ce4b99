"""Case progress (办件进度查询): how far a citizen's case is, by its number or by the ID card.

`ProgressFlow` is a plain state machine (the screen only renders it):

    choose --by_case()--> enter_case --the number typed (Next) or the slip's barcode scanned--> looking
           --by_card()--> read_card --a card read: the keyed hash of its number--> looking
                                    --no card, unreadable, check digit wrong--> card_problem --again--> read_card
    looking --one case--> result      --the holder's cases (two or more)--> results --choose(i)--> result
            --the platform does not know the case / the card has none--> not_found
            --the platform cannot answer, or the look-up timeout passed (`tick`)--> offline --retry()--> looking
    result --print_receipt()--> printing --> result (printed, or the screen says it was not)
    result --back_to_list()--> results;  any of them --another()--> choose;  Finish: on to the rating

A malformed case number stays on the keypad with a sentence (4-40 letters, digits or dashes; never an
ID number; a pickup or payment code from the scanner is the citizen's secret and never taken for one).

The platform is asked through `CaseProgressLookup`, a port the composition root fills with the central
client (kiosk/sync/client.py), on the flow's executor, with `[central] lookup_timeout_s`. The flow never
waits longer than that: the screen calls `tick()` while it is looking, and past the timeout (and a little
grace for the answer on its way) the citizen reads the calm offline sentence with the hotline; an answer
that comes later is dropped. The ID card is read only to compute the holder's keyed hash (DESIGN.md
section 7), which lives for the visit; an expired card is taken (only its number is needed). The receipt
holds the case, the item, the steps, the promised date and what to do next: no name, no ID number.

A progress query changes nothing and is not recorded (no transaction); the rating after it is the
citizen's own, as after every service. Leaving the visit (kiosk/core/flow.py): the receipt being printed
finishes first; everything else ends with the visit's reset, which stops a card read and drops answers.
"""
from __future__ import annotations

import datetime as dt
import enum
import logging
import time
from typing import Callable, Protocol

from kiosk.core import privacy
from kiosk.core.background import Executor
from kiosk.core.flow import FREE, Clock, Flow, Leave, Leaving
from kiosk.core.guides.printout import wrap
from kiosk.core.locker.model import LockerRuleError, check_case_number
from kiosk.core.printing.sign_off import sign_off
from kiosk.core.scanning import ScannerListening
from kiosk.core.steps import Steps, device_wait
from kiosk.hardware.device import CancelToken
from kiosk.hardware.receipt import TIMEOUTS as RECEIPT_TIMEOUTS, Receipt
from kiosk.i18n import N_, _
from kiosk.wire.errors import PlatformUnavailable
from kiosk.wire.progress import CaseProgress, HolderCases, NextStep

log = logging.getLogger(__name__)

SERVICE = "progress"
ANSWER_GRACE_S = 2.0      # past the look-up timeout, the answer on its way still gets this long


class CaseProgressLookup(Protocol):
    """The platform's answers about a case's progress (the central client, injected)."""

    def case_progress(self, case_number: str, timeout: float | None = None) -> CaseProgress | None:
        """The case's progress; None when the platform does not know it. `PlatformUnavailable` when it
        cannot answer now. Blocks for at most `timeout`: call it on an executor."""

    def cases_of_holder(self, holder_hash: str, timeout: float | None = None) -> HolderCases:
        """Every case of the holder with this keyed hash, newest first (bounded)."""


class ProgressState(str, enum.Enum):
    CHOOSE = "choose"              # by case number, or by ID card
    ENTER_CASE = "enter_case"      # the keypad; the scanner listened to
    READ_CARD = "read_card"        # place the ID card on the reader
    CARD_PROBLEM = "card_problem"
    LOOKING = "looking"            # the platform asked, for at most the look-up timeout
    RESULTS = "results"            # the holder's cases, to choose from
    RESULT = "result"              # one case's progress
    PRINTING = "printing"          # its receipt
    NOT_FOUND = "not_found"        # no such case, or no case for this card
    OFFLINE = "offline"            # the platform cannot answer: the hotline


class Notice(str, enum.Enum):
    BAD_CASE_NUMBER = "bad_case_number"
    CASE_NUMBER_LOOKS_LIKE_ID = "case_number_looks_like_id"
    NOT_A_CASE_NUMBER = "not_a_case_number"


_S = ProgressState
_START = {_S.CHOOSE, _S.ENTER_CASE}   # another query (the keypad at once where no card can be read)

# the steps the citizen is told of: how to look the case up (skipped where no card can be read), the case
# number or the ID card (and the platform asked), the progress (from the holder's list, printed)
STEPS = Steps(("how", "identify", "result"), {
    _S.CHOOSE: "how",
    _S.ENTER_CASE: "identify", _S.READ_CARD: "identify", _S.CARD_PROBLEM: "identify", _S.LOOKING: "identify",
    _S.NOT_FOUND: "identify", _S.OFFLINE: "identify",
    _S.RESULTS: "result", _S.RESULT: "result", _S.PRINTING: "result",
}, optional=("how",))


class ProgressFlow(ScannerListening, Flow[ProgressState]):
    name = SERVICE
    SERVICE = SERVICE
    steps = STEPS
    waits = {_S.READ_CARD: "card_timeout_s", _S.LOOKING: "lookup_timeout_s", _S.PRINTING: "receipt_printing_s"}
    transitions = {
        _S.CHOOSE: {_S.ENTER_CASE, _S.READ_CARD},
        _S.ENTER_CASE: {_S.LOOKING} | _START,
        _S.READ_CARD: {_S.LOOKING, _S.CARD_PROBLEM} | _START,
        _S.CARD_PROBLEM: {_S.READ_CARD} | _START,
        _S.LOOKING: {_S.RESULT, _S.RESULTS, _S.NOT_FOUND, _S.OFFLINE} | _START,
        _S.RESULTS: {_S.RESULT} | _START,
        _S.RESULT: {_S.PRINTING, _S.RESULTS} | _START,
        _S.PRINTING: {_S.RESULT},
        _S.NOT_FOUND: {_S.READ_CARD} | _START,
        _S.OFFLINE: {_S.LOOKING} | _START,
    }
    LEAVING = {_S.PRINTING: Leaving(Leave.FINISH, "receipt_printing")}

    def __init__(self, lookup: CaseProgressLookup | None, *, hash_key: str, hall: str, kiosk_id: str, hotline: str,
                 reader=None, printer=None, scanner=None, executor: Executor | None = None,
                 scan_executor: Executor | None = None, clock: Clock = time.monotonic,
                 now: Callable[[], dt.datetime] = dt.datetime.now, today: Callable[[], dt.date] = dt.date.today,
                 card_timeout_s: float = 45, lookup_timeout_s: float = 3):
        super().__init__(_S.CHOOSE, executor=executor, clock=clock)
        self.lookup = lookup
        self.hash_key = hash_key
        self.hall, self.kiosk_id, self.hotline = hall, kiosk_id, hotline
        self.reader = reader            # the ID card reader (kiosk.hardware.idcard.SamReader), when present
        self.printer = printer          # the receipt printer, when present
        self.scanner = scanner          # the QR/barcode scanner, when present (kiosk/core/scanning.py)
        self.scan_executor = scan_executor
        self.now, self.today = now, today
        self.card_timeout_s = card_timeout_s
        self.lookup_timeout_s = lookup_timeout_s
        self._asking = 0                # the look-up whose answer is awaited; another number drops it
        self._card_token: CancelToken | None = None
        self._reset_fields()

    @property
    def receipt_printing_s(self) -> float:
        """Sending the receipt: the receipt printer driver's write timeout."""
        return device_wait(self.printer, RECEIPT_TIMEOUTS, "write")

    def _reset_fields(self) -> None:
        self.typed = ""
        self.notice: Notice | None = None
        self.case_number = ""
        self.by = ""                        # case | card: how the citizen asked (the sentences differ)
        self.holder: str | None = None      # the card's keyed hash, for this visit only
        self.problem = ""                   # the card's: no_card | card_unreadable | card_invalid
        self.cases: list[CaseProgress] = []
        self.more = False                   # the holder has more cases than the platform listed
        self.case: CaseProgress | None = None
        self.from_list = False
        self.printed: bool | None = None    # the receipt of the case shown: None until tried
        self.asked_at: float | None = None

    # -- visits ------------------------------------------------------------------------------------
    def begin(self) -> None:
        """A new citizen: the choice (straight to the keypad where no card can be read)."""
        self.reset()
        if not self.can_read_cards:
            self.go(_S.ENTER_CASE)

    def reset(self) -> None:
        """Forget the visit (the session's wipe): a card read stops, answers still on their way are dropped."""
        self.stop_scanning()
        if self._card_token is not None:
            self._card_token.cancel()
        self._card_token = None
        self.new_visit()
        self._asking += 1
        self._reset_fields()
        self.changed()

    def leaving(self, idle: bool) -> Leaving:
        return self.LEAVING.get(self.state, FREE)

    def cancel_in_flight(self) -> None:
        """Nothing of this flow is CANCEL: a card read stops with the reset, a receipt must finish."""

    @property
    def can_read_cards(self) -> bool:
        return self.reader is not None and self.lookup is not None

    def skipped_steps(self) -> set[str]:
        return set() if self.can_read_cards else {"how"}

    @property
    def can_print(self) -> bool:
        return self.printer is not None

    def _set(self, state: ProgressState) -> None:
        self.go(state, tell=False)
        self.changed()

    def another(self) -> None:
        """Another query in the same visit: back to the choice."""
        if self.state in (_S.PRINTING, _S.CHOOSE):
            return
        if self._card_token is not None:
            self._card_token.cancel()
        self._asking += 1
        self.stop_scanning()
        self._reset_fields()
        self._set(_S.CHOOSE if self.can_read_cards else _S.ENTER_CASE)

    # -- by case number --------------------------------------------------------------------------
    def by_case(self) -> None:
        if self.state in (_S.CHOOSE, _S.NOT_FOUND, _S.CARD_PROBLEM):
            self.typed, self.notice = "", None
            self._set(_S.ENTER_CASE)

    def press(self, key: str) -> None:
        if self.state is _S.ENTER_CASE and len(key) == 1 and len(self.typed) < 40:
            self.typed += key
            self.notice = None
            self.changed()

    def backspace(self) -> None:
        self.typed, self.notice = self.typed[:-1], None
        self.changed()

    def clear(self) -> None:
        self.typed, self.notice = "", None
        self.changed()

    def submit(self) -> None:
        """The number typed (or scanned): checked here, then the platform asked."""
        if self.state is not _S.ENTER_CASE:
            return
        try:
            number = check_case_number(self.typed)
        except LockerRuleError as exc:
            self.notice = Notice(exc.code)
            if self.notice is Notice.CASE_NUMBER_LOOKS_LIKE_ID:
                self.typed = ""     # an ID number does not stay on screen (nor in a screenshot)
            self.changed()
            return
        self.typed, self.notice, self.case_number, self.by = "", None, number, "case"
        self.stop_scanning()
        self._ask()

    def scanned(self, code) -> None:
        """The acceptance slip's barcode. A pickup or payment code is the citizen's secret: refused unseen."""
        if self.state is not _S.ENTER_CASE:
            return
        if getattr(getattr(code, "kind", None), "value", None) != "other":
            self.notice = Notice.NOT_A_CASE_NUMBER
            self.changed()
            return
        self.typed = code.value
        self.submit()

    # -- by ID card --------------------------------------------------------------------------------
    def by_card(self) -> bool:
        """Wait for the ID card (on the executor); its keyed hash lists the holder's cases."""
        if not self.can_read_cards or self.state not in (_S.CHOOSE, _S.CARD_PROBLEM, _S.NOT_FOUND):
            return False
        token = self._card_token = CancelToken()
        self.problem, self.by = "", "card"
        self.stop_scanning()
        self._set(_S.READ_CARD)
        reader, timeout = self.reader, self.card_timeout_s
        self.run(lambda: reader.read_card(timeout, cancel=token), self._card_read)
        return True

    def _card_read(self, card, error) -> None:
        if self.state is not _S.READ_CARD:
            return
        if error is not None:
            detail = getattr(error, "detail", "") or type(error).__name__
            if detail == "canceled":
                return
            self.problem = "no_card" if detail == "no_card" else "card_unreadable"
            self._set(_S.CARD_PROBLEM)
            return
        privacy.remember_person(card.name, card.id_number)   # scrubbed from every log line until the wipe
        if "id_check_digit_wrong" in card.problems(self.today()):
            self.problem = "card_invalid"
            self._set(_S.CARD_PROBLEM)
            return
        self.holder = privacy.holder_hash(self.hash_key, card.id_number)
        del card    # nothing of the card but the keyed hash is kept
        self._ask()

    def cancel_card(self) -> None:
        """READ_CARD: the citizen gives up waiting for the card."""
        if self.state is _S.READ_CARD:
            if self._card_token is not None:
                self._card_token.cancel()
            self._set(_S.CHOOSE)

    # -- the platform --------------------------------------------------------------------------------
    def _ask(self) -> None:
        self._asking += 1
        asking = self._asking
        self.asked_at = self.clock()
        self.printed = None
        self._set(_S.LOOKING)
        lookup, timeout = self.lookup, self.lookup_timeout_s
        if self.by == "card":
            holder = self.holder
            work = lambda: lookup.cases_of_holder(holder, timeout=timeout)  # noqa: E731
        else:
            number = self.case_number
            work = lambda: lookup.case_progress(number, timeout=timeout)  # noqa: E731

        def answered(found, error) -> None:
            if asking != self._asking or self.state is not _S.LOOKING:
                log.info("progress: a late answer dropped")
                return
            self.asked_at = None
            if error is not None:
                if isinstance(error, PlatformUnavailable):
                    log.info("progress: the platform cannot answer: %s", error)
                else:   # a broken answer is the platform's problem; the citizen reads the calm sentence
                    log.error("progress: the look-up failed: %s: %s", type(error).__name__, error)
                self._set(_S.OFFLINE)
            elif self.by == "card":
                self._listed(found)
            elif found is None:
                self._set(_S.NOT_FOUND)
            else:
                self.case, self.from_list = found, False
                self._set(_S.RESULT)

        if lookup is None:
            answered(None, PlatformUnavailable("no central client"))
            return
        self.run(work, answered)

    def _listed(self, found: HolderCases) -> None:
        self.cases, self.more = list(found.cases), found.more
        if not self.cases:
            self._set(_S.NOT_FOUND)
        elif len(self.cases) == 1:
            self.case, self.from_list = self.cases[0], False
            self._set(_S.RESULT)
        else:
            self._set(_S.RESULTS)

    def tick(self) -> None:
        """Called while looking (the screen, each second): past the look-up timeout the platform is taken
        as offline; its answer, should it come later, is dropped."""
        if self.state is _S.LOOKING and self.asked_at is not None and (
                self.clock() - self.asked_at > self.lookup_timeout_s + ANSWER_GRACE_S):
            log.warning("progress: no answer within %g s ([central] lookup_timeout_s)", self.lookup_timeout_s)
            self._asking += 1
            self.asked_at = None
            self._set(_S.OFFLINE)

    def retry(self) -> None:
        if self.state is _S.OFFLINE:
            self._ask()

    def cancel_looking(self) -> None:
        if self.state is _S.LOOKING:
            self._asking += 1
            self.asked_at = None
            self._set(_S.CHOOSE if self.can_read_cards else _S.ENTER_CASE)

    # -- the holder's cases ---------------------------------------------------------------------------
    def choose(self, index: int) -> None:
        if self.state is _S.RESULTS and 0 <= index < len(self.cases):
            self.case, self.from_list, self.printed = self.cases[index], True, None
            self._set(_S.RESULT)

    def back_to_list(self) -> None:
        if self.state is _S.RESULT and self.from_list:
            self.case, self.printed = None, None
            self._set(_S.RESULTS)

    # -- the receipt ------------------------------------------------------------------------------------
    def print_receipt(self) -> bool:
        """RESULT: the case's progress on the receipt printer (on the executor), then RESULT again."""
        if self.state is not _S.RESULT or self.case is None or self.printer is None:
            return False
        receipt = progress_receipt(self.case, hall=self.hall, kiosk_id=self.kiosk_id, hotline=self.hotline,
                                   printed_at=self.now())
        printer, case_number = self.printer, self.case.case_number
        self._set(_S.PRINTING)

        def printed(_result, error) -> None:
            if error is not None:   # paper out, cover open, no answer: the screen says so; nothing is lost
                log.warning("progress receipt of case %s not printed: %s", case_number,
                            getattr(error, "message", error))
            self.printed = error is None
            self._set(_S.RESULT)
        self.run(lambda: printer.print_receipt(receipt), printed)
        return True


# --- what the citizen reads (the screen and the receipt) ---------------------------------------------

STEP_STATUS = {"done": N_("Done"), "current": N_("In progress")}


def short_date(moment: dt.datetime | dt.date) -> str:
    """'11月29日' / '11/29': a day the citizen reads in a sentence."""
    return _("{month}/{day}").format(month=moment.month, day=moment.day)


def lines(*parts: str) -> str:
    """Instructions one a line (a short line never leaves a lone full stop behind when it wraps)."""
    return "\n".join(p for p in parts if p)


def next_sentence(step: NextStep, *, current: str | None = None, late: bool = False, kiosk_id: str = "",
                  hotline: str = "") -> str:
    """What the citizen does now, one instruction a line, in the kiosk's language, from the platform's
    `next` (kiosk.wire.progress NEXT_ACTIONS); an action this kiosk does not know yet is said in the
    platform's own words."""
    card = _("Bring your ID card.") if step.needs_id_card else ""
    if step.action == "wait":
        return lines(
            _("Your case is being handled, now at: {step}.").format(step=current) if current
            else _("Your case is being handled."),
            _("Nothing for you to do for now."),
            _("The promised date has passed. For questions, please call {hotline}.").format(
                hotline=hotline or "12345") if late else "")
    if step.action == "wait_for_locker":
        return lines(_("Your case is complete."),
                     _("When the certificate is in a pickup locker, the pickup code will be sent to you by SMS."))
    if step.action == "collect_from_locker":
        if step.kiosk_id and step.kiosk_id == kiosk_id:
            where = _("Collect it from door {door} of the locker here.").format(door=step.door)
        else:
            where = _("Collect it from locker door {door} at {place}.").format(
                door=step.door, place="".join(p for p in (step.hall, step.place) if p) or step.kiosk_id)
        return lines(
            where, _("The pickup code was sent to you by SMS."),
            _("The holding time is over, but the code still works: please collect it soon.") if step.overdue
            else _("Please collect it by {date}.").format(date=short_date(step.due_at)) if step.due_at else "",
            card)
    if step.action == "collected":
        return (_("Collected on {date}. Your case is complete.").format(date=short_date(step.at)) if step.at
                else _("Collected. Your case is complete."))
    if step.action == "go_to_window":
        return lines(_("Staff have taken it back from the locker."), _("Please collect it at the service window."),
                     card)
    return step.text


RECEIPT_TITLE = N_("Case progress")


def progress_receipt(case: CaseProgress, *, hall: str, kiosk_id: str, hotline: str, printed_at: dt.datetime,
                     width: int = 48) -> Receipt:
    """The case's progress on paper: the case, the item, the department, the promised date, the steps with
    their dates and what to do next. Nothing of the citizen: no name, no ID number (DESIGN.md section 7)."""
    r = Receipt(width=width)
    r.title(_(RECEIPT_TITLE))
    for line in wrap(hall, width):
        r.centered(line)
    r.rule()
    r.line(_("Case number") + "：" + case.case_number, bold=True)
    for line in wrap(_("Item") + "：" + case.item_name, width):
        r.line(line)
    if case.department:
        for line in wrap(_("Department") + "：" + case.department, width):
            r.line(line)
    if case.promised_by:
        promised = _("Promised by") + "：" + case.promised_by.isoformat()
        r.line(promised + ("（" + _("Past the promised date") + "）" if case.late else ""), bold=case.late)
    r.rule()
    for s in case.steps:
        status = _(STEP_STATUS.get(s.status, s.status))
        for line in wrap(f"{s.at:%Y-%m-%d}  {s.step}  {status}", width, indent="            "):
            r.line(line, bold=s.status == "current")
    if not case.steps:
        r.line(_("No steps reported yet."))
    r.rule()
    r.line(_("What to do next") + "：", bold=True)
    for line in wrap(next_sentence(case.next, current=case.current_step, late=case.late, kiosk_id=kiosk_id,
                                   hotline=hotline), width):
        r.line(line)
    r.rule()
    r.line(_("Time") + "：" + printed_at.strftime("%Y-%m-%d %H:%M"))
    r.line(_("Kiosk") + "：" + kiosk_id)
    return sign_off(r, hotline, rule=False)
