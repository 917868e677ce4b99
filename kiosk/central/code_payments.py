"""The reference platform's demo acquirer of payment codes: deterministic outcomes for demos and tests.

There is no public acquirer for WeChat/Alipay payment codes, so the kiosk's
`CodePaymentGateway` (kiosk/core/payment.py) is, in a real hall, the acquirer's
own gateway. This stand-in behaves like one where it matters -- every call is
idempotent on the kiosk's reference, a payment may wait for the payer to
confirm, an answer may get lost -- and the code's LAST DIGIT picks the story:

    1  declined (insufficient balance)
    2  the payer confirms on the phone: `pending` at first, approved at the next query
    3  approved, but the answer to the pay request is lost (503): the kiosk must query
    4  never confirmed: stays `pending`; a reverse calls it back (`reversed`)
    5  never confirmed, and the reverse fails too (503): the outcome stays unknown
    other digits: approved at once

A refund gives back an approved payment once (`refunded`), idempotent on the
sale's reference. The code itself is never stored, only its SHA-256.
"""
from __future__ import annotations

import hashlib
from typing import Any, Callable

from sqlalchemy import Connection, RowMapping, select, text

from kiosk.central import schema

SCENARIOS = {"1": "declined", "2": "confirm_on_phone", "3": "answer_lost", "4": "never_confirmed",
             "5": "reverse_fails"}


class DemoError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class AnswerLost(Exception):
    """The demo's lost answer: the change IS stored, the caller answers 503."""


class DemoAcquirer:
    """The demo acquirer over the platform's database (kiosk/central/db.py `CentralDB`): each call is one
    transaction; a payment's row is locked while a call changes it (PostgreSQL), so that calls about the same
    reference at once happen one after the other."""

    def __init__(self, db, clock: Callable[[], float] | None = None):
        self.db = db
        self.clock = clock if clock is not None else db.clock

    @staticmethod
    def _get(conn: Connection, kiosk_id: str, reference: str, lock: bool = False) -> RowMapping | None:
        t = schema.demo_code_payments
        query = select(t).where(t.c.kiosk_id == kiosk_id, t.c.reference == reference)
        return conn.execute(query.with_for_update() if lock else query).mappings().fetchone()

    @staticmethod
    def _answer(row: RowMapping) -> dict[str, Any]:
        return {"reference": row["reference"], "status": row["status"], "amount_fen": row["amount_fen"],
                "channel": row["channel"], "detail": _detail(row)}

    def pay(self, kiosk_id: str, reference: str, amount_fen: int, code: str, channel: str,
            service: str) -> dict[str, Any]:
        digest = hashlib.sha256(code.encode()).hexdigest()
        now = self.clock()
        scenario = SCENARIOS.get(code[-1:], "approve")
        status = {"declined": "declined", "confirm_on_phone": "pending", "never_confirmed": "pending",
                  "reverse_fails": "pending"}.get(scenario, "approved")
        with self.db.begin() as conn:
            # one statement: of the same request twice at once, one inserts, the other finds its row
            new = conn.execute(text(
                "INSERT INTO demo_code_payments (kiosk_id, reference, amount_fen, channel, service, code_sha256,"
                " scenario, status, created_at, updated_at) VALUES (:kiosk_id, :reference, :amount_fen, :channel,"
                " :service, :digest, :scenario, :status, :now, :now) ON CONFLICT (kiosk_id, reference) DO NOTHING"),
                {"kiosk_id": kiosk_id, "reference": reference, "amount_fen": amount_fen, "channel": channel,
                 "service": service, "digest": digest, "scenario": scenario, "status": status,
                 "now": now}).rowcount == 1
            row = self._get(conn, kiosk_id, reference)
        if not new:
            if row["code_sha256"] != digest or row["amount_fen"] != amount_fen:
                raise DemoError(409, "conflict", f"reference {reference} was already used for another payment")
            return self._answer(row)  # the same request again: charged once, same answer
        if scenario == "answer_lost":
            raise AnswerLost(reference)
        return self._answer(row)

    def _update(self, conn: Connection, kiosk_id: str, reference: str, sets: str, **params: Any) -> RowMapping:
        return conn.execute(text(f"UPDATE demo_code_payments SET {sets}, updated_at = :now WHERE kiosk_id = :kiosk_id"
                                 " AND reference = :reference RETURNING *"),
                            {"kiosk_id": kiosk_id, "reference": reference, "now": self.clock(),
                             **params}).mappings().one()

    def query(self, kiosk_id: str, reference: str) -> dict[str, Any]:
        with self.db.begin() as conn:
            row = self._get(conn, kiosk_id, reference, lock=True)
            if row is None:
                raise DemoError(404, "not_found", f"no payment {reference} from kiosk {kiosk_id}")
            status = row["status"]
            if status == "pending" and row["scenario"] == "confirm_on_phone" and row["queries"] >= 1:
                status = "approved"
            return self._answer(self._update(conn, kiosk_id, reference, "queries = queries + 1, status = :status",
                                             status=status))

    def reverse(self, kiosk_id: str, reference: str) -> dict[str, Any]:
        with self.db.begin() as conn:
            row = self._get(conn, kiosk_id, reference, lock=True)
            if row is None:
                # never arrived: nothing to call back, and it can never be charged now
                raise DemoError(404, "not_found", f"no payment {reference} from kiosk {kiosk_id}")
            if row["scenario"] == "reverse_fails":
                raise AnswerLost(reference)
            if row["status"] == "pending":
                row = self._update(conn, kiosk_id, reference, "status = 'reversed'")
            return self._answer(row)

    def refund(self, kiosk_id: str, reference: str, refund_reference: str, amount_fen: int) -> dict[str, Any]:
        with self.db.begin() as conn:
            row = self._get(conn, kiosk_id, reference, lock=True)
            if row is None:
                raise DemoError(404, "not_found", f"no payment {reference} from kiosk {kiosk_id}")
            if row["status"] == "refunded":
                if row["refund_reference"] != refund_reference:
                    raise DemoError(409, "conflict", f"payment {reference} was already refunded")
                return self._answer(row)
            if row["status"] != "approved":
                raise DemoError(409, "conflict", f"payment {reference} is {row['status']}; only an approved "
                                                 "payment can be refunded")
            if amount_fen != row["amount_fen"]:
                raise DemoError(422, "invalid", f"refund of {amount_fen} fen; the payment was {row['amount_fen']}")
            return self._answer(self._update(conn, kiosk_id, reference,
                                             "status = 'refunded', refund_reference = :refund_reference",
                                             refund_reference=refund_reference))


def _detail(row: RowMapping) -> str:
    return {"declined": "insufficient_balance", "pending": "waiting_for_payer", "reversed": "reversed",
            "refunded": "refunded", "approved": "approved"}.get(row["status"], row["status"])
