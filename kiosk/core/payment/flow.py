"""Paying for a service at the kiosk: the card terminal or a payment code, and never a guessed outcome.

Three parts:

`PaymentLedger` keeps every sale and refund in the `payments` table. A row is
written (committed) BEFORE the request leaves the kiosk; its outcome is written
with the `payment` or `refund` outbox transaction in the same commit. A payment
whose outcome is not known is an alarm of its own (`payment:outcome_unknown_REF`)
with the reference number the citizen was shown.

`PaymentFlow` is one citizen paying, a plain state machine:

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
ended is recorded in the ledger, and a sale approved for a visit that is gone
is given back (a code payment is refunded; a card sale is handed to staff).

When money went wrong (an unknown outcome, a refund after the service failed,
a refund that could not be made here) the citizen gets a slip
(kiosk/core/money_slip.py); `slip` says whether it printed, and while it has
not the reference stays on screen until the citizen confirms.

`PaymentRecovery` runs when the UI starts, before any new payment: every row
still `in_flight` is queried (the card terminal's late answer, the acquirer's
query), and an approved sale whose service never happened is refunded (code) or
handed to staff (card: the cardholder has gone).

Payment codes go through a `CodePaymentGateway`: an acquirer's back-end, which
this project cannot include. `CentralDemoAcquirer` implements it against the
reference central platform's demo endpoints (docs/central-api.md); a real
deployment plugs in its acquirer's gateway instead.
"""
from __future__ import annotations

import enum
import json
import logging
import secrets
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from kiosk.alarms import Alarms
from kiosk.core.background import Background
from kiosk.core.flow import FREE, Leave, Leaving
from kiosk.core.listeners import tell_listeners
from kiosk.store import explain, transaction

log = logging.getLogger(__name__)

REFERENCE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O: read aloud to staff without doubt
REFERENCE_SIZE = 10                                        # the Concert private field's size


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_SIZE))


def show_reference(reference: str) -> str:
    """`K7Q2M-9X4A1`: two groups of five, easier to read out and copy."""
    return f"{reference[:5]}-{reference[5:]}" if len(reference) == REFERENCE_SIZE else reference


def yuan(fen: int) -> str:
    """`¥1.50`: fen shown as yuan, always with two decimals."""
    return f"¥{fen // 100}.{fen % 100:02d}"


