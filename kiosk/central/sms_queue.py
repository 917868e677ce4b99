"""The durable queue of text messages (table `sms_queue`): one row per (transaction, template), claimed
with a lease, retried with backoff, dead with its reason after too many tries.

A row's life:

    waiting  (its case is not on the platform yet) --case posted (or seen by the notifier)--> pending
    pending  --claim--> sending --sent--> sent
                        sending --failed, retryable, attempts left--> pending (next_at = now + backoff)
                        sending --failed otherwise--> dead (reason kept; GET /api/v1/notices?state=failed)
                        sending --nothing to send any more (collected, phone deleted…)--> skipped (reason kept)
    sending, lease over (the notifier died) --claim--> sending (attempt + 1, the same message id)

Rows hold no phone number and no code: the notifier makes the message when it sends it. Every function
here runs inside its caller's transaction (a sqlalchemy Connection from `CentralDB.begin()`), and every
change that could race is one statement (`INSERT … ON CONFLICT`, `UPDATE … WHERE state = …`) or works on a
row locked first, so several notifiers and the web server's workers share one database, SQLite or
PostgreSQL, without sending a message twice.
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, text

from kiosk.central import schema as T

STATES = ("waiting", "pending", "sending", "sent", "dead", "skipped")
MAX_REASON = 500
# `next_at` of a message due at once: not "now" by the writer's clock, which the web server and a notifier on
# another machine (or a notifier given --now) do not share; only retries are timed, by the notifier's clock
AT_ONCE = 0.0


def message_id(transaction_id: str, template: str) -> str:
    """The message's id for the gateway: the same for the same transaction and template, always."""
    return hashlib.sha256(f"{transaction_id}\x00{template}".encode()).hexdigest()[:32]


def enqueue(conn: Connection, transaction_id: str, template: str, kiosk_id: str, case_number: str | None,
            now: float, *, dead_reason: str | None = None) -> bool:
    """Queue a message (inside the caller's transaction); False when this one was already queued. It waits
    until its case is on the platform; `dead_reason`: it can never be sent, and operators see why.

    One `INSERT … ON CONFLICT DO NOTHING`: two workers queueing the same message queue it once. A case
    posted by another worker while this runs may not be seen yet (READ COMMITTED): the message then
    waits, and the notifier's next pass lets it go (`release_arrived`)."""
    if dead_reason is not None:
        state = "dead"
    else:
        known = case_number is not None and conn.execute(
            text("SELECT 1 FROM cases WHERE case_number = :c"), {"c": case_number}).first() is not None
        state = "pending" if known else "waiting"
    stored = conn.execute(text(
        "INSERT INTO sms_queue (id, transaction_id, template, kiosk_id, case_number, state, next_at, last_error,"
        " created_at, updated_at) VALUES (:id, :tx, :template, :kiosk, :case, :state, :next_at, :error, :now, :now)"
        " ON CONFLICT DO NOTHING RETURNING id"),
        {"id": message_id(transaction_id, template), "tx": transaction_id, "template": template, "kiosk": kiosk_id,
         "case": case_number, "state": state, "next_at": AT_ONCE,
         "error": dead_reason[:MAX_REASON] if dead_reason else None, "now": now}).first()
    return stored is not None


def release_waiting(conn: Connection, case_number: str, now: float) -> int:
    """The case arrived: its waiting messages may go now (inside the caller's transaction)."""
    return conn.execute(text("UPDATE sms_queue SET state = 'pending', next_at = :at_once, updated_at = :now"
                             " WHERE case_number = :c AND state = 'waiting'"),
                        {"at_once": AT_ONCE, "now": now, "c": case_number}).rowcount


