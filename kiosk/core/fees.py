"""Paying a fee notice (缴费): `FeeFlow`, the port to the platform's fee notices, and the receipt.

A citizen pays a non-tax revenue or fee notice by its number (缴款码, 20 digits: kiosk/wire/fees.py):

    ENTER --typed on the keypad, or the notice's QR/barcode scanned--> LOOKING
    LOOKING --> NOTICE (department, payer masked, items, total) | REFUSED (why, in a sentence) | OFFLINE
    NOTICE --pay--> PAYING (the shared PaymentFlow: card terminal or payment code)
    PAYING --approved--> CONFIRMING (the platform is told at once) --> PRINTING the receipt --> DONE --> rating
           --canceled--> NOTICE          --not known--> PAYMENT_UNKNOWN (reference, slip; nothing more)
    CONFIRMING --the platform refuses it afterwards (paid elsewhere meanwhile)--> RETURNING (the refund)

Before any money moves: the notice must be one the platform says may be paid here (not unknown,
malformed, of another hall, paid or expired: each is a refusal with its own sentence, and nothing is
stored), and this kiosk's payments ledger must hold no sale for it that was approved or whose outcome is
not known (`paid_here` / `in_doubt`, with the reference to quote): an unknown outcome never lets the same
notice be paid twice. The ledger keeps the notice as the sale's subject (`fee_notice:<number>`), and the
sale's `payment` transaction carries `fee_notice` and the SHA-256 of the e-receipt's token: it is
committed with the sale's outcome (kiosk/core/payment/ledger.py), which is the durable telling of the
platform; the sale is delivered by it.

CONFIRMING sends that same transaction at once (`FeeNotices.report_payment`; the outbox sends it again
later, and the platform stores it once), to hear whether the notice is now paid by it. The platform may
refuse it afterwards (`refund_due`: another payment paid the notice first, it expired, ...): the money
is given back at once (PaymentFlow.refund: on the terminal, or at the acquirer) or, where that fails,
it is owed (alarm, slip with the reference), as for a print that failed. A platform that does not
answer (offline, a timeout after it stored the payment) is not a refusal: the receipt prints, saying
the notice is being registered, and no second charge can follow (the ledger holds the approved sale).

The receipt (receipt printer): the notice, the department, the payer masked, the items and the total,
the way paid, the reference, the time and the kiosk, and a QR code of the e-receipt page
(`<receipt_base_url><token>`, the token made here and never stored, only its SHA-256 sent). A receipt that
does not print leaves the reference and the QR code on screen until the citizen taps Finish.

Leaving the visit (kiosk/core/flow.py): the payment declares its own steps; telling the platform and
printing the receipt finish first; everything else ends with the visit's reset.
"""
from __future__ import annotations

import datetime as dt
import enum
import logging
import time
from typing import Callable, Protocol

from kiosk.core.background import Executor
from kiosk.core.flow import FREE, Clock, Flow, Leave, Leaving
from kiosk.core.guides.printout import display_width, wrap
from kiosk.core.payment import PaymentFlow, PayState, show_reference, yuan
from kiosk.core.printing.sign_off import sign_off
from kiosk.core.scanning import ScannerListening
from kiosk.core.steps import Steps, device_wait
from kiosk.hardware.receipt import TIMEOUTS as RECEIPT_TIMEOUTS, Receipt
from kiosk.i18n import N_, _
from kiosk.wire.errors import PlatformUnavailable
from kiosk.wire.fees import (FeeNoticeView, FeePaymentAnswer, FeeRefusal, new_receipt_token, notice_number_in,
                             receipt_token_digest)

log = logging.getLogger(__name__)

SERVICE = "fees"


def subject_of(number: str) -> str:
    """What the payments ledger keeps as the sale's subject: one notice is paid once."""
    return f"fee_notice:{number}"


class FeeNotices(Protocol):
    """The platform's fee notices, as the flow needs them (kiosk/sync/fee_notices.py over the central client).
    Both raise `PlatformUnavailable` when the platform cannot answer now."""

    def find(self, number: str, timeout: float) -> FeeNoticeView | FeeRefusal:
        """The notice, or why it must not be paid here."""

    def report_payment(self, transaction_id: str, timeout: float) -> FeePaymentAnswer:
        """Send the sale's `payment` transaction (from the outbox) now; what became of the notice."""


