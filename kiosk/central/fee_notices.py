"""Fee notices at the platform (缴费, issue 18 item 2): the issuer port, and the desk that serves the kiosks.

The notices belong to a finance bureau's non-tax revenue system, the *issuer*. The platform reaches it
through `FeeNoticeIssuer`, a small port: is a number of its form, what does a notice say, mark it paid by
a payment (atomically: a notice is paid once), mark it unpaid again (the payment was given back). The
reference platform comes with a demo issuer (kiosk/central/fee_issuer.py) over its own database; a
deployment names its own in `central.toml`:

    [fees]
    issuer = "package.module:make"      # make(settings: dict, db: CentralDB) -> FeeNoticeIssuer
    receipt_base_url = "https://hall.example.gov.cn/r/"

`FeeDesk` is what the routes use (kiosk/central/routes/fees.py):

- `look_up(kiosk, number)`: the notice for the kiosk's screen (payer masked), or a refusal with a
  stable code: `notice_malformed`, `notice_unknown`, `notice_other_hall` (a kiosk takes payment for the
  notices of its hall: the hall the queue system places it in, or one of its fleet groups), `notice_paid`,
  `notice_expired` (`due_date` is the last day, China Standard Time);
- `apply()`: the payments kiosks reported (kiosk/central/fee_intake.py wrote them with their
  transaction) applied to their notices once the batch is committed, outside it, since an issuer may
  be remote: `paid`, or `refund_due` with the reason (the notice was paid by another payment meanwhile,
  expired, of another amount, ...) for staff to give back; never silently accepted. A payment whose
  issuer could not be asked stays `received` and is tried again at the next apply. A `refund` of the
  sale settles it (`refunded`; a notice it had paid is unpaid again);
- `receipt(token)`: what the e-receipt page (`GET /r/{token}`) shows.
"""
from __future__ import annotations

import importlib
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Protocol, runtime_checkable

from sqlalchemy import text

from kiosk.wire.fees import NOTICE_NUMBER, REFUSAL_STATUS, receipt_token_digest

log = logging.getLogger(__name__)

HALL_TZ = timezone(timedelta(hours=8))   # a notice's due date is a day of the hall's calendar (China)
DEMO_ISSUER = "kiosk.central.fee_issuer:demo"
MAX_ATTEMPTS_LOGGED = 3
APPLY_EVERY_S = 10   # after_batch: the longest a payment another worker stored waits to be applied


class IssuerUnavailable(Exception):
    """The issuer could not answer now (its system is down, a timeout): nothing was decided there."""


@dataclass(frozen=True)
class IssuedNotice:
    """A notice as its issuer holds it, with the payer already masked (the platform never needs more)."""

    number: str
    department: str
    hall: str                        # the issuing hall's code
    hall_name: str
    payer_masked: str
    items: tuple[tuple[str, int], ...]   # (name, amount in fen)
    total_fen: int
    due_date: date
    paid: bool
    paid_at: float | None = None


@dataclass(frozen=True)
class PaidWith:
    """The payment that pays a notice: `payment_id` ("kiosk_id/reference") is what an issuer is idempotent on."""

    payment_id: str
    amount_fen: int
    paid_at: datetime
    channel: str


@runtime_checkable
class FeeNoticeIssuer(Protocol):
    def well_formed(self, number: str) -> bool:
        """The issuer's own form beyond 20 digits (a check digit): False says the number has a typo."""
        ...

    def look_up(self, number: str) -> IssuedNotice | None:
        """The notice, or None when there is none of that number. Raises IssuerUnavailable."""
        ...

    def mark_paid(self, number: str, payment: PaidWith) -> bool:
        """Mark the notice paid by `payment`, atomically: True when it is now paid by this payment (again
        True for the same payment_id), False when another payment paid it first. Raises IssuerUnavailable."""
        ...

    def mark_unpaid(self, number: str, payment_id: str) -> None:
        """The payment that paid the notice was given back: the notice is unpaid again."""
        ...