def release_arrived(conn: Connection, now: float) -> int:
    """Every waiting message whose case is on the platform may go now. What `release_waiting` does when the
    case is posted, for a message queued by another worker at the same moment, which that one could not see."""
    return conn.execute(text("UPDATE sms_queue SET state = 'pending', next_at = :at_once, updated_at = :now"
                             " WHERE state = 'waiting' AND case_number IS NOT NULL AND EXISTS"
                             " (SELECT 1 FROM cases c WHERE c.case_number = sms_queue.case_number)"),
                        {"at_once": AT_ONCE, "now": now}).rowcount


def send_again(conn: Connection, case_number: str, now: float) -> int:
    """The applicant's number was corrected: the first notice of each item still held goes again, to the new
    number (inside the caller's transaction). The row takes a new message id, made from the old one, so a
    gateway that drops repeated ids sends it; a message still waiting or pending simply goes to the new number."""
    rows = conn.execute(text(
        "SELECT q.id FROM sms_queue q JOIN notices n ON n.deposit_id = q.transaction_id"
        " WHERE n.case_number = :c AND n.state = 'held' AND q.template = 'pickup_ready'"
        " AND q.state IN ('sent', 'dead')"), {"c": case_number}).scalars().all()
    again = 0
    for old in rows:   # each row changed only while it is still sent or dead: never one a notifier holds
        again += conn.execute(text(
            "UPDATE sms_queue SET id = :new, state = 'pending', attempts = 0, next_at = :at_once, sent_at = NULL,"
            " gateway_ref = NULL, last_error = 'sent again: the phone number was corrected', updated_at = :now"
            " WHERE id = :old AND state IN ('sent', 'dead')"),
            {"new": hashlib.sha256(f"{old}\x00again".encode()).hexdigest()[:32], "at_once": AT_ONCE, "now": now,
             "old": old}).rowcount
    return again


@dataclass(frozen=True)
class Claim:
    id: str
    transaction_id: str
    template: str
    kiosk_id: str
    case_number: str | None
    attempts: int   # this one included
    owner: str


def claim(conn: Connection, now: float, lease_s: float) -> Claim | None:
    """The next message due, leased to the caller for `lease_s` (inside the caller's transaction, which
    commits it); None when nothing is due. A message whose lease ran out (its notifier died while sending)
    is due again.

    The claim is exclusive: the row is picked with `FOR UPDATE SKIP LOCKED` on PostgreSQL (another notifier
    claiming at the same moment takes the next row instead of waiting for this one; SQLite has one writer
    at a time), and the `UPDATE` takes it only while it is still in the state it was picked in."""
    q = T.sms_queue
    owner = uuid.uuid4().hex
    for due in ((q.c.state == "pending", q.c.next_at <= now, q.c.next_at, q.c.created_at),
                (q.c.state == "sending", q.c.lease_until <= now, q.c.lease_until, q.c.created_at)):
        picked = conn.execute(select(q.c.id).where(*due[:2]).order_by(*due[2:], q.c.id).limit(1)
                              .with_for_update(skip_locked=True)).scalar()
        if picked is None:
            continue
        row = conn.execute(text(
            "UPDATE sms_queue SET state = 'sending', attempts = attempts + 1, lease_until = :until,"
            " lease_owner = :owner, updated_at = :now WHERE id = :id AND ((state = 'pending' AND next_at <= :now)"
            " OR (state = 'sending' AND lease_until <= :now))"
            " RETURNING id, transaction_id, template, kiosk_id, case_number, attempts"),
            {"until": now + lease_s, "owner": owner, "now": now, "id": picked}).mappings().first()
        if row is not None:
            return Claim(row["id"], row["transaction_id"], row["template"], row["kiosk_id"], row["case_number"],
                         row["attempts"], owner)
    return None


def _finish(conn: Connection, claim: Claim, sets: str, params: dict[str, Any]) -> bool:
    """Record the outcome of a claim, unless another notifier has taken the message over since: one
    `UPDATE` that changes the row only while this claim's lease owner holds it."""
    return conn.execute(text(f"UPDATE sms_queue SET {sets}, lease_until = NULL, lease_owner = NULL"
                             " WHERE id = :id AND state = 'sending' AND lease_owner = :owner"),
                        {**params, "id": claim.id, "owner": claim.owner}).rowcount == 1