class FeeState(str, enum.Enum):
    IDLE = "idle"
    ENTER = "enter"                      # the keypad, and the scanner listened to
    LOOKING = "looking"
    NOTICE = "notice"                    # what is to be paid
    REFUSED = "refused"                  # `problem` says why; nothing charged
    OFFLINE = "offline"                  # the platform cannot be reached; nothing charged
    PAYING = "paying"                    # the PaymentFlow is on screen
    PAYMENT_UNKNOWN = "payment_unknown"  # the payment's outcome is not known: reference, slip
    CONFIRMING = "confirming"            # the platform is told of the payment
    RETURNING = "returning"              # the platform refused the payment: it is given back (or owed)
    PRINTING = "printing"                # the receipt
    DONE = "done"


_S = FeeState
# the steps the citizen is told of: the notice's number (and its look-up), the notice to check, the payment
# (the platform told of it), the receipt
STEPS = Steps(("number", "notice", "pay", "receipt"), {
    _S.IDLE: None,
    _S.ENTER: "number", _S.LOOKING: "number", _S.REFUSED: "number", _S.OFFLINE: "number",
    _S.NOTICE: "notice",
    _S.PAYING: "pay", _S.PAYMENT_UNKNOWN: "pay", _S.CONFIRMING: "pay", _S.RETURNING: "pay",
    _S.PRINTING: "receipt",
    _S.DONE: None,
})
LEAVING = {_S.CONFIRMING: Leaving(Leave.FINISH, "fee_confirming"),
           _S.PRINTING: Leaving(Leave.FINISH, "receipt_printing")}
# refusals that come from this kiosk's own ledger (the others are the platform's, kiosk/wire/fees.py)
PAID_HERE, IN_DOUBT = "paid_here", "in_doubt"
PAYMENT_UNAVAILABLE = "payment_unavailable"