def load_issuer(spec: str, settings: dict[str, Any], db) -> FeeNoticeIssuer:
    """The issuer `module:callable` names, called with the `[fees]` table and the platform's database."""
    module, _, attr = spec.partition(":")
    issuer = getattr(importlib.import_module(module), attr)(settings, db)
    if not isinstance(issuer, FeeNoticeIssuer):
        raise TypeError(f"[fees] issuer = {spec!r} gave a {type(issuer).__name__}, not a fee-notice issuer "
                        "(well_formed, look_up, mark_paid, mark_unpaid)")
    return issuer


class NoticeRefused(Exception):
    """A notice a kiosk must not take payment for: the refusal's stable code, a sentence and details."""

    def __init__(self, code: str, message: str, details: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.code, self.message, self.details = code, message, details
        self.status = REFUSAL_STATUS[code]


def expired(notice: IssuedNotice, at: datetime) -> bool:
    return at.astimezone(HALL_TZ).date() > notice.due_date


def notice_doc(notice: IssuedNotice) -> dict[str, Any]:
    """The notice as the kiosk and the receipt read it (no receipt address)."""
    return {"number": notice.number, "department": notice.department, "hall": notice.hall,
            "hall_name": notice.hall_name, "payer_masked": notice.payer_masked,
            "items": [{"name": n, "amount_fen": a} for n, a in notice.items], "total_fen": notice.total_fen,
            "currency": "CNY", "due_date": notice.due_date.isoformat()}


@dataclass(frozen=True)
class ReceiptView:
    state: str              # received | paid | refund_due | refunded
    reason: str | None
    fee_notice: str
    amount_fen: int
    channel: str
    reference: str
    paid_at: str            # RFC 3339 as the kiosk wrote it
    kiosk_id: str
    notice: dict[str, Any] | None


class FeeDesk:
    """The platform's side of paying fee notices, over its database and one issuer (see the module docstring).
    Each call opens its own database transactions: several workers may serve it at once (PostgreSQL)."""

    def __init__(self, db, issuer: FeeNoticeIssuer, *, receipt_base_url: str | None = None,
                 hall_of: Callable[[str], str | None] | None = None):
        self.db = db
        self.issuer = issuer
        self.receipt_base_url = receipt_base_url
        self.hall_of = hall_of      # the hall the platform's queue system places a kiosk in (kiosk/central/queues.py)
        self._left = False          # the last apply left payments to ask the issuer about again
        self._applied_at = float("-inf")

    def halls(self, kiosk_id: str) -> list[str]:
        """The halls a kiosk takes notices of: the one the queue system places it in, and its fleet groups."""
        placed = self.hall_of(kiosk_id) if self.hall_of is not None else None
        return [*([placed] if placed else []), *self.db.kiosk_groups(kiosk_id)]

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.db.clock(), timezone.utc)

    # -- a kiosk looks a notice up ---------------------------------------------------------------------
    def look_up(self, kiosk_id: str, number: str, base_url: str) -> dict[str, Any]:
        """The notice for the kiosk's screen; NoticeRefused when it must not be paid there; IssuerUnavailable."""
        if not NOTICE_NUMBER.match(number) or not self.issuer.well_formed(number):
            raise NoticeRefused("notice_malformed", "a notice number has 20 digits and a valid check digit; "
                                                    "this one has a typo")
        notice = self.issuer.look_up(number)
        if notice is None:
            raise NoticeRefused("notice_unknown", f"no notice {number} is known to the issuer")
        halls = self.halls(kiosk_id)
        if notice.hall not in halls:
            log.info("kiosk %s asked for notice %s of hall %s; its halls are %s", kiosk_id, number, notice.hall,
                     halls or "none (place it in a hall of the queue system, or add-kiosk --group HALL)")
            raise NoticeRefused("notice_other_hall", f"notice {number} is paid at the halls of {notice.hall_name}",
                                [{"hall_name": notice.hall_name}])
        if notice.paid:
            paid_on = (datetime.fromtimestamp(notice.paid_at, HALL_TZ).date().isoformat()
                       if notice.paid_at is not None else None)
            raise NoticeRefused("notice_paid", f"notice {number} is paid already", [{"paid_on": paid_on}])
        if expired(notice, self.now()):
            raise NoticeRefused("notice_expired", f"notice {number} was due by {notice.due_date.isoformat()}",
                                [{"due_date": notice.due_date.isoformat()}])
        return {**notice_doc(notice), "state": "unpaid",
                "receipt_base_url": self.receipt_base_url or base_url.rstrip("/") + "/r/"}

    # -- payments reported by kiosks -------------------------------------------------------------------
    def after_batch(self, kinds_stored: set[str]) -> int:
        """apply() after a batch is committed, when there may be something to apply: the batch stored a
        payment or refund, the last apply left payments to ask again, or APPLY_EVERY_S has passed (the rows
        another worker stored and did not live to apply). Not a query of fee_payments with every batch."""
        now = self.db.clock()
        if (self._left or not kinds_stored.isdisjoint(("payment", "refund"))
                or not 0 <= now - self._applied_at < APPLY_EVERY_S):
            self._applied_at = now
            return self.apply()
        return 0

    def apply(self) -> int:
        """Apply what is due (see the module docstring); returns how many rows changed.

        Another worker may apply the same row at the same time (the issuer is idempotent on the payment):
        each row's outcome is written only while the row is still in the state it was read in, so one of
        them writes it; the other leaves it be (see `_lost`)."""
        changed, left = 0, False
        with self.db.reading() as conn:
            rows = conn.execute(text(
                "SELECT * FROM fee_payments WHERE state = 'received' OR (refund_id IS NOT NULL"
                " AND state != 'refunded') ORDER BY received_at, transaction_id")).mappings().all()
        for row in rows:
            try:
                state, reason, notice = self._settle(row)
            except (IssuerUnavailable, ValueError, LookupError, TypeError) as exc:
                # the issuer down, or a row it cannot judge (a defect, logged): left received, asked again later
                self._write("UPDATE fee_payments SET attempts = attempts + 1, last_error = :error, updated_at = :now"
                            " WHERE transaction_id = :id AND state = :was",
                            {"error": str(exc)[:300], "now": self.db.clock(), "id": row["transaction_id"],
                             "was": row["state"]})
                left = True
                if row["attempts"] < MAX_ATTEMPTS_LOGGED:
                    log.warning("fee payment %s of notice %s: the issuer cannot be asked now (%s); tried again "
                                "with the next request", row["reference"], row["fee_notice"], exc)
                continue
            won = self._write("UPDATE fee_payments SET state = :state, reason = :reason,"
                              " notice = coalesce(:notice, notice), attempts = attempts + 1, last_error = NULL,"
                              " updated_at = :now WHERE transaction_id = :id AND state = :was",
                              {"state": state, "reason": reason,
                               "notice": json.dumps(notice, ensure_ascii=False) if notice else None,
                               "now": self.db.clock(), "id": row["transaction_id"], "was": row["state"]})
            if not won:
                self._lost(row, state)
                continue
            changed += 1
            if state == "refund_due":
                log.warning("fee payment %s of %d fen from kiosk %s for notice %s NOT applied (%s): the payment "
                            "is owed back to the payer (GET /api/v1/fee-payments?state=refund_due)", row["reference"],
                            row["amount_fen"], row["kiosk_id"], row["fee_notice"], reason)
            else:
                log.info("fee payment %s from kiosk %s: notice %s %s", row["reference"], row["kiosk_id"],
                         row["fee_notice"], state)
        self._left = left
        return changed

    def _settle(self, row) -> tuple[str, str | None, dict[str, Any] | None]:
        number, payment_id = row["fee_notice"], f"{row['kiosk_id']}/{row['reference']}"
        if row["refund_id"] is not None:
            if row["state"] == "paid":
                self.issuer.mark_unpaid(number, payment_id)
            return "refunded", row["reason"], None
        if not NOTICE_NUMBER.match(number):
            return "refund_due", "notice_malformed", None
        notice = self.issuer.look_up(number)
        if notice is None:
            return "refund_due", "notice_unknown", None
        doc = notice_doc(notice)
        if notice.hall not in self.halls(row["kiosk_id"]):
            return "refund_due", "notice_other_hall", doc
        if row["amount_fen"] != notice.total_fen:
            return "refund_due", "amount_differs", doc
        paid_at = datetime.fromisoformat(row["paid_at"])
        payment = PaidWith(payment_id, row["amount_fen"], paid_at, row["channel"])
        if expired(notice, paid_at) and not notice.paid:
            return "refund_due", "notice_expired", doc
        if not self.issuer.mark_paid(number, payment):
            return "refund_due", "notice_paid", doc
        return "paid", None, doc

    def _lost(self, row, state: str) -> None:
        """Another worker wrote the row first. Had this one just marked the notice paid while the other settled
        the row as given back (its refund arrived, and the row was read before this payment was), the notice
        is unpaid again here: a refunded payment never keeps a notice paid."""
        if state != "paid":
            return
        with self.db.reading() as conn:
            now = conn.execute(text("SELECT state FROM fee_payments WHERE transaction_id = :id"),
                               {"id": row["transaction_id"]}).scalar_one_or_none()
        if now != "refunded":
            return
        try:
            self.issuer.mark_unpaid(row["fee_notice"], f"{row['kiosk_id']}/{row['reference']}")
        except IssuerUnavailable as exc:
            log.error("fee payment %s was given back while notice %s was being marked paid by it, and the issuer "
                      "cannot be asked to unmark it now (%s): check the notice there", row["reference"],
                      row["fee_notice"], exc)

    def _write(self, sql: str, params: dict[str, Any]) -> int:
        with self.db.begin() as conn:
            return conn.execute(text(sql), params).rowcount

    def taken_by_another(self, kiosk_id: str, reference: str, transaction_id: str) -> bool:
        """The sale `reference` was reported with another transaction (a defect of the sender)."""
        with self.db.reading() as conn:
            stored = conn.execute(text("SELECT transaction_id FROM fee_payments WHERE kiosk_id = :kiosk_id"
                                       " AND reference = :reference"),
                                  {"kiosk_id": kiosk_id, "reference": reference}).scalar_one_or_none()
        return stored is not None and stored != transaction_id

    def answer(self, kiosk_id: str, reference: str, transaction: str) -> dict[str, Any]:
        """What a kiosk is told of its payment `reference` (reported, so recorded)."""
        with self.db.reading() as conn:
            row = conn.execute(text("SELECT * FROM fee_payments WHERE kiosk_id = :kiosk_id AND reference = :reference"),
                               {"kiosk_id": kiosk_id, "reference": reference}).mappings().fetchone()
        return {"reference": row["reference"], "fee_notice": row["fee_notice"], "transaction": transaction,
                "status": row["state"], "reason": row["reason"]}

    def payments(self, state: str | None, limit: int) -> list[dict[str, Any]]:
        """The payments reported, newest change first (operator); `refund_due` lists what is owed back."""
        sql = ("SELECT transaction_id, kiosk_id, reference, fee_notice, amount_fen, channel, paid_at, state, reason,"
               " refund_id, attempts, last_error, received_at, updated_at FROM fee_payments")
        params: dict[str, Any] = {"limit": limit}
        if state:
            sql += " WHERE state = :state"
            params["state"] = state
        sql += " ORDER BY updated_at DESC, transaction_id LIMIT :limit"
        with self.db.reading() as conn:
            return [dict(r) for r in conn.execute(text(sql), params).mappings()]

    # -- the e-receipt ---------------------------------------------------------------------------------
    def receipt(self, token: str) -> ReceiptView | None:
        with self.db.reading() as conn:
            row = conn.execute(text("SELECT * FROM fee_payments WHERE token_sha256 = :digest"),
                               {"digest": receipt_token_digest(token)}).mappings().fetchone()
        if row is None:
            return None
        return ReceiptView(row["state"], row["reason"], row["fee_notice"], row["amount_fen"], row["channel"],
                           row["reference"], row["paid_at"], row["kiosk_id"],
                           json.loads(row["notice"]) if row["notice"] else None)
