"""The durable queue of text messages (table `sms_queue`): one row per (transaction, template), claimed
with a lease, retried with backoff, dead with its reason after too many tries.

A row's life:

    waiting  (its case is not on the platform yet) --case posted--> pending
    pending  --claim--> sending --sent--> sent
                        sending --failed, retryable, attempts left--> pending (next_at = now + backoff)
                        sending --failed otherwise--> dead (reason kept; GET /api/v1/notices?state=failed)
                        sending --nothing to send any more (collected, phone deleted…)--> skipped (reason kept)
    sending, lease over (the notifier died) --claim--> sending (attempt + 1, the same message id)

Rows hold no phone number and no code: the notifier makes the message when it sends it. Every change
here is one short write transaction, safe with several notifiers and the web server on one database.
"""
from __future__ import annotations

import hashlib
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from kiosk import store

STATES = ("waiting", "pending", "sending", "sent", "dead", "skipped")
MAX_REASON = 500
# `next_at` of a message due at once: not "now" by the writer's clock, which the web server and a notifier on
# another machine (or a notifier given --now) do not share; only retries are timed, by the notifier's clock
AT_ONCE = 0.0


def message_id(transaction_id: str, template: str) -> str:
    """The message's id for the gateway: the same for the same transaction and template, always."""
    return hashlib.sha256(f"{transaction_id}\x00{template}".encode()).hexdigest()[:32]


def enqueue(conn: sqlite3.Connection, transaction_id: str, template: str, kiosk_id: str, case_number: str | None,
            now: float, *, dead_reason: str | None = None) -> bool:
    """Queue a message (inside the caller's transaction); False when this one was already queued. It waits
    until its case is on the platform; `dead_reason`: it can never be sent, and operators see why."""
    if dead_reason is not None:
        state = "dead"
    else:
        known = case_number is not None and conn.execute(
            "SELECT 1 FROM cases WHERE case_number = ?", (case_number,)).fetchone() is not None
        state = "pending" if known else "waiting"
    cur = conn.execute(
        "INSERT OR IGNORE INTO sms_queue (id, transaction_id, template, kiosk_id, case_number, state, next_at,"
        " last_error, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (message_id(transaction_id, template), transaction_id, template, kiosk_id, case_number, state, AT_ONCE,
         dead_reason[:MAX_REASON] if dead_reason else None, now, now))
    return cur.rowcount == 1


def release_waiting(conn: sqlite3.Connection, case_number: str, now: float) -> int:
    """The case arrived: its waiting messages may go now (inside the caller's transaction)."""
    return conn.execute("UPDATE sms_queue SET state = 'pending', next_at = ?, updated_at = ?"
                        " WHERE case_number = ? AND state = 'waiting'", (AT_ONCE, now, case_number)).rowcount


def send_again(conn: sqlite3.Connection, case_number: str, now: float) -> int:
    """The applicant's number was corrected: the first notice of each item still held goes again, to the new
    number (inside the caller's transaction). The row takes a new message id, made from the old one, so a
    gateway that drops repeated ids sends it; a message still waiting or pending simply goes to the new number."""
    rows = conn.execute(
        "SELECT q.id FROM sms_queue q JOIN notices n ON n.deposit_id = q.transaction_id"
        " WHERE n.case_number = ? AND n.state = 'held' AND q.template = 'pickup_ready'"
        " AND q.state IN ('sent', 'dead')", (case_number,)).fetchall()
    for r in rows:
        conn.execute("UPDATE sms_queue SET id = ?, state = 'pending', attempts = 0, next_at = ?, sent_at = NULL,"
                     " gateway_ref = NULL, last_error = 'sent again: the phone number was corrected',"
                     " updated_at = ? WHERE id = ?",
                     (hashlib.sha256(f"{r['id']}\x00again".encode()).hexdigest()[:32], AT_ONCE, now, r["id"]))
    return len(rows)


@dataclass(frozen=True)
class Claim:
    id: str
    transaction_id: str
    template: str
    kiosk_id: str
    case_number: str | None
    attempts: int   # this one included
    owner: str