class Clock(Protocol):
    def monotonic(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


# --- payment codes: the acquirer's interface ----------------------------------------------------------

class GatewayError(Exception):
    """The acquirer's answer did not arrive (network, timeout, 5xx): the outcome is NOT known."""


@dataclass(frozen=True)
class CodeAnswer:
    # approved | declined | pending (payer still confirming) | reversed | refunded | not_found | unknown
    status: str
    detail: str = ""


class CodePaymentGateway(ABC):
    """Pay with a WeChat/Alipay payment code the citizen shows to the scanner (an acquirer's back-end).

    Every call is idempotent on `reference`: paying the same reference twice charges once. A call
    whose answer does not arrive raises `GatewayError`; the caller then queries, never pays again.
    """

    @abstractmethod
    def pay(self, reference: str, amount_fen: int, code: str, channel: str, service: str) -> CodeAnswer: ...

    @abstractmethod
    def query(self, reference: str) -> CodeAnswer: ...

    @abstractmethod
    def reverse(self, reference: str) -> CodeAnswer:
        """Call back a payment whose outcome is pending or unknown: `reversed` when it will never be charged."""

    @abstractmethod
    def refund(self, reference: str, refund_reference: str, amount_fen: int) -> CodeAnswer: ...


class CentralDemoAcquirer(CodePaymentGateway):
    """The demo acquirer of the reference central platform (POST /api/v1/payments/code, ...).

    For demos and tests only: outcomes are chosen by the code's last digit
    (docs/central-api.md). A deployment replaces it with its acquirer's gateway.
    """

    def __init__(self, central, timeout_s: float | None = None):
        self.central = central  # kiosk.sync.client.CentralClient
        self.timeout_s = timeout_s or central.lookup_timeout_s * 2

    def _call(self, method: str, path: str, body: dict | None = None) -> CodeAnswer:
        from kiosk.sync.client import CentralError, CentralNotFound

        try:
            # the client's signed request; the demo endpoints are not part of the sync API it wraps
            resp = self.central._request(method, path, body=body, timeout=self.timeout_s)
        except CentralNotFound:
            return CodeAnswer("not_found", "not_found")
        except CentralError as exc:
            raise GatewayError(str(exc)) from None
        try:
            doc = resp.json()
            return CodeAnswer(str(doc["status"]), str(doc.get("detail") or ""))
        except (ValueError, KeyError, TypeError):
            raise GatewayError(f"{method} {path}: the answer is not a payment status") from None

    def pay(self, reference, amount_fen, code, channel, service):
        return self._call("POST", "/api/v1/payments/code", {
            "reference": reference, "amount_fen": amount_fen, "code": code, "channel": channel,
            "service": service})

    def query(self, reference):
        return self._call("GET", f"/api/v1/payments/code/{reference}")

    def reverse(self, reference):
        return self._call("POST", f"/api/v1/payments/code/{reference}/reverse", {})

    def refund(self, reference, refund_reference, amount_fen):
        return self._call("POST", f"/api/v1/payments/code/{reference}/refund",
                          {"refund_reference": refund_reference, "amount_fen": amount_fen})


# --- the ledger ---------------------------------------------------------------------------------------

class Enqueues(Protocol):
    def enqueue(self, conn: sqlite3.Connection, kind: str, data: dict[str, Any]): ...


@dataclass(frozen=True)
class PaymentRow:
    reference: str
    kind: str
    method: str
    channel: str
    amount_fen: int
    service: str
    state: str
    detail: str | None
    pending: dict | None
    sale_reference: str | None
    service_state: str
    outbox_id: str | None


class PaymentLedger:
    """The `payments` table: written before a request is sent, settled with its outbox transaction.

    Each thread gets its own connection (SQLite connections stay in their thread):
    flows write from worker threads, screens never touch it.
    """

    def __init__(self, store, outbox: Enqueues, *, now: Callable[[], float] = time.time):
        self.store = store
        self.outbox = outbox
        self.now = now
        self._local = threading.local()
        self.recovered = threading.Event()  # set once PaymentRecovery has looked at what a restart left

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self.store.connect()
        return conn

    def alarms(self) -> Alarms:
        return Alarms(self.conn(), self.outbox, now=self.now)

    def _write(self, fn):
        conn = self.conn()
        try:
            with transaction(conn):
                return fn(conn)
        except sqlite3.Error as exc:
            raise explain(exc, "kiosk database") from None

    def prepare(self, reference: str, kind: str, method: str, channel: str, amount_fen: int, service: str,
                pending: dict | None = None, sale_reference: str | None = None) -> None:
        """Record a payment about to be sent (committed when this returns)."""
        now = self.now()
        self._write(lambda c: c.execute(
            "INSERT INTO payments (reference, kind, method, channel, amount_fen, service, state, pending,"
            " sale_reference, created_at, updated_at) VALUES (?,?,?,?,?,?,'in_flight',?,?,?,?)",
            (reference, kind, method, channel, amount_fen, service, json.dumps(pending) if pending else None,
             sale_reference, now, now)))

    def get(self, reference: str) -> PaymentRow | None:
        row = self.conn().execute("SELECT * FROM payments WHERE reference=?", (reference,)).fetchone()
        return _row(row) if row else None

    def rows(self, where: str = "1", params: tuple = ()) -> list[PaymentRow]:
        return [_row(r) for r in self.conn().execute(f"SELECT * FROM payments WHERE {where} ORDER BY created_at",
                                                     params)]

    def settle(self, reference: str, state: str, detail: str) -> PaymentRow:
        """The outcome of a sent request; approved ones get their outbox transaction in the same commit,
        unknown ones an alarm for staff with the reference."""
        if state not in ("approved", "declined", "unknown", "canceled"):
            raise ValueError(f"unknown payment state {state!r}")

        def apply(c):
            row = c.execute("SELECT * FROM payments WHERE reference=?", (reference,)).fetchone()
            if row is None:
                raise ValueError(f"no payment {reference!r} in the ledger")
            p = _row(row)
            outbox_id = p.outbox_id
            if state == "approved" and p.outbox_id is None:
                if p.kind == "sale":
                    entry = self.outbox.enqueue(c, "payment", {
                        "reference": p.reference, "method": p.method, "channel": p.channel,
                        "amount_fen": p.amount_fen, "currency": "CNY", "service": p.service, "result": "approved"})
                else:
                    entry = self.outbox.enqueue(c, "refund", {
                        "reference": p.reference, "payment_reference": p.sale_reference, "method": p.method,
                        "channel": p.channel, "amount_fen": p.amount_fen, "currency": "CNY", "service": p.service})
                    c.execute("UPDATE payments SET service_state='refunded', updated_at=? WHERE reference=?",
                              (self.now(), p.sale_reference))
                outbox_id = entry.id
            c.execute("UPDATE payments SET state=?, detail=?, outbox_id=?, updated_at=? WHERE reference=?",
                      (state, detail, outbox_id, self.now(), reference))
            alarms = Alarms(c, self.outbox, now=self.now)
            code = f"outcome_unknown_{reference}"
            if state == "unknown":
                alarms_apply_raise(alarms, "payment", code,
                                   f"{p.kind} {show_reference(reference)} of {yuan(p.amount_fen)} by {p.channel} "
                                   f"for {p.service}: outcome unknown ({detail}); check the terminal's journal or "
                                   "the acquirer's statement before any new attempt")
            elif alarms_is_active(c, "payment", code):
                alarms_apply_clear(alarms, "payment", code, f"settled as {state} ({detail})")
            return _row(c.execute("SELECT * FROM payments WHERE reference=?", (reference,)).fetchone())

        result = self._write(apply)
        log.info("payment %s (%s %s, %d fen): %s (%s)", reference, result.kind, result.channel,
                 result.amount_fen, state, detail)
        return result

    def mark_delivered(self, conn: sqlite3.Connection, reference: str) -> None:
        """Inside the caller's transaction (the `print` record): the sale's service happened."""
        conn.execute("UPDATE payments SET service_state='delivered', updated_at=? WHERE reference=? AND kind='sale'",
                     (self.now(), reference))

    def refund_owed(self, reference: str, why: str) -> None:
        """The service failed and the money could not be given back here: staff settle it (alarm)."""
        def apply(c):
            p = _row(c.execute("SELECT * FROM payments WHERE reference=?", (reference,)).fetchone())
            c.execute("UPDATE payments SET service_state='refund_owed', updated_at=? WHERE reference=?",
                      (self.now(), reference))
            alarms_apply_raise(Alarms(c, self.outbox, now=self.now), "payment", f"refund_owed_{reference}",
                               f"refund owed: sale {show_reference(reference)} of {yuan(p.amount_fen)} by "
                               f"{p.channel} for {p.service}: {why}")
        self._write(apply)
        log.warning("payment %s: refund owed, staff must settle it (%s)", reference, why)


def alarms_is_active(conn: sqlite3.Connection, device: str, code: str) -> bool:
    return conn.execute("SELECT 1 FROM alarms WHERE key=?", (f"{device}:{code}",)).fetchone() is not None


def _inline(alarms: Alarms) -> Alarms:
    """Alarms that write inside the caller's open transaction instead of opening their own."""
    class _Nested(Alarms):
        def _write(self, fn):
            return fn()
    return _Nested(alarms.conn, alarms.outbox, now=alarms.now)


def alarms_apply_raise(alarms: Alarms, device: str, code: str, detail: str) -> None:
    _inline(alarms).raise_alarm(device, code, detail, severity="fault")


def alarms_apply_clear(alarms: Alarms, device: str, code: str, detail: str) -> None:
    _inline(alarms).clear(device, code, detail)


def _row(r: sqlite3.Row) -> PaymentRow:
    return PaymentRow(r["reference"], r["kind"], r["method"], r["channel"], r["amount_fen"], r["service"],
                      r["state"], r["detail"], json.loads(r["pending"]) if r["pending"] else None,
                      r["sale_reference"], r["service_state"], r["outbox_id"])


# --- one citizen paying ---------------------------------------------------------------------------------

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


# --- after a restart --------------------------------------------------------------------------------

class PaymentRecovery:
    """Settle what a crash or power cut left open, before the kiosk takes any new payment."""

    def __init__(self, ledger: PaymentLedger, *, terminal=None, gateway: CodePaymentGateway | None = None,
                 reconcile_listen_s: float | None = None):
        self.ledger = ledger
        self.terminal = terminal
        self.gateway = gateway
        self.reconcile_listen_s = reconcile_listen_s

    def run(self) -> list[tuple[str, str]]:
        """(reference, what happened) for every row it looked at; sets `ledger.recovered` at the end."""
        report: list[tuple[str, str]] = []
        try:
            for row in self.ledger.rows("state='in_flight'"):
                state, detail = self._query(row)
                self.ledger.settle(row.reference, state, detail)
                report.append((row.reference, f"{row.kind} in flight -> {state} ({detail})"))
            # a sale approved whose service never happened (the citizen left with nothing)
            for row in self.ledger.rows("kind='sale' AND state='approved' AND service_state='open'"):
                report.append((row.reference, self.give_back(row)))
        finally:
            self.ledger.recovered.set()
        for ref, what in report:
            log.warning("payment recovery: %s: %s", ref, what)
        return report

    def _query(self, row: PaymentRow) -> tuple[str, str]:
        if row.method == "card":
            if self.terminal is None:
                return "unknown", "terminal_not_configured"
            from kiosk.hardware.payment import PendingSale

            try:
                outcome = self.terminal.reconcile(PendingSale.from_dict(row.pending), self.reconcile_listen_s)
            except Exception as exc:  # a terminal that is gone: the outcome stays for staff
                return "unknown", f"reconcile_failed:{type(exc).__name__}"
            result = getattr(outcome.result, "value", str(outcome.result))
            return (result if result in ("approved", "declined") else "unknown"), outcome.detail
        if self.gateway is None:
            return "unknown", "gateway_not_configured"
        try:
            answer = self.gateway.query(row.reference if row.kind == "sale" else row.sale_reference)
        except GatewayError as exc:
            return "unknown", f"query_unanswered:{exc}"[:200]
        if row.kind == "refund":
            return ("approved", "refunded_per_query") if answer.status == "refunded" else ("unknown", answer.status)
        if answer.status in ("approved", "declined"):
            return answer.status, f"after_restart:{answer.detail or answer.status}"
        if answer.status in ("pending", "unknown"):
            try:
                back = self.gateway.reverse(row.reference)
            except GatewayError:
                return "unknown", f"{answer.status}_after_restart"
            if back.status in ("reversed", "not_found"):
                return "canceled", "reversed_after_restart"
            if back.status == "approved":
                return "approved", "approved_late"
            return "unknown", f"{answer.status}_after_restart"
        if answer.status == "not_found":
            return "canceled", "never_reached_acquirer"
        return "unknown", answer.status

    def give_back(self, row: PaymentRow, why: str = "approved while the kiosk restarted; the service did not "
                                                     "happen") -> str:
        """An approved sale whose service never happened: a code payment is refunded, a card sale (the
        refund needs the cardholder's card) is handed to staff with an alarm."""
        if row.method == "code" and self.gateway is not None:
            rref = new_reference()
            self.ledger.prepare(rref, "refund", "code", row.channel, row.amount_fen, row.service,
                                sale_reference=row.reference)
            try:
                answer = self.gateway.refund(row.reference, rref, row.amount_fen)
            except GatewayError as exc:
                answer = CodeAnswer("unknown", f"refund_unanswered:{exc}"[:200])
            state = "approved" if answer.status in ("refunded", "approved") else (
                "declined" if answer.status == "declined" else "unknown")
            self.ledger.settle(rref, state, answer.detail or answer.status)
            if state == "approved":
                return f"refunded as {rref}"
        # a card refund needs the cardholder's card: staff settle it
        self.ledger.refund_owed(row.reference, why)
        return "refund owed (alarm raised)"
