"""One citizen paying for a service: the card terminal or a payment code, and never a guessed outcome.

`PaymentFlow` is a plain state machine:

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
"""
from __future__ import annotations

import enum
import logging
import threading
import time
from typing import Callable, Protocol

from kiosk.core.background import Background
from kiosk.core.flow import FREE, Leave, Leaving
from kiosk.core.listeners import tell_listeners
from kiosk.core.payment.gateway import CodeAnswer, CodePaymentGateway, GatewayError
from kiosk.core.payment.ledger import PaymentLedger
from kiosk.core.payment.money import new_reference, show_reference, yuan
from kiosk.core.payment.recovery import PaymentRecovery

log = logging.getLogger(__name__)


class Clock(Protocol):
    def monotonic(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


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


class PaymentFlow:
    """One payment for one service, reused visit after visit (`reset()` on the session's wipe)."""

    def __init__(self, ledger: PaymentLedger, *, background: Background, terminal=None, scanner=None,
                 gateway: CodePaymentGateway | None = None, methods=("card", "code"), clock: Clock | None = None,
                 code_scan_timeout_s: float = 60, code_confirm_timeout_s: float = 45, code_poll_s: float = 2.0,
                 slips=None):
        self.ledger = ledger
        self.background = background
        self.terminal = terminal
        self.scanner = scanner
        self.gateway = gateway
        self.clock = clock or SystemClock()
        self.allowed = tuple(methods)
        self.code_scan_timeout_s = code_scan_timeout_s
        self.code_confirm_timeout_s = code_confirm_timeout_s
        self.code_poll_s = code_poll_s
        self.slips = slips                  # kiosk.core.money_slip.MoneySlips; None: no receipt printer
        self._reverse_now = threading.Event()
        self._listeners: list[Callable[[PaymentFlow], None]] = []
        self._generation = 0  # answers of a payment that was reset meanwhile are dropped
        self.reset()

    # -- what the screen reads ---------------------------------------------------------------------
    def reset(self) -> None:
        self._generation += 1
        if getattr(self, "_cancel_token", None) is not None:
            self._cancel_token.cancel()   # a scan still waiting must not take the next citizen's code
        self._cancel_token = None
        self._reverse_now = threading.Event()   # a code sale of the ended visit keeps its own
        self.state = PayState.IDLE
        self.service = ""
        self.amount_fen = 0
        self.reference: str | None = None   # of the sale; shown when it is unknown
        self.refund_reference: str | None = None
        self.method: str | None = None
        self.channel: str | None = None
        self.detail = ""                     # technician's word for the last outcome (never shown as is)
        self.notice = ""                     # a calm hint on the current screen: no_code, not_a_payment_code
        self.slip = ""                       # the money slip: "" | printing | printed | failed
        self._changed()

    @property
    def methods(self) -> list[str]:
        """The ways to pay this kiosk offers now."""
        out = []
        if "card" in self.allowed and self.terminal is not None:
            out.append("card")
        if "code" in self.allowed and self.scanner is not None and self.gateway is not None:
            out.append("code")
        return out

    @property
    def shown_reference(self) -> str:
        ref = self.refund_reference if self.state is PayState.REFUND_OWED and not self.reference else self.reference
        return show_reference(ref or "")

    def on_change(self, fn: Callable[["PaymentFlow"], None]) -> None:
        self._listeners.append(fn)

    def _changed(self) -> None:
        tell_listeners(self, self._listeners, "payment")

    def _set(self, state: PayState, detail: str | None = None, notice: str = "") -> None:
        self.state = state
        if detail is not None:
            self.detail = detail
        self.notice = notice
        if state in SLIP_STATES and self.slips is not None:
            self._print_slip(state)
        self._changed()

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
            self._changed()

    @property
    def canceling(self) -> bool:
        """A code payment is being called back at the acquirer."""
        return self.state is PayState.CODE_CONFIRM and self._reverse_now.is_set()

    def acknowledge(self) -> None:
        """The citizen confirmed they have the reference (the screen's Finish): the visit may end."""
        if self.state in (PayState.UNKNOWN, PayState.REFUND_OWED):
            self.slip = "noted"
            self._changed()

    def _print_slip(self, state: PayState) -> None:
        refund = state in (PayState.REFUNDED, PayState.REFUND_OWED)
        reference = show_reference(self.reference or self.refund_reference or "")
        refund_reference = show_reference(self.refund_reference or "") if refund else ""
        amount, gen, slips = yuan(self.amount_fen), self._generation, self.slips
        self.slip = "printing"

        def done(printed, error):
            if error is not None:
                log.error("money slip for %s: %s", reference, error)
            if gen == self._generation:
                self.slip = "printed" if printed and error is None else "failed"
                self._changed()

        self.background.run(lambda: slips.print(state.value, reference=reference, amount=amount,
                                                refund_reference=refund_reference), done)

    # -- what the citizen does ---------------------------------------------------------------------
    def start(self, service: str, amount_fen: int) -> bool:
        """Ask for `amount_fen` for `service`. False (and nothing starts) until restart recovery is done
        or when no way to pay is available."""
        if amount_fen <= 0:
            raise ValueError("a payment needs a positive amount; a free service skips payment")
        if not self.ledger.recovered.is_set():
            log.warning("payment refused: the payments a restart left are still being checked")
            return False
        if not self.methods:
            return False
        self.reset()
        self.service, self.amount_fen = service, amount_fen
        self._set(PayState.CHOOSE)
        return True

    def cancel(self) -> bool:
        """Stop before anything was sent; False once a request is out (the terminal or phone ends it)."""
        if not self.state.cancelable:
            return False
        if self.state is PayState.WAIT_CODE and self._cancel_token is not None:
            self._cancel_token.cancel()
        self._generation += 1
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
        ref, amount, service, gen = self.reference, self.amount_fen, self.service, self._generation

        def work():
            pending = self.terminal.prepare_sale(amount, reference=ref)
            # persisted and committed BEFORE the request leaves: a restart finds it and asks first
            self.ledger.prepare(ref, "sale", "card", "card", amount, service, pending=pending.as_dict())
            outcome = self.terminal.send(pending)
            return self._settle_card(ref, outcome)

        self.background.run(work, lambda result, error: self._answered(gen, ref, result, error))
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
        gen = self._generation
        scanner, timeout = self.scanner, self.code_scan_timeout_s

        def work():
            scanner.discard_pending()  # a code scanned before we asked is not this payment's
            return scanner.read_code(timeout, cancel=token)

        self.background.run(work, lambda code, error: self._code_scanned(gen, code, error))

    def _code_scanned(self, gen: int, code, error) -> None:
        if gen != self._generation or self.state is not PayState.WAIT_CODE:
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
        value = code.value

        def work():
            self.ledger.prepare(ref, "sale", "code", channel, amount, service)
            state, detail = self._code_sale(ref, amount, value, channel, service)
            self.ledger.settle(ref, state, detail)
            return state, detail

        self.background.run(work, lambda result, error: self._answered(gen, ref, result, error))

    def _code_sale(self, ref: str, amount: int, code: str, channel: str, service: str) -> tuple[str, str]:
        """Pay, follow the payer's confirmation, and call back what stays unclear. Never pays twice."""
        try:
            answer = self.gateway.pay(ref, amount, code, channel, service)
        except GatewayError as exc:
            log.warning("payment %s: no answer to pay (%s); querying, never paying again", ref, exc)
            answer = self._query(ref)
        deadline = self.clock.monotonic() + self.code_confirm_timeout_s
        reverse_now = self._reverse_now
        while (answer.status in ("pending", "unknown", "not_found") and self.clock.monotonic() < deadline
               and not reverse_now.is_set()):
            self.clock.sleep(self.code_poll_s)   # a call-back request is acted on at the next poll
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

    def _answered(self, gen: int, ref: str, result, error) -> None:
        if error is not None:
            # the ledger or the device failed in a way we did not foresee: the outcome is not known
            log.error("payment %s: %s: %s", ref, type(error).__name__, error)
            state, detail = "unknown", f"error:{type(error).__name__}"
            try:
                row = self.ledger.get(ref)
                if row is None:  # it was never recorded, so it was never sent
                    state, detail = "declined", "not_sent:could_not_record"
                elif row.state == "in_flight":
                    self.ledger.settle(ref, "unknown", detail)
                else:
                    state = row.state if row.state != "canceled" else "declined"
            except Exception:
                log.exception("payment %s: the ledger cannot be read", ref)
        else:
            state, detail = result
        if gen != self._generation:
            # the visit ended meanwhile: the ledger holds the outcome; money taken for it goes back
            if state == "approved":
                self.background.run(lambda: self._give_back_orphan(ref), lambda what, error: log.warning(
                    "payment %s approved after its visit ended: %s", ref, error or what))
            return
        target = {"approved": PayState.APPROVED, "declined": PayState.DECLINED, "unknown": PayState.UNKNOWN,
                  "canceled": PayState.DECLINED}[state]
        self._set(target, detail)

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
        rref, channel = self.refund_reference, self.channel
        self._set(PayState.REFUNDING)
        gen = self._generation

        def work():
            if method == "card":
                pending = self.terminal.prepare_refund(amount, reference=rref)
                self.ledger.prepare(rref, "refund", "card", channel, amount, service,
                                    pending=pending.as_dict(), sale_reference=sale)
                outcome = self.terminal.send(pending)
                result = getattr(outcome.result, "value", str(outcome.result))
                state = result if result in ("approved", "declined") else "unknown"
                if result == "declined" and not outcome.sent:
                    state = "canceled"
                self.ledger.settle(rref, state, outcome.detail)
            else:
                self.ledger.prepare(rref, "refund", "code", channel, amount, service, sale_reference=sale)
                try:
                    answer = self.gateway.refund(sale, rref, amount)
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

        def done(state, error):
            if error is not None:
                log.error("refund of %s failed: %s", sale, error)
                try:
                    self.ledger.refund_owed(sale, f"{why}; refund failed: {type(error).__name__}")
                except Exception:
                    log.exception("refund of %s: not even the alarm could be written", sale)
                state = "error"
            if gen == self._generation:
                self._set(PayState.REFUNDED if state == "approved" else PayState.REFUND_OWED, str(state))

        self.background.run(work, done)
        return True

    def _query_refund(self, sale: str, rref: str, exc: Exception) -> CodeAnswer:
        log.warning("refund %s of %s: no answer (%s); querying the sale", rref, sale, exc)
        answer = self._query(sale)
        return CodeAnswer("refunded", "refunded_per_query") if answer.status == "refunded" else answer
