"""One citizen paying for a service: the card terminal or a payment code, and never a guessed outcome.

`PaymentFlow` is a flow on the flow base (kiosk/core/flow.py: `Flow[PayState]`, its
transitions declared below):

    idle --start(amount)--> choose --pay_by_card()--> wait_card --terminal--> approved | declined | unknown
                              |  \\--pay_by_code()--> wait_code --code shown--> code_confirm --> approved |
                              |        (cancel ok)                                declined | canceled | unknown
                              \\--cancel()--> canceled          declined --retry()--> choose
    approved --refund()--> refunding --> refunded | refund_owed (the reference goes to staff)

Cancel is possible until a request has been sent (choose, wait_code). A code
payment sent to the acquirer can be called back (`cancel_in_flight()`: the
acquirer reverses it and confirms); a sale the card terminal holds cannot
(protocol E has no abort), so leaving the visit waits for the terminal's
answer (kiosk/core/flow.py). Nothing is ever sent twice: a sale whose answer
did not come is queried, never retried. An answer that arrives after its visit
ended is recorded in the ledger (kiosk/core/payment/ledger.py), and a sale
approved for a visit that is gone is given back (a code payment is refunded; a
card sale is handed to staff: kiosk/core/payment/recovery.py).

When money went wrong (an unknown outcome, a refund after the service failed,
a refund that could not be made here) the citizen gets a slip
(kiosk/core/money_slip.py); `slip` says whether it printed, and while it has
not the reference stays on screen until the citizen confirms.

Payment codes go through the gateway port (kiosk/core/payment/gateway.py).

The blocking steps (the terminal, the scanner, the acquirer) and every ledger
write run in the executor's work step, never on the UI thread; what comes back
only changes state. A result of an ended visit is dropped, except a sale's
outcome: the ledger has it already, and an approved one is given back.
"""
from __future__ import annotations

import enum
import logging
import threading
import time
from typing import Any, Callable

from kiosk.core.background import Executor
from kiosk.core.flow import FREE, Clock, Flow, Leave, Leaving
from kiosk.core.payment.gateway import CodeAnswer, CodePaymentGateway, GatewayError
from kiosk.core.payment.ledger import PaymentLedger
from kiosk.core.payment.money import new_reference, show_reference, yuan
from kiosk.core.steps import StepOf
from kiosk.core.payment.recovery import PaymentRecovery

log = logging.getLogger(__name__)


class PayState(str, enum.Enum):
    IDLE = "idle"
    CHOOSE = "choose"                # the amount and the ways to pay; cancel possible
    WAIT_CARD = "wait_card"          # sent to the terminal: the cardholder pays there
    WAIT_CODE = "wait_code"          # waiting for a payment code at the scanner; cancel possible
    CODE_CONFIRM = "code_confirm"    # sent to the acquirer: the payer may have to confirm on the phone
    APPROVED = "approved"
    DECLINED = "declined"            # nothing charged; retry or cancel
    UNKNOWN = "unknown"              # not known: reference shown, staff alarmed, nothing printed
    CANCELED = "canceled"            # nothing charged
    REFUNDING = "refunding"
    REFUNDED = "refunded"
    REFUND_OWED = "refund_owed"      # could not be refunded here: reference shown, staff alarmed

    @property
    def cancelable(self) -> bool:
        return self in (PayState.CHOOSE, PayState.WAIT_CODE, PayState.DECLINED)


FINAL = (PayState.APPROVED, PayState.UNKNOWN, PayState.CANCELED, PayState.REFUNDED, PayState.REFUND_OWED)
SLIP_STATES = (PayState.UNKNOWN, PayState.REFUNDED, PayState.REFUND_OWED)   # the citizen takes a slip away
# leaving the visit, by step (kiosk/core/flow.py); the slip states are decided by `leaving()`
LEAVING = {
    PayState.CODE_CONFIRM: Leaving(Leave.CANCEL, "code_payment"),   # the acquirer reverses it and confirms
    PayState.WAIT_CARD: Leaving(Leave.FINISH, "card_terminal"),     # protocol E cannot call a sale back
    PayState.REFUNDING: Leaving(Leave.FINISH, "refund"),
}


P = PayState

