"""The payments ledger: every sale and refund in the `payments` table, written before it is sent.

A row is written (committed) BEFORE the request leaves the kiosk; its outcome
is written with the `payment` or `refund` outbox transaction in the same
commit. A sale may name its `subject`, what it pays for when that may be paid
only once (a fee notice: `fee_notice:<number>`, kiosk/core/fees.py), and the
`record` fields its `payment` transaction carries beside the usual ones; such
a sale is delivered by that transaction (it tells the platform, which is the
service), so an approved one is never given back for want of a service. A payment whose outcome is not known is an alarm of its own
(`payment:outcome_unknown_REF`) with the reference number the citizen was
shown; a refund that could not be made here is `payment:refund_owed_REF`.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from kiosk.alarms import Alarms
from kiosk.core.payment.money import show_reference, yuan
from kiosk.store import PerThread, explain, transaction

log = logging.getLogger(__name__)


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
    subject: str | None = None          # what the sale pays for, where it may be paid once (fee_notice:<number>)
    record: dict | None = None          # more fields for its `payment` transaction


class PaymentLedger:
    """The `payments` table: written before a request is sent, settled with its outbox transaction.

    Each thread gets its own connection (SQLite connections stay in their thread):
    flows write from worker threads, screens never touch it.
    """

    def __init__(self, store, outbox: Enqueues, *, now: Callable[[], float] = time.time):
        self.store = store
        self.outbox = outbox
        self.now = now
        self.conn = PerThread(store.connect)   # this thread's connection: `ledger.conn()`
        self.recovered = threading.Event()  # set once PaymentRecovery has looked at what a restart left

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
                pending: dict | None = None, sale_reference: str | None = None, subject: str | None = None,
                record: dict | None = None) -> None:
        """Record a payment about to be sent (committed when this returns)."""
        now = self.now()
        self._write(lambda c: c.execute(
            "INSERT INTO payments (reference, kind, method, channel, amount_fen, service, state, pending,"
            " sale_reference, subject, record, created_at, updated_at) VALUES (?,?,?,?,?,?,'in_flight',?,?,?,?,?,?)",
            (reference, kind, method, channel, amount_fen, service, json.dumps(pending) if pending else None,
             sale_reference, subject, json.dumps(record, ensure_ascii=False) if record else None, now, now)))

    def get(self, reference: str) -> PaymentRow | None:
        row = self.conn().execute("SELECT * FROM payments WHERE reference=?", (reference,)).fetchone()
        return _row(row) if row else None

    def sales_for(self, subject: str) -> list[PaymentRow]:
        """Every sale of `subject` at this kiosk, oldest first."""
        return self.rows("kind='sale' AND subject=?", (subject,))

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
                        **(p.record or {}), "reference": p.reference, "method": p.method, "channel": p.channel,
                        "amount_fen": p.amount_fen, "currency": "CNY", "service": p.service, "result": "approved"})
                    if p.subject is not None:   # its transaction is the service (see the module docstring)
                        c.execute("UPDATE payments SET service_state='delivered', updated_at=? WHERE reference=?",
                                  (self.now(), reference))
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
                      r["sale_reference"], r["service_state"], r["outbox_id"], r["subject"],
                      json.loads(r["record"]) if r["record"] else None)