class FeeFlow(ScannerListening, Flow[FeeState]):
    name = "fees"
    SERVICE = SERVICE
    steps = STEPS
    waits = {_S.LOOKING: "lookup_timeout_s", _S.CONFIRMING: "report_timeout_s", _S.PRINTING: "receipt_printing_s"}
    transitions = {
        _S.IDLE: {_S.ENTER},
        _S.ENTER: {_S.LOOKING, _S.IDLE},
        _S.LOOKING: {_S.NOTICE, _S.REFUSED, _S.OFFLINE, _S.IDLE},
        _S.NOTICE: {_S.PAYING, _S.REFUSED, _S.ENTER, _S.IDLE},
        _S.REFUSED: {_S.ENTER, _S.IDLE},
        _S.OFFLINE: {_S.LOOKING, _S.ENTER, _S.IDLE},
        # canceled goes back to the notice; declined stays on the payment screen (retry or cancel there)
        _S.PAYING: {_S.CONFIRMING, _S.NOTICE, _S.PAYMENT_UNKNOWN, _S.IDLE},
        _S.PAYMENT_UNKNOWN: {_S.IDLE},
        _S.CONFIRMING: {_S.PRINTING, _S.RETURNING, _S.IDLE},
        _S.RETURNING: {_S.IDLE},
        _S.PRINTING: {_S.DONE, _S.IDLE},
        _S.DONE: {_S.IDLE},
    }

    def __init__(self, *, notices: FeeNotices, payment: PaymentFlow, executor: Executor, hall: str, kiosk_id: str,
                 hotline: str, scanner=None, printer=None, scan_executor: Executor | None = None,
                 now: Callable[[], dt.datetime] = dt.datetime.now, clock: Clock = time.monotonic,
                 lookup_timeout_s: float = 3, report_timeout_s: float = 6):
        super().__init__(FeeState.IDLE, executor=executor, clock=clock)
        self.notices = notices
        self.payment = payment
        self.scanner = scanner          # the QR/barcode scanner; None: the number is typed
        self.printer = printer          # the receipt printer; None: the receipt stays on screen
        # the scanner is listened to on an executor of its own while the number is asked for (none: not at all)
        self.scan_executor = scan_executor
        self.hall, self.kiosk_id, self.hotline = hall, kiosk_id, hotline
        self.now = now
        self.lookup_timeout_s = lookup_timeout_s
        self.report_timeout_s = report_timeout_s
        self.payment.on_change(self._payment_changed)
        self._forget()

    @property
    def receipt_printing_s(self) -> float:
        """Sending the receipt: the receipt printer driver's write timeout."""
        return device_wait(self.printer, RECEIPT_TIMEOUTS, "write")

    def _forget(self) -> None:
        self.typed = ""
        self.hint = ""                          # a calm line under the keypad: not_a_notice_number, ...
        self.number = ""
        self.notice: FeeNoticeView | None = None
        self.problem = ""                       # why REFUSED / RETURNING (a refusal code)
        self.problem_detail: dict = {}          # paid_on, due_date, hall_name
        self.quoted_reference = ""              # paid_here / in_doubt: the earlier sale's reference
        self.reference = ""                     # this visit's sale, once approved
        self.channel = ""
        self.paid_at: dt.datetime | None = None
        self._token = ""
        self.confirmed = ""                     # paid | pending | refund_due
        self.printed: bool | None = None        # the receipt: None until it was tried
        self.reference_noted = False
        self.transaction_id: str | None = None  # the sale's `payment` transaction (the rating links to it)

    # -- what the screen reads -----------------------------------------------------------------------
    @property
    def receipt_url(self) -> str:
        return (self.notice.receipt_base_url + self._token) if self.notice is not None and self._token else ""

    @property
    def shown_reference(self) -> str:
        return show_reference(self.reference or self.quoted_reference)

    @property
    def can_submit(self) -> bool:
        return self.state is FeeState.ENTER and notice_number_in(self.typed) is not None

    def reset(self) -> None:
        """The visit ended: nothing of it stays; late answers of it are dropped (the flow base)."""
        self.new_visit()
        self.stop_scanning()
        self._forget()
        if self.payment.state is not PayState.IDLE:
            self.payment.reset()
        self.changed()

    def _set(self, state: FeeState, problem: str | None = None) -> None:
        self.go(state, tell=False)
        if problem is not None:
            self.problem = problem
        self.changed()

    # -- leaving the visit (kiosk/core/flow.py) --------------------------------------------------------
    def leaving(self, idle: bool) -> Leaving:
        if self.state is FeeState.DONE and self.printed is False and not self.reference_noted and not idle:
            return Leaving(Leave.CONFIRM, "fee_receipt")   # the reference and the e-receipt's QR on screen
        return LEAVING.get(self.state, FREE)

    def cancel_in_flight(self) -> None:
        """Nothing of this flow is CANCEL: a scan stops with the reset, telling the platform and the receipt finish."""

    def receipt_noted(self) -> None:
        """The citizen goes on from the reference on screen (the flow's own Finish)."""
        self.reference_noted = True

    # -- the notice number -----------------------------------------------------------------------------
    def begin(self) -> None:
        """A new citizen: an empty keypad, the scanner listened to."""
        self.reset()
        self._set(FeeState.ENTER)
        self.start_scanning()

    def press(self, key: str) -> None:
        """A digit of the keypad (kiosk/screens/locker_widgets.py `to_flow`)."""
        if self.state is FeeState.ENTER and key.isdigit() and len(key) == 1 and len(self.typed) < 20:
            self._typed(self.typed + key)

    def backspace(self) -> None:
        if self.state is FeeState.ENTER:
            self._typed(self.typed[:-1])

    def clear(self) -> None:
        if self.state is FeeState.ENTER:
            self._typed("")

    def _typed(self, typed: str) -> None:
        self.typed, self.hint = typed, ""
        self.changed()

    def submit(self) -> bool:
        if self.state is not FeeState.ENTER:
            return False
        number = notice_number_in(self.typed)
        if number is None:
            self.hint = "number_incomplete"
            self.changed()
            return False
        self._look_up(number)
        return True

    def scanned(self, code) -> None:
        """A code from the scanner (kiosk.hardware.scanner.ScannedCode): the notice's QR code or barcode."""
        if self.state is not FeeState.ENTER:
            return
        number = notice_number_in(code.value)
        if number is None:
            kind = getattr(code.kind, "value", str(code.kind))
            self.hint = "payment_code_too_early" if kind in ("wechat_pay", "alipay") else "not_a_notice_number"
            self.changed()
            return
        self.typed = number
        self._look_up(number)

    def again(self) -> None:
        """Another number (from a refusal, the offline sentence or the notice shown)."""
        if self.state in (FeeState.REFUSED, FeeState.OFFLINE, FeeState.NOTICE):
            self.typed, self.hint, self.notice = "", "", None
            self._set(FeeState.ENTER, "")
            self.start_scanning()

    def retry(self) -> None:
        """The platform was offline: ask again for the same number."""
        if self.state is FeeState.OFFLINE and self.number:
            self._look_up(self.number)

    def _look_up(self, number: str) -> None:
        self.stop_scanning()
        self.number, self.hint, self.quoted_reference, self.problem_detail = number, "", "", {}
        self.notice = None
        self._set(FeeState.LOOKING, "")
        ledger, notices, timeout = self.payment.ledger, self.notices, self.lookup_timeout_s

        def work():
            # this kiosk first: a sale approved for the notice, or one whose outcome is not known, is never
            # followed by another one here, whatever the platform says (it may not have heard of it yet)
            for row in reversed(ledger.sales_for(subject_of(number))):
                if row.state in ("in_flight", "unknown"):
                    return FeeRefusal(IN_DOUBT, "a sale of this notice here has no known outcome", [],
                                      reference=row.reference)
                # approved and not given back (a refund owed means the platform refused it: it decides below)
                if row.state == "approved" and row.service_state in ("open", "delivered"):
                    return FeeRefusal(PAID_HERE, "a sale of this notice here was approved", [],
                                      reference=row.reference)
            return notices.find(number, timeout)

        self.run(work, self._found)

    def _found(self, found, error) -> None:
        if error is not None:
            if not isinstance(error, PlatformUnavailable):
                log.error("fee notice look-up failed: %s: %s", type(error).__name__, error)
            else:
                log.warning("fee notice look-up: the platform cannot answer: %s", error)
            self._set(FeeState.OFFLINE, "central_offline")
            return
        if isinstance(found, FeeRefusal):
            log.info("fee notice %s refused: %s (%s)", self.number, found.reason, found.message)
            self.quoted_reference = found.reference or ""
            self.problem_detail = dict(found.details[0]) if found.details else {}
            self._set(FeeState.REFUSED, found.reason)
            return
        if found.number != self.number or sum(i.amount_fen for i in found.items) != found.total_fen:
            log.error("fee notice %s: the platform's answer does not add up (number %s, total %d)", self.number,
                      found.number, found.total_fen)
            self._set(FeeState.OFFLINE, "answer_unusable")
            return
        self.notice = found
        self._set(FeeState.NOTICE, "")

    # -- paying ---------------------------------------------------------------------------------------
    def pay(self) -> bool:
        """Pay the notice shown: the shared payment flow takes over until it is over."""
        if self.state is not FeeState.NOTICE or self.notice is None:
            return False
        number = self.notice.number
        self._token = new_receipt_token()
        record = {"fee_notice": number, "receipt_token_sha256": receipt_token_digest(self._token)}
        if not self.payment.start(SERVICE, self.notice.total_fen, subject=subject_of(number), record=record,
                                  step=self.steps.of(FeeState.PAYING)):
            self._set(FeeState.REFUSED, PAYMENT_UNAVAILABLE)
            return False
        self._set(FeeState.PAYING)
        return True

    def _payment_changed(self, payment: PaymentFlow) -> None:
        if self.state is FeeState.PAYING:
            if payment.state is PayState.APPROVED:
                self._confirm(payment)
            elif payment.state is PayState.UNKNOWN:
                self._set(FeeState.PAYMENT_UNKNOWN, "payment_unknown")
            elif payment.state is PayState.CANCELED:
                self._set(FeeState.NOTICE, "")
        elif self.state in (FeeState.RETURNING, FeeState.PAYMENT_UNKNOWN):
            self.changed()   # the refund's progress and the slip show on this screen

    def _confirm(self, payment: PaymentFlow) -> None:
        self.reference, self.channel, self.paid_at = payment.reference or "", payment.channel or "", self.now()
        self._set(FeeState.CONFIRMING)
        ledger, notices, reference, timeout = payment.ledger, self.notices, self.reference, self.report_timeout_s

        def work() -> tuple[str | None, FeePaymentAnswer | Exception]:
            row = ledger.get(reference)
            if row is None or row.outbox_id is None:
                return None, LookupError(f"sale {reference} has no payment transaction in the ledger")
            try:
                return row.outbox_id, notices.report_payment(row.outbox_id, timeout)
            except Exception as exc:   # not known now: judged in `_confirmed`
                return row.outbox_id, exc

        def done(result, error) -> None:
            transaction_id, answer = result if error is None else (None, error)
            self.transaction_id = transaction_id
            if isinstance(answer, Exception):
                self._confirmed(None, answer)
            else:
                self._confirmed(answer, None)

        self.run(work, done)

    def _confirmed(self, answer: FeePaymentAnswer | None, error) -> None:
        if error is not None or answer is None:
            # not a refusal: the outbox tells the platform later, and the approved sale in the ledger keeps this
            # notice from being paid here again
            log.warning("fee payment %s for notice %s: the platform did not confirm it now (%s); it is told "
                        "through the outbox", self.reference, self.number,
                        f"{type(error).__name__}: {error}" if error else "no answer")
            self.confirmed = "pending"
        elif answer.status == "refund_due":
            log.warning("fee payment %s: the platform did not apply it to notice %s (%s): giving it back",
                        self.reference, self.number, answer.reason)
            self.confirmed = "refund_due"
            self._set(FeeState.RETURNING, answer.reason or "refused_after_payment")
            self.payment.refund(f"the platform did not apply it to fee notice {self.number}: {answer.reason}")
            return
        else:
            self.confirmed = "paid" if answer.status == "paid" else "pending"
        self._print()

    # -- the receipt ----------------------------------------------------------------------------------
    def _print(self) -> None:
        self._set(FeeState.PRINTING)
        printer = self.printer
        receipt = fee_receipt(self.notice, reference=self.shown_reference, channel=self.channel,
                              paid_at=self.paid_at or self.now(), receipt_url=self.receipt_url,
                              pending=self.confirmed != "paid", hall=self.hall, kiosk_id=self.kiosk_id,
                              hotline=self.hotline)

        def work() -> bool:
            if printer is None:
                log.warning("fee receipt %s not printed: no receipt printer", self.reference)
                return False
            try:
                printer.print_receipt(receipt)
            except Exception as exc:   # paper out, cover open, no answer: the screen keeps the reference
                log.warning("fee receipt %s not printed: %s", self.reference, getattr(exc, "message", exc))
                return False
            return True

        def done(printed, error) -> None:
            self.printed = bool(printed) and error is None
            self._set(FeeState.DONE)

        self.run(work, done)