TRANSITIONS = {
    P.IDLE: {P.CHOOSE},
    P.CHOOSE: {P.WAIT_CARD, P.WAIT_CODE, P.CANCELED},
    P.WAIT_CODE: {P.CHOOSE, P.CODE_CONFIRM, P.CANCELED},   # staying: a code that is not a payment code
    P.WAIT_CARD: {P.APPROVED, P.DECLINED, P.UNKNOWN},
    P.CODE_CONFIRM: {P.APPROVED, P.DECLINED, P.UNKNOWN},    # called back or not confirmed: declined
    P.DECLINED: {P.CHOOSE, P.CANCELED},
    P.APPROVED: {P.REFUNDING},
    P.REFUNDING: {P.REFUNDED, P.REFUND_OWED},
}
OUTCOME = {"approved": P.APPROVED, "declined": P.DECLINED, "unknown": P.UNKNOWN, "canceled": P.DECLINED}


class PaymentFlow(Flow[PayState]):
    """One payment for one service, reused visit after visit (`reset()` on the session's wipe)."""

    name = "payment"
    transitions = TRANSITIONS
    # the cardholder's time at the terminal (its driver's result_timeout_s), the code's at the scanner, the
    # payer's on the phone
    waits = {PayState.WAIT_CARD: "card_terminal_s", PayState.WAIT_CODE: "code_scan_timeout_s",
             PayState.CODE_CONFIRM: "code_confirm_timeout_s"}

    def __init__(self, ledger: PaymentLedger, *, executor: Executor | None = None, terminal=None, scanner=None,
                 gateway: CodePaymentGateway | None = None, methods=("card", "code"),
                 clock: Clock = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 code_scan_timeout_s: float = 60, code_confirm_timeout_s: float = 45, code_poll_s: float = 2.0,
                 slips=None):
        super().__init__(PayState.IDLE, executor=executor, clock=clock)
        self.ledger = ledger
        self.terminal = terminal
        self.scanner = scanner
        self.gateway = gateway
        self.sleep = sleep                  # between the acquirer's polls, in the work step
        self.offered = tuple(methods)       # `[payments] methods`; `methods` is what can be used now
        self.code_scan_timeout_s = code_scan_timeout_s
        self.code_confirm_timeout_s = code_confirm_timeout_s
        self.code_poll_s = code_poll_s
        self.slips = slips                  # kiosk.core.money_slip.MoneySlips; None: no receipt printer
        self._cancel_token = None
        self._reverse_now = threading.Event()
        self.reset()

    def step_of(self) -> StepOf | None:
        """The payment has no steps of its own: it is a step of the flow it pays for."""
        return self.paid_step if self.state is not PayState.IDLE else None

    @property
    def card_terminal_s(self) -> float:
        seconds = getattr(self.terminal, "result_timeout_s", 0)
        return float(seconds) if isinstance(seconds, (int, float)) else 0.0

    # -- what the screen reads ---------------------------------------------------------------------
    def reset(self) -> None:
        """The visit ended: late results of it are dropped (a sale's is given back, see `_run_sale`)."""
        self.new_visit()
        if self._cancel_token is not None:
            self._cancel_token.cancel()   # a scan still waiting must not take the next citizen's code
        self._cancel_token = None
        self._reverse_now = threading.Event()   # a code sale of the ended visit keeps its own
        self.service = ""
        self.amount_fen = 0
        self.paid_step: StepOf | None = None   # the paying flow's step (start)
        self.subject: str | None = None      # what the sale pays for, where it may be paid once (the ledger's)
        self.record: dict | None = None      # more fields for the sale's `payment` transaction
        self.reference: str | None = None   # of the sale; shown when it is unknown
        self.refund_reference: str | None = None
        self.method: str | None = None
        self.channel: str | None = None
        self.detail = ""                     # technician's word for the last outcome (never shown as is)
        self.notice = ""                     # a calm hint on the current screen: no_code, not_a_payment_code
        self.slip = ""                       # the money slip: "" | printing | printed | failed
        self.changed()

    @property
    def methods(self) -> list[str]:
        """The ways to pay this kiosk offers now."""
        out = []
        if "card" in self.offered and self.terminal is not None:
            out.append("card")
        if "code" in self.offered and self.scanner is not None and self.gateway is not None:
            out.append("code")
        return out

    @property
    def shown_reference(self) -> str:
        ref = self.refund_reference if self.state is PayState.REFUND_OWED and not self.reference else self.reference
        return show_reference(ref or "")

    def _set(self, state: PayState, detail: str | None = None, notice: str = "") -> None:
        self.go(state, tell=False)
        if detail is not None:
            self.detail = detail
        self.notice = notice
        if state in SLIP_STATES and self.slips is not None:
            self._print_slip(state)
        self.changed()

    # -- leaving the visit (kiosk/core/flow.py) -------------------------------------------------------
    def leaving(self, idle: bool) -> Leaving:
        if self.state in (PayState.UNKNOWN, PayState.REFUND_OWED):
            if self.slip == "printing":
                return Leaving(Leave.FINISH, "slip")
            # the citizen must have the reference: on the slip they took, or read off the screen
            if self.slip == "noted" or (idle and self.slip == "printed"):
                return FREE
            return Leaving(Leave.CONFIRM, "reference")
        if self.state is PayState.REFUNDED and self.slip == "printing":
            return Leaving(Leave.FINISH, "slip")
        return LEAVING.get(self.state, FREE)

    def cancel_in_flight(self) -> None:
        """A code payment the payer has not confirmed yet: ask the acquirer to reverse it now."""
        if self.state is PayState.CODE_CONFIRM and not self._reverse_now.is_set():
            self._reverse_now.set()
            self.changed()

    @property
    def canceling(self) -> bool:
        """A code payment is being called back at the acquirer."""
        return self.state is PayState.CODE_CONFIRM and self._reverse_now.is_set()

    def acknowledge(self) -> None:
        """The citizen confirmed they have the reference (the screen's Finish): the visit may end."""
        if self.state in (PayState.UNKNOWN, PayState.REFUND_OWED):
            self.slip = "noted"
            self.changed()

    def _print_slip(self, state: PayState) -> None:
        refund = state in (PayState.REFUNDED, PayState.REFUND_OWED)
        reference = show_reference(self.reference or self.refund_reference or "")
        refund_reference = show_reference(self.refund_reference or "") if refund else ""
        amount, slips = yuan(self.amount_fen), self.slips
        self.slip = "printing"

        def printed(ok, error):
            if error is not None:
                log.error("money slip for %s: %s", reference, error)
            self.slip = "printed" if ok and error is None else "failed"
            self.changed()

        self.run(lambda: slips.print(state.value, reference=reference, amount=amount,
                                     refund_reference=refund_reference), printed)

    # -- what the citizen does ---------------------------------------------------------------------
    def start(self, service: str, amount_fen: int, *, subject: str | None = None, record: dict | None = None,
              step: StepOf | None = None) -> bool:
        """Ask for `amount_fen` for `service`. False (and nothing starts) until restart recovery is done
        or when no way to pay is available. `subject` and `record`: what the sale pays for and the fields
        its `payment` transaction carries beside the usual ones (kiosk/core/payment/ledger.py). `step`:
        the paying flow's step the payment is (「第 4 步 / 共 5 步」), for the payment screen's step line."""
        if amount_fen <= 0:
            raise ValueError("a payment needs a positive amount; a free service skips payment")
        if not self.ledger.recovered.is_set():
            log.warning("payment refused: the payments a restart left are still being checked")
            return False
        if not self.methods:
            return False
        self.reset()
        self.service, self.amount_fen = service, amount_fen
        self.subject, self.record = subject, record
        self.paid_step = step
        self._set(PayState.CHOOSE)
        return True

    def cancel(self) -> bool:
        """Stop before anything was sent; False once a request is out (the terminal or phone ends it).
        A scan still waiting is canceled; its empty result finds the flow no longer waiting for a code."""
        if not self.state.cancelable:
            return False
        if self.state is PayState.WAIT_CODE and self._cancel_token is not None:
            self._cancel_token.cancel()
        self._set(PayState.CANCELED, "canceled_by_citizen")
        return True

    def retry(self) -> bool:
        if self.state is not PayState.DECLINED:
            return False
        self.reference = None
        self._set(PayState.CHOOSE)
        return True

    def pay_by_card(self) -> bool:
        if self.state is not PayState.CHOOSE or "card" not in self.methods:
            return False
        self.method, self.channel, self.reference = "card", "card", new_reference()
        self._set(PayState.WAIT_CARD)
        ref, amount, service, terminal = self.reference, self.amount_fen, self.service, self.terminal
        subject, record = self.subject, self.record

        def sale() -> tuple[str, str]:
            pending = terminal.prepare_sale(amount, reference=ref)
            # persisted and committed BEFORE the request leaves: a restart finds it and asks first
            self.ledger.prepare(ref, "sale", "card", "card", amount, service, pending=pending.as_dict(),
                                subject=subject, record=record)
            outcome = terminal.send(pending)
            return self._settle_card(ref, outcome)

        self._run_sale(ref, sale)
        return True

    def pay_by_code(self) -> bool:
        if self.state is not PayState.CHOOSE or "code" not in self.methods:
            return False
        self.method = "code"
        self._wait_for_code()
        return True

    def _wait_for_code(self, notice: str = "") -> None:
        from kiosk.hardware.device import CancelToken  # the driver's own cancel token

        token = self._cancel_token = CancelToken()
        self._set(PayState.WAIT_CODE, notice=notice)
        scanner, timeout = self.scanner, self.code_scan_timeout_s

        def read():
            scanner.discard_pending()  # a code scanned before we asked is not this payment's
            return scanner.read_code(timeout, cancel=token)

        self.run(read, self._code_scanned)

    def _code_scanned(self, code, error) -> None:
        if self.state is not PayState.WAIT_CODE:   # canceled meanwhile
            return
        if error is not None:
            log.warning("payment code: scanner failed: %s", error)
            self._set(PayState.CHOOSE, notice="scanner_failed")
            return
        if code is None:
            self._set(PayState.CHOOSE, notice="no_code")
            return
        kind = getattr(code.kind, "value", str(code.kind))
        if kind not in ("wechat_pay", "alipay"):
            self._wait_for_code(notice="not_a_payment_code")
            return
        self.channel, self.reference = kind, new_reference()
        self._set(PayState.CODE_CONFIRM)
        ref, amount, service, channel = self.reference, self.amount_fen, self.service, kind
        value, reverse_now, subject, record = code.value, self._reverse_now, self.subject, self.record

        def sale() -> tuple[str, str]:
            self.ledger.prepare(ref, "sale", "code", channel, amount, service, subject=subject, record=record)
            state, detail = self._code_sale(ref, amount, value, channel, service, reverse_now)
            self.ledger.settle(ref, state, detail)
            return state, detail

        self._run_sale(ref, sale)

    def _code_sale(self, ref: str, amount: int, code: str, channel: str, service: str,
                   reverse_now: threading.Event) -> tuple[str, str]:
        """Pay, follow the payer's confirmation, and call back what stays unclear. Never pays twice."""
        try:
            answer = self.gateway.pay(ref, amount, code, channel, service)
        except GatewayError as exc:
            log.warning("payment %s: no answer to pay (%s); querying, never paying again", ref, exc)
            answer = self._query(ref)
        deadline = self.clock() + self.code_confirm_timeout_s
        while (answer.status in ("pending", "unknown", "not_found") and self.clock() < deadline
               and not reverse_now.is_set()):
            self.sleep(self.code_poll_s)   # a call-back request is acted on at the next poll
            answer = self._query(ref)
        if answer.status == "approved":
            return "approved", answer.detail or "approved"
        if answer.status == "declined":
            return "declined", answer.detail or "declined"
        # still not known: call it back so it can never complete later, then say what we know
        try:
            back = self.gateway.reverse(ref)
        except GatewayError as exc:
            log.warning("payment %s: reverse got no answer (%s)", ref, exc)
            return "unknown", f"{answer.status}_then_reverse_unanswered"
        if back.status in ("reversed", "not_found"):
            return "canceled", "canceled_by_citizen" if reverse_now.is_set() else "not_confirmed_in_time"
        if back.status == "approved":  # it completed before the reversal could stop it
            return "approved", "approved_late"
        return "unknown", f"{answer.status}_then_reverse_{back.status}"

    def _query(self, ref: str) -> CodeAnswer:
        try:
            return self.gateway.query(ref)
        except GatewayError as exc:
            log.warning("payment %s: query got no answer (%s)", ref, exc)
            return CodeAnswer("unknown", "query_unanswered")

    def _settle_card(self, ref: str, outcome) -> tuple[str, str]:
        result = getattr(outcome.result, "value", str(outcome.result))
        if result == "declined" and not outcome.sent:
            # never reached the terminal: nothing to reconcile, nothing charged
            self.ledger.settle(ref, "canceled", f"not_sent:{outcome.detail}")
            return "declined", f"not_sent:{outcome.detail}"
        state = result if result in ("approved", "declined") else "unknown"
        self.ledger.settle(ref, state, outcome.detail)
        return state, outcome.detail

    # -- a sale's outcome ----------------------------------------------------------------------------
    def _run_sale(self, ref: str, sale: Callable[[], tuple[str, str]]) -> None:
        """`sale` (it writes the ledger) on the executor. Its outcome is never simply dropped like other
        late results: when the visit has ended meanwhile the ledger holds it already, and money taken
        for a visit that is gone goes back (`_give_back_orphan`, on the executor too)."""
        visit = self.visit

        def work() -> tuple[str, str]:
            try:
                return sale()
            except Exception as exc:   # the ledger or the device failed in a way we did not foresee
                return self._unforeseen(ref, exc)

        def done(outcome: Any, error: BaseException | None) -> None:
            state, detail = outcome if error is None else ("unknown", f"error:{type(error).__name__}")
            if not self.current(visit):
                if state == "approved":
                    self.executor.run(lambda: self._give_back_orphan(ref), lambda what, err: log.warning(
                        "payment %s approved after its visit ended: %s", ref, err or what))
                return
            self._set(OUTCOME[state], detail)

        self.executor.run(work, done)

    def _unforeseen(self, ref: str, error: Exception) -> tuple[str, str]:
        """In the work step: what the ledger knows of a sale whose step failed; the outcome is not known."""
        log.error("payment %s: %s: %s", ref, type(error).__name__, error)
        state, detail = "unknown", f"error:{type(error).__name__}"
        try:
            row = self.ledger.get(ref)
            if row is None:  # it was never recorded, so it was never sent
                return "declined", "not_sent:could_not_record"
            if row.state == "in_flight":
                self.ledger.settle(ref, "unknown", detail)
            else:
                state = row.state if row.state != "canceled" else "declined"
        except Exception:
            log.exception("payment %s: the ledger cannot be read", ref)
        return state, detail

    def _give_back_orphan(self, ref: str) -> str:
        row = self.ledger.get(ref)
        if row is None or row.service_state != "open":
            return "nothing to give back"
        return PaymentRecovery(self.ledger, terminal=self.terminal, gateway=self.gateway).give_back(
            row, "approved after the citizen's visit had ended; the service did not happen")

    # -- after the service -------------------------------------------------------------------------
    def refund(self, why: str) -> bool:
        """The service failed after payment: give the money back, or hand it to staff with the reference."""
        if self.state is not PayState.APPROVED or not self.reference:
            return False
        sale, amount, service, method = self.reference, self.amount_fen, self.service, self.method
        self.refund_reference = new_reference()
        rref, channel, terminal, gateway = self.refund_reference, self.channel, self.terminal, self.gateway
        self._set(PayState.REFUNDING)

        def give_back() -> str:
            if method == "card":
                pending = terminal.prepare_refund(amount, reference=rref)
                self.ledger.prepare(rref, "refund", "card", channel, amount, service,
                                    pending=pending.as_dict(), sale_reference=sale)
                outcome = terminal.send(pending)
                result = getattr(outcome.result, "value", str(outcome.result))
                state = result if result in ("approved", "declined") else "unknown"
                if result == "declined" and not outcome.sent:
                    state = "canceled"
                self.ledger.settle(rref, state, outcome.detail)
            else:
                self.ledger.prepare(rref, "refund", "code", channel, amount, service, sale_reference=sale)
                try:
                    answer = gateway.refund(sale, rref, amount)
                    if answer.status not in ("refunded", "approved"):
                        answer = CodeAnswer(answer.status, answer.detail)
                except GatewayError as exc:
                    answer = self._query_refund(sale, rref, exc)
                state = "approved" if answer.status in ("refunded", "approved") else (
                    "declined" if answer.status == "declined" else "unknown")
                self.ledger.settle(rref, state, answer.detail or answer.status)
            if state != "approved":
                # an unknown refund stays with its own alarm too; staff settle both from one alarm's detail
                self.ledger.refund_owed(sale, f"{why}; refund {show_reference(rref)} {state}")
            return state

        def work() -> str:
            try:
                return give_back()
            except Exception as error:
                log.error("refund of %s failed: %s", sale, error)
                try:
                    self.ledger.refund_owed(sale, f"{why}; refund failed: {type(error).__name__}")
                except Exception:
                    log.exception("refund of %s: not even the alarm could be written", sale)
                return "error"

        def done(state, error) -> None:
            state = "error" if error is not None else state
            self._set(PayState.REFUNDED if state == "approved" else PayState.REFUND_OWED, str(state))

        self.run(work, done)
        return True

    def _query_refund(self, sale: str, rref: str, exc: Exception) -> CodeAnswer:
        log.warning("refund %s of %s: no answer (%s); querying the sale", rref, sale, exc)
        answer = self._query(sale)
        return CodeAnswer("refunded", "refunded_per_query") if answer.status == "refunded" else answer