def mark_sent(conn: Connection, claim: Claim, now: float, gateway: str, ref: str, phone_masked: str) -> bool:
    return _finish(conn, claim, "state = 'sent', sent_at = :now, updated_at = :now, gateway = :gateway,"
                                " gateway_ref = :ref, phone_masked = :masked, last_error = NULL",
                   {"now": now, "gateway": gateway, "ref": ref[:200], "masked": phone_masked})


def mark_failed(conn: Connection, claim: Claim, now: float, reason: str, *, retry_at: float | None,
                gateway: str | None = None, phone_masked: str | None = None) -> bool:
    """Failed: tried again at `retry_at`, or dead (None)."""
    state, next_at = ("pending", retry_at) if retry_at is not None else ("dead", now)
    return _finish(conn, claim, "state = :state, next_at = :next_at, last_error = :reason, updated_at = :now,"
                                " gateway = coalesce(:gateway, gateway),"
                                " phone_masked = coalesce(:masked, phone_masked)",
                   {"state": state, "next_at": next_at, "reason": reason[:MAX_REASON], "now": now, "gateway": gateway,
                    "masked": phone_masked})


def mark_skipped(conn: Connection, claim: Claim, now: float, reason: str) -> bool:
    return _finish(conn, claim, "state = 'skipped', last_error = :reason, updated_at = :now",
                   {"reason": reason[:MAX_REASON], "now": now})


def back_to_waiting(conn: Connection, claim: Claim, now: float) -> bool:
    """Its case is not there (any more): it waits for the case again, no attempt spent."""
    return _finish(conn, claim, "state = 'waiting', attempts = attempts - 1, updated_at = :now", {"now": now})


def schedule_reminders(conn: Connection, now: float, before_s: float) -> int:
    """Queue the reminder the day before an item becomes overdue and the one when it does, at most one each,
    for items still held whose first notice went out (inside the caller's transaction). Past the deadline
    only the overdue one is queued; a reminder whose time came before the deposit itself (a short hold) is
    not. Two notifiers doing this at once queue each reminder once (`enqueue`)."""
    rows = conn.execute(text(
        "SELECT n.deposit_id, n.kiosk_id, n.case_number, n.deposited_at, n.due_at FROM notices n"
        " WHERE n.state = 'held' AND n.due_at IS NOT NULL AND n.due_at <= :horizon"
        " AND EXISTS (SELECT 1 FROM sms_queue r WHERE r.transaction_id = n.deposit_id"
        "             AND r.template = 'pickup_ready' AND r.state = 'sent')"
        " AND NOT EXISTS (SELECT 1 FROM sms_queue o WHERE o.transaction_id = n.deposit_id"
        "                 AND o.template = 'pickup_overdue')"
        " ORDER BY n.due_at, n.deposit_id"), {"horizon": now + before_s}).mappings().all()
    queued = 0
    for n in rows:
        if now >= n["due_at"]:
            template = "pickup_overdue"
        elif n["due_at"] - before_s > n["deposited_at"]:
            template = "pickup_reminder"
        else:
            continue
        queued += enqueue(conn, n["deposit_id"], template, n["kiosk_id"], n["case_number"], now)
    return queued


def listing(conn: Connection, state: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Messages for operators, newest change first: no phone but the masked one, no text."""
    sql = ("SELECT id, transaction_id, template, kiosk_id, case_number, state, attempts, next_at, last_error,"
           " gateway, gateway_ref, phone_masked, created_at, updated_at, sent_at FROM sms_queue")
    params: dict[str, Any] = {"limit": limit}
    if state is not None:
        sql += " WHERE state = :state"
        params["state"] = state
    sql += " ORDER BY updated_at DESC, id LIMIT :limit"
    return [dict(r) for r in conn.execute(text(sql), params).mappings()]