# --- the receipt ------------------------------------------------------------------------------------

RECEIPT_TITLE = N_("Fee payment receipt")
RECEIPT_NOTE = N_("Scan the QR code for the electronic receipt. Keep this receipt as proof of payment.")
RECEIPT_PENDING = N_("The issuing department is being told of this payment. The electronic receipt shows it "
                     "once it is registered; quote the reference if you need help.")
CHANNELS = {"card": N_("Bank card"), "wechat_pay": N_("WeChat Pay"), "alipay": N_("Alipay")}


def _two_columns(left: str, right: str, width: int) -> list[str]:
    """`left` and `right` on one printer line, `right` at the right edge (wrapped when it does not fit)."""
    gap = width - display_width(left) - display_width(right)
    if gap >= 2:
        return [left + " " * gap + right]
    lines = wrap(left, width, "  ")
    return lines + [" " * max(0, width - display_width(right)) + right]


def fee_receipt(notice: FeeNoticeView, *, reference: str, channel: str, paid_at: dt.datetime, receipt_url: str,
                pending: bool, hall: str, kiosk_id: str, hotline: str, width: int = 48) -> Receipt:
    """The citizen's receipt of a fee paid; `reference` as the screen shows it (K7Q2M-9X4A1). The payer
    is there masked only (DESIGN.md section 7)."""
    r = Receipt(width=width)
    r.title(_(RECEIPT_TITLE))
    for line in wrap(hall, width):
        r.centered(line)
    r.rule()
    r.line(_("Notice number") + "：" + notice.number, bold=True)
    for line in wrap(_("Issued by") + "：" + notice.department, width, "  "):
        r.line(line)
    r.line(_("Payer") + "：" + notice.payer_masked)
    r.rule()
    for item in notice.items:
        for line in _two_columns(item.name, yuan(item.amount_fen), width):
            r.line(line)
    r.line(_("Total") + "：" + yuan(notice.total_fen), bold=True, large=True)
    r.rule()
    r.line(_("Paid by") + "：" + (_(CHANNELS[channel]) if channel in CHANNELS else channel))
    r.line(_("Reference") + "：" + reference, bold=True)
    r.line(_("Time") + "：" + paid_at.strftime("%Y-%m-%d %H:%M"))
    r.line(_("Kiosk") + "：" + kiosk_id)
    if receipt_url:
        r.rule()
        r.qr(receipt_url, size=6)
        for line in wrap(_(RECEIPT_NOTE), width):
            r.centered(line)
    if pending:
        r.rule()
        for line in wrap(_(RECEIPT_PENDING), width):
            r.line(line)
    return sign_off(r, hotline)
