"""The citizens' help requests ("Call staff") as the console lists them: one row per `help` transaction.

A kiosk writes `{"screen", "hall"}` (kiosk/core/help.py): the screen the citizen pressed the button on and
the hall's name in the kiosk's config; no personal data. `on_stored` is called once for each newly stored
transaction inside its batch's transaction (kiosk/central/db.py), so a request and its row commit together
and a duplicate never comes here: a request made offline and sent again makes one row.

The row keeps the kiosk's hall on the platform when the request arrived (as a rating does), which the
console scopes staff by. Anything in `data` beyond the two keys is kept out, each cut short; a row is never
refused, because the transaction itself was accepted.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, text

from kiosk.central.alarm_intake import moment

MAX_SCREEN = 40
MAX_HALL_NAME = 80
_HALL = text("SELECT hall FROM hall_kiosks WHERE kiosk_id = :kiosk_id")
_INSERT = text(
    "INSERT INTO help_requests (transaction_id, kiosk_id, hall, hall_name, screen, requested_at, received_at)"
    " VALUES (:id, :kiosk_id, :hall, :hall_name, :screen, :at, :now) ON CONFLICT (transaction_id) DO NOTHING")


def _short(value: Any, limit: int) -> str | None:
    return value.strip()[:limit] if isinstance(value, str) and value.strip() else None


def on_stored(conn: Connection, kiosk_id: str, row: dict[str, Any], now: float) -> None:
    if row["kind"] != "help":
        return
    data = json.loads(row["data"])
    if not isinstance(data, dict):
        data = {}
    hall = conn.execute(_HALL, {"kiosk_id": kiosk_id}).scalar()
    conn.execute(_INSERT, {"id": row["id"], "kiosk_id": kiosk_id, "hall": hall,
                           "hall_name": _short(data.get("hall"), MAX_HALL_NAME),
                           "screen": _short(data.get("screen"), MAX_SCREEN) or "unknown",
                           "at": moment(row["occurred_at"], now), "now": now})