def claim(conn: sqlite3.Connection, now: float, lease_s: float) -> Claim | None:
    """The next message due, leased to the caller for `lease_s`; None when nothing is due. A message whose
    lease ran out (its notifier died while sending) is due again."""
    owner = uuid.uuid4().hex
    with store.transaction(conn):
        row = conn.execute("SELECT * FROM sms_queue WHERE state = 'pending' AND next_at <= ?"
                           " ORDER BY next_at LIMIT 1", (now,)).fetchone()
        if row is None:
            row = conn.execute("SELECT * FROM sms_queue WHERE state = 'sending' AND lease_until <= ?"
                               " ORDER BY lease_until LIMIT 1", (now,)).fetchone()
        if row is None:
            return None
        conn.execute("UPDATE sms_queue SET state = 'sending', attempts = attempts + 1, lease_until = ?,"
                     " lease_owner = ?, updated_at = ? WHERE id = ?", (now + lease_s, owner, now, row["id"]))
    return Claim(row["id"], row["transaction_id"], row["template"], row["kiosk_id"], row["case_number"],
                 row["attempts"] + 1, owner)


def _finish(conn: sqlite3.Connection, claim: Claim, sets: str, params: tuple) -> bool:
    """Record the outcome of a claim, unless another notifier has taken the message over since."""
    with store.transaction(conn):
        return conn.execute(f"UPDATE sms_queue SET {sets}, lease_until = NULL, lease_owner = NULL"
                            " WHERE id = ? AND state = 'sending' AND lease_owner = ?",
                            (*params, claim.id, claim.owner)).rowcount == 1


def mark_sent(conn: sqlite3.Connection, claim: Claim, now: float, gateway: str, ref: str, phone_masked: str) -> bool:
    return _finish(conn, claim, "state = 'sent', sent_at = ?, updated_at = ?, gateway = ?, gateway_ref = ?,"
                                " phone_masked = ?, last_error = NULL", (now, now, gateway, ref[:200], phone_masked))


def mark_failed(conn: sqlite3.Connection, claim: Claim, now: float, reason: str, *, retry_at: float | None,
                gateway: str | None = None, phone_masked: str | None = None) -> bool:
    """Failed: tried again at `retry_at`, or dead (None)."""
    state, next_at = ("pending", retry_at) if retry_at is not None else ("dead", now)
    return _finish(conn, claim, "state = ?, next_at = ?, last_error = ?, updated_at = ?,"
                                " gateway = coalesce(?, gateway), phone_masked = coalesce(?, phone_masked)",
                   (state, next_at, reason[:MAX_REASON], now, gateway, phone_masked))


def mark_skipped(conn: sqlite3.Connection, claim: Claim, now: float, reason: str) -> bool:
    return _finish(conn, claim, "state = 'skipped', last_error = ?, updated_at = ?", (reason[:MAX_REASON], now))


def back_to_waiting(conn: sqlite3.Connection, claim: Claim, now: float) -> bool:
    """Its case is not there (any more): it waits for the case again, no attempt spent."""
    return _finish(conn, claim, "state = 'waiting', attempts = attempts - 1, updated_at = ?", (now,))


def schedule_reminders(conn: sqlite3.Connection, now: float, before_s: float) -> int:
    """Queue the reminder the day before an item becomes overdue and the one when it does, at most one each,
    for items still held whose first notice went out. Past the deadline only the overdue one is queued; a
    reminder whose time came before the deposit itself (a short hold) is not."""
    rows = conn.execute(
        "SELECT n.deposit_id, n.kiosk_id, n.case_number, n.deposited_at, n.due_at FROM notices n"
        " WHERE n.state = 'held' AND n.due_at IS NOT NULL AND n.due_at <= ?"
        " AND EXISTS (SELECT 1 FROM sms_queue r WHERE r.transaction_id = n.deposit_id"
        "             AND r.template = 'pickup_ready' AND r.state = 'sent')"
        " AND NOT EXISTS (SELECT 1 FROM sms_queue o WHERE o.transaction_id = n.deposit_id"
        "                 AND o.template = 'pickup_overdue')", (now + before_s,)).fetchall()
    queued = 0
    with store.transaction(conn):
        for n in rows:
            if now >= n["due_at"]:
                template = "pickup_overdue"
            elif n["due_at"] - before_s > n["deposited_at"]:
                template = "pickup_reminder"
            else:
                continue
            queued += enqueue(conn, n["deposit_id"], template, n["kiosk_id"], n["case_number"], now)
    return queued


def listing(conn: sqlite3.Connection, state: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Messages for operators, newest change first: no phone but the masked one, no text."""
    sql = ("SELECT id, transaction_id, template, kiosk_id, case_number, state, attempts, next_at, last_error,"
           " gateway, gateway_ref, phone_masked, created_at, updated_at, sent_at FROM sms_queue")
    params: list[Any] = []
    if state is not None:
        sql += " WHERE state = ?"
        params.append(state)
    sql += " ORDER BY updated_at DESC, id LIMIT ?"
    params.append(limit)
    return [dict(r) for r in conn.execute(sql, params)]
