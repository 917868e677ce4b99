"""The kiosks' faults as the console lists them: `alarm` transactions turned into one row per fault.

A kiosk raises a fault once and clears it once (kiosk/alarms.py): the raising transaction carries
`{"device", "code", "state": "raised", "severity", "detail"}`, the clearing one the same with
`"state": "cleared"` and `"raised_id"`, the raising transaction's id. `on_stored` is an intake hook
(kiosk/central/db.py `intake_hooks`), called once for each newly stored transaction inside its batch's
transaction, so an alarm and its row commit together; a duplicate never comes here.

A clearing whose raising the platform never received (a kiosk provisioned again, an outbox lost to a dead
disk) still makes a row, raised and cleared at the clearing's time, so the console shows that something
happened. Anything else in `data` that is not what a kiosk writes is kept out, and an ID or phone number
in a detail is masked: a row is never refused, because the transaction itself was accepted.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, text

from kiosk.central import schema as T
from kiosk.hardware.masking import ID_NUMBER, MOBILE_NUMBER, mask_id_number, mask_phone

_RAISE = text(
    "INSERT INTO alarms (raised_id, kiosk_id, device, code, severity, detail, raised_at)"
    " VALUES (:id, :kiosk_id, :device, :code, :severity, :detail, :at) ON CONFLICT (raised_id) DO NOTHING")
_CLEAR = text("UPDATE alarms SET cleared_at = :at, cleared_id = :id WHERE raised_id = :raised_id"
              " AND kiosk_id = :kiosk_id AND cleared_at IS NULL")
_CLEARED_UNSEEN = text(
    "INSERT INTO alarms (raised_id, kiosk_id, device, code, severity, detail, raised_at, cleared_at, cleared_id)"
    " VALUES (:raised_id, :kiosk_id, :device, :code, :severity, :detail, :at, :at, :id)"
    " ON CONFLICT (raised_id) DO NOTHING")
_SEVERITIES = ("warning", "fault")


def moment(occurred_at: str, fallback: float) -> float:
    """Unix seconds of a kiosk's RFC 3339 time (the intake checked its form); `fallback` if unreadable."""
    try:
        return datetime.fromisoformat(occurred_at.replace("Z", "+00:00")).timestamp()
    except (ValueError, AttributeError):
        return fallback


def _short(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _detail(value: Any) -> str | None:
    """A fault's detail as the console may show it: a kiosk redacts its details before they leave it
    (kiosk/log.py), and an ID or phone number that got through anyway is masked here, DESIGN.md section 7."""
    detail = _short(value, 500)
    if detail is None:
        return None
    detail = ID_NUMBER.sub(lambda m: mask_id_number(m.group()), detail)
    return MOBILE_NUMBER.sub(lambda m: mask_phone(m.group()), detail)


def on_stored(conn: Connection, kiosk_id: str, row: dict[str, Any], now: float) -> None:
    if row["kind"] != "alarm":
        return
    data = json.loads(row["data"])
    if not isinstance(data, dict):
        return
    values = {"id": row["id"], "kiosk_id": kiosk_id, "at": moment(row["occurred_at"], now),
              "device": _short(data.get("device"), 60) or "unknown", "code": _short(data.get("code"), 60) or "unknown",
              "severity": data.get("severity") if data.get("severity") in _SEVERITIES else "fault",
              "detail": _detail(data.get("detail"))}
    if data.get("state") == "raised":
        conn.execute(_RAISE, values)
    elif data.get("state") == "cleared":
        raised_id = _short(data.get("raised_id"), 100)
        if raised_id is None:
            return
        if conn.execute(_CLEAR, {"at": values["at"], "id": row["id"], "raised_id": raised_id,
                                 "kiosk_id": kiosk_id}).rowcount == 0:
            conn.execute(_CLEARED_UNSEEN, {**values, "raised_id": raised_id})


def backfill(conn: Connection) -> int:
    """Rows for the `alarm` transactions a platform stored before it kept alarms (the 0002 migration), in
    the order they were stored; the number of transactions read."""
    t = T.transactions
    rows = conn.execute(select(t.c.id, t.c.kiosk_id, t.c.kind, t.c.occurred_at, t.c.data, t.c.received_at)
                        .where(t.c.kind == "alarm").order_by(t.c.kiosk_id, t.c.seq)).mappings().all()
    for r in rows:
        on_stored(conn, r["kiosk_id"], dict(r), r["received_at"])
    return len(rows)
