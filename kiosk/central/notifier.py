"""The notifier: sends the queued messages (kiosk/central/sms_queue.py) through the SMS gateway.

`kiosk central notify` runs it as a process of its own (`kiosk central --notify` runs it in a thread of
the web server instead). Each pass, with the time injected:

1. deletes the applicants' numbers whose retention is over (kiosk/central/cases.py);
2. queues the reminders that are due (`pickup_reminder`, `pickup_overdue`), when `[notify] reminders`;
3. lets go the messages still waiting for a case that is on the platform now (posted by another worker
   while the message was queued);
4. claims every message due, one at a time with a lease, makes its text and sends it.

Each step is a short transaction of its own (`CentralDB.begin()`); none is open while the gateway is
asked. A claim is exclusive, so several notifiers may run against one database (SQLite or PostgreSQL).

A message's text is made only now, from the case, the deposit transaction and the pickup code, which the
notifier opens with its private key (kiosk/central/notice_key.py): the queue never holds a phone number or
a code, and neither does a log line or a stored failure reason (both are scrubbed of them). The gateway
gets the row's id as the message id on every attempt, so a notifier killed between sending and recording
is followed, after the lease, by an attempt that a deduplicating gateway does not send again.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import Connection, text
from sqlalchemy import exc as sa_exc

from kiosk import store
from kiosk.central import database, messages, notice_key, sms_queue
from kiosk.central.cases import CaseBook
from kiosk.central.db import CentralDB
from kiosk.central.settings import NotifySettings
from kiosk.central.sms import Gateway, SendError, Sms, mask_phone
from kiosk.central.sms.base import scrub
from kiosk.wire import sealed

log = logging.getLogger(__name__)

MAX_PER_PASS = 1000
HOUSEKEEPING_S = 60   # phone deletions and reminders: a minute late is on time
OUTCOMES = ("sent", "retrying", "dead", "skipped", "waiting")


class _Skip(Exception):
    """Nothing to send any more (the item is collected, the number deleted…): the reason is kept."""


class _Undeliverable(Exception):
    """This message can never be made (no sealed code, a code that does not open…): dead, with the reason."""


class _NoCase(Exception):
    """The case is not on the platform: the message waits for it."""


@dataclass(frozen=True)
class _Prepared:
    sms: Sms
    secrets: tuple[str, ...]   # besides the phone: what must never reach a log or a stored reason


class Notifier:
    def __init__(self, db: CentralDB, gateway: Gateway, settings: NotifySettings, key: X25519PrivateKey,
                 clock: Callable[[], float] = time.time):
        self.db, self.gateway, self.settings, self.key, self.clock = db, gateway, settings, key, clock
        self.cases = CaseBook(db, db.seal, None, clock)

    # -- a pass -----------------------------------------------------------------------------------

    def run_once(self, stop: threading.Event | None = None, *, housekeeping: bool = True) -> dict[str, int]:
        """One pass; `housekeeping`: with the phone deletions and the reminders (they need not run every
        `poll_s`: `run` does them every HOUSEKEEPING_S)."""
        s = self.settings
        summary = {k: 0 for k in OUTCOMES} | {"phones_deleted": 0, "reminders_queued": 0}
        now = self.clock()
        if housekeeping:
            deleted = self.cases.delete_expired_phones(now, s.phone_retention_days * 86400)
            if deleted:
                log.info("applicants' phone numbers deleted after %d days: cases %s", s.phone_retention_days,
                         ", ".join(deleted))
            summary["phones_deleted"] = len(deleted)
            if s.reminders:
                with self.db.begin() as conn:
                    summary["reminders_queued"] = sms_queue.schedule_reminders(conn, now, s.reminder_before_h * 3600)
        with self.db.begin() as conn:
            sms_queue.release_arrived(conn, now)
        for _ in range(MAX_PER_PASS):
            if stop is not None and stop.is_set():
                break
            with self.db.begin() as conn:
                claim = sms_queue.claim(conn, self.clock(), s.lease_s)
            if claim is None:
                break
            summary[self.send(claim)] += 1
        return summary

    def run(self, stop: threading.Event) -> None:
        """Passes every `[notify] poll_s` until `stop` is set. A database failure is logged and retried."""
        log.info("notifier: sending through gateway %s", self.gateway.name)
        last = None
        while not stop.is_set():
            try:
                due = last is None or time.monotonic() - last >= HOUSEKEEPING_S
                summary = self.run_once(stop, housekeeping=due)
                if due:
                    last = time.monotonic()
                if any(summary[k] for k in summary):
                    log.info("notifier pass: %s", {k: v for k, v in summary.items() if v})
            except sa_exc.SQLAlchemyError as exc:   # its first line only: never a statement's parameters
                log.error("notifier: the database failed (%s); trying again", database.explain_error(exc, self.db.url))
            except store.StoreError as exc:
                log.error("notifier: the database failed (%s); trying again", exc)
            stop.wait(self.settings.poll_s)

    # -- one message ------------------------------------------------------------------------------

    def send(self, claim: sms_queue.Claim) -> str:
        what = f"message {claim.id} ({claim.template}, case {claim.case_number})"
        try:
            prepared = self._prepare(claim, self.clock())
        except _NoCase:
            with self.db.begin() as conn:
                sms_queue.back_to_waiting(conn, claim, self.clock())
            return "waiting"
        except _Skip as exc:
            with self.db.begin() as conn:
                sms_queue.mark_skipped(conn, claim, self.clock(), str(exc))
            log.info("%s skipped: %s", what, exc)
            return "skipped"
        except _Undeliverable as exc:
            with self.db.begin() as conn:
                sms_queue.mark_failed(conn, claim, self.clock(), str(exc), retry_at=None)
            log.error("%s cannot be sent: %s", what, exc)
            return "dead"
        sms = prepared.sms
        masked = mask_phone(sms.phone)
        try:
            ref = self.gateway.send(sms)
        except SendError as exc:
            return self._failed(claim, what, masked, self._scrub(exc.reason, prepared), exc.retryable)
        except Exception as exc:  # noqa: BLE001 - a gateway's own bug must not stop the queue; tried again
            reason = self._scrub(f"the gateway failed unexpectedly: {type(exc).__name__}: {exc}", prepared)
            return self._failed(claim, what, masked, reason, True)
        with self.db.begin() as conn:
            recorded = sms_queue.mark_sent(conn, claim, self.clock(), self.gateway.name, str(ref), masked)
        if not recorded:
            log.warning("%s was sent, but another notifier had taken it over (lease %.0f s too short?)",
                        what, self.settings.lease_s)
        log.info("%s sent to %s via %s (attempt %d)", what, masked, self.gateway.name, claim.attempts)
        return "sent"

    def _failed(self, claim: sms_queue.Claim, what: str, masked: str, reason: str, retryable: bool) -> str:
        now = self.clock()
        again = retryable and claim.attempts < self.settings.max_attempts
        retry_at = now + self.settings.backoff(claim.attempts) if again else None
        with self.db.begin() as conn:
            sms_queue.mark_failed(conn, claim, now, reason, retry_at=retry_at, gateway=self.gateway.name,
                                  phone_masked=masked)
        if again:
            log.warning("%s to %s failed (attempt %d of %d), again in %.0f s: %s", what, masked, claim.attempts,
                        self.settings.max_attempts, retry_at - now, reason)
            return "retrying"
        log.error("%s to %s failed for good after %d attempts: %s", what, masked, claim.attempts, reason)
        return "dead"

    @staticmethod
    def _scrub(reason: str, prepared: _Prepared) -> str:
        """A failure's reason as stored and logged: no phone number, code or page token (gateways keep them
        out already; an unexpected exception's text may not)."""
        text = scrub(str(reason), prepared.sms)
        for value in prepared.secrets:
            text = text.replace(value, "***")
        return text

    def _prepare(self, claim: sms_queue.Claim, now: float) -> _Prepared:
        with self.db.reading() as conn:
            case = conn.execute(text("SELECT case_number, item_name, needs_id_card FROM cases"
                                     " WHERE case_number = :case"),
                                {"case": claim.case_number}).mappings().first() if claim.case_number else None
            if case is None:
                raise _NoCase()
            if claim.template == "handin_received":
                return self._prepare_handin(conn, claim, case)
            notice = conn.execute(text("SELECT * FROM notices WHERE deposit_id = :id"),
                                  {"id": claim.transaction_id}).mappings().first()
            tx = conn.execute(text("SELECT kiosk_id, data FROM transactions WHERE id = :id"),
                              {"id": claim.transaction_id}).mappings().first()
        if notice is None or tx is None:
            raise _Undeliverable("the deposit is not on the platform (quarantined?)")
        if notice["state"] != "held":
            raise _Skip(f"the item was {notice['state']} before this message went out")
        if claim.template == "pickup_reminder" and now >= notice["due_at"]:
            raise _Skip("the deadline passed before the reminder went out; the overdue notice goes instead")
        phone = self.cases.phone_of(case["case_number"])
        if phone is None:
            raise _Skip("the applicant's phone number was deleted")
        for key, column in (("hall", "hall"), ("due_at", "due_at")):
            if not notice[column]:
                raise _Undeliverable(f"the deposit has no data.{key} (a kiosk older than the applicant's notice)")
        data = json.loads(tx["data"])
        try:
            code = sealed.open_sealed(self.key, data.get("sealed_code"),
                                      sealed.binding(tx["kiosk_id"], data["case_number"], data["code_hash"]))
        except sealed.SealError as exc:
            raise _Undeliverable(f"the pickup code does not open: {exc}") from None
        token = notice_key.page_token(self.key, claim.transaction_id)
        with self.db.begin() as conn:
            conn.execute(text("UPDATE notices SET token_sha256 = :digest WHERE deposit_id = :id"),
                         {"digest": notice_key.token_digest(token), "id": claim.transaction_id})
        params = messages.pickup_params(
            case=case["case_number"], item=case["item_name"] or notice["item_name"] or "", hall=notice["hall"], place=notice["place"],
            due_at=notice["due_at"], offset_s=notice["utc_offset_s"], code=code,
            link=f"{self.settings.page_base_url}/p/{token}", needs_id_card=bool(case["needs_id_card"]))
        sms = Sms(message_id=claim.id, phone=phone, template=claim.template, params=params,
                  text=messages.render(claim.template, params))
        return _Prepared(sms, (code, token))

    def _hall_of(self, conn: Connection, kiosk_id: str) -> str:
        """The hall a kiosk's latest deposit named (a handin from an older kiosk does not name it)."""
        hall = conn.execute(text("SELECT hall FROM notices WHERE kiosk_id = :kiosk AND hall IS NOT NULL"
                                 " ORDER BY deposited_at DESC, deposit_id DESC LIMIT 1"), {"kiosk": kiosk_id}).scalar()
        return hall if hall is not None else "政务服务中心"

    def _prepare_handin(self, conn: Connection, claim: sms_queue.Claim, case) -> _Prepared:
        handin = conn.execute(text("SELECT * FROM handins WHERE handin_id = :id"),
                              {"id": claim.transaction_id}).mappings().first()
        if handin is None:
            raise _Undeliverable("the handin is not on the platform")
        if handin["state"] != "in_locker":
            raise _Skip("staff collected the materials before this message went out")
        phone = self.cases.phone_of(case["case_number"], staff=True, conn=conn)
        if phone is None:
            raise _Skip("the case has no staff_mobile to tell")
        hall = handin["hall"] or self._hall_of(conn, handin["kiosk_id"])
        params = messages.handin_params(case=case["case_number"], hall=hall, kiosk=handin["kiosk_id"],
                                        door=handin["door"], receipt_no=handin["receipt_no"],
                                        handed_in_at=datetime.fromisoformat(handin["handed_in_at"]))
        sms = Sms(message_id=claim.id, phone=phone, template=claim.template, params=params,
                  text=messages.render(claim.template, params))
        return _Prepared(sms, ())
