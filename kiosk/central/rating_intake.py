"""The citizens' ratings (好差评) as the console counts and follows them up: one row per `rating` transaction.

A kiosk writes `{"service", "service_transaction_id", "level": 1-5, "level_key", "reasons": [text]}`
(kiosk/core/rating.py): no personal data. `on_batch` is a batch hook (kiosk/central/db.py `batch_hooks`),
called with the transactions one statement newly stored, inside their transaction, so a rating and its
row commit together; a duplicate never comes here.

The row keeps the hall the kiosk stood in when the rating arrived: a rating belongs to the hall that gave
the service, even after its kiosk moves. A poor rating (非常不满意 or 不满意, levels 1 and 2) starts its
follow-up as `open`; the others need none. A rating whose level is not 1-5 makes no row, as there is
nothing to count it as; anything else in `data` that is not what a kiosk writes is kept out of the row.
A row is never refused, because the transaction itself was accepted.

Each new row is also counted in `rating_counts` (day on the hall's clock, hall, service, level), which the
ratings page's figures read: a quarter of a province's ratings is a million rows, its counts a few
thousand.
"""
from __future__ import annotations

import json
from collections import Counter
from itertools import groupby
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, select, text, tuple_

from kiosk.central import schema as T
from kiosk.central.alarm_intake import moment
from kiosk.wire.queues import hall_zone

LEVELS = (1, 2, 3, 4, 5)
POOR = (1, 2)
MAX_TEXT = 100          # a service's name, a reason
MAX_REASONS = 20        # a kiosk offers a handful; more is not what a kiosk writes
DEFAULT_ZONE = timezone(timedelta(hours=8))   # a kiosk in no hall: China's clock
_HALL = text("SELECT h.hall, h.utc_offset FROM hall_kiosks hk JOIN halls h ON h.hall = hk.hall"
             " WHERE hk.kiosk_id = :kiosk_id")
_INSERT = text(
    "INSERT INTO ratings (transaction_id, kiosk_id, hall, service, level, level_key, reasons, rated_at,"
    " followup_state)"
    " VALUES (:id, :kiosk_id, :hall, :service, :level, :level_key, :reasons, :at, :state)"
    " ON CONFLICT (transaction_id) DO NOTHING")
_COUNT = text(
    "INSERT INTO rating_counts (day, hall, service, level, n) VALUES (:day, :hall, :service, :level, :n)"
    " ON CONFLICT (day, hall, service, level) DO UPDATE SET n = rating_counts.n + excluded.n")


def _text(value: Any) -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else ""


def _reasons(value: Any) -> list[str]:
    """The reasons a citizen chose: text only, each cut to `MAX_TEXT`, at most `MAX_REASONS` of them."""
    if not isinstance(value, list):
        return []
    return [r[:MAX_TEXT] for r in value if isinstance(r, str) and r.strip()][:MAX_REASONS]


def _level(value: Any) -> int | None:
    # bool is an int to Python, and 4.0 is not what a kiosk writes: neither is a level
    return value if type(value) is int and value in LEVELS else None


def on_batch(conn: Connection, kiosk_id: str, rows: list[dict[str, Any]], now: float) -> None:
    """The ratings among `rows` (transactions of `kiosk_id` one statement newly stored: never a duplicate)
    as rows of `ratings`, and counted in `rating_counts`: one hall lookup, one insert and one upsert per
    batch. The counts' rows are shared by every kiosk of a hall, so they are locked in key order: two
    workers storing two kiosks' batches at once then never each hold a row the other waits for."""
    found: list[tuple[dict[str, Any], dict[str, Any], int]] = []
    for row in rows:
        if row["kind"] != "rating":
            continue
        try:
            data = json.loads(row["data"])
        except ValueError:
            continue
        level = _level(data.get("level")) if isinstance(data, dict) else None
        if level is not None:
            found.append((row, data, level))
    if not found:
        return
    hall_row = conn.execute(_HALL, {"kiosk_id": kiosk_id}).first()
    hall, zone = (hall_row.hall, hall_zone(hall_row.utc_offset)) if hall_row is not None else (None, DEFAULT_ZONE)
    ratings, counts = [], Counter()
    for row, data, level in found:
        at, service = moment(row["occurred_at"], row.get("received_at", now)), _text(data.get("service"))
        ratings.append({"id": row["id"], "kiosk_id": kiosk_id, "hall": hall, "service": service, "level": level,
                        "level_key": _text(data.get("level_key")) or None,
                        "reasons": json.dumps(_reasons(data.get("reasons")), ensure_ascii=False),
                        "at": at, "state": "open" if level in POOR else "none"})
        # counted on the day of the hall's clock it was given
        counts[datetime.fromtimestamp(at, zone).date().isoformat(), hall or "", service, level] += 1
    conn.execute(_INSERT, ratings)
    conn.execute(_COUNT, [{"day": day, "hall": h, "service": service, "level": level, "n": n}
                          for (day, h, service, level), n in sorted(counts.items())])


def backfill(conn: Connection, chunk: int = 1000) -> int:
    """Rows for the `rating` transactions a platform stored before it kept ratings (the 0003 migration),
    each in the hall its kiosk is in now (the nearest there is to the hall it was in); the number of
    transactions read. They are read `chunk` at a time, in the order they were stored, so that a year of a
    fleet's ratings is never held in memory at once."""
    t = T.transactions
    stmt = (select(t.c.id, t.c.kiosk_id, t.c.seq, t.c.kind, t.c.occurred_at, t.c.data, t.c.received_at)
            .where(t.c.kind == "rating").order_by(t.c.kiosk_id, t.c.seq, t.c.id).limit(chunk))
    read, after = 0, None
    while True:
        where = () if after is None else (tuple_(t.c.kiosk_id, t.c.seq, t.c.id) > tuple_(*after),)
        rows = conn.execute(stmt.where(*where)).mappings().all()
        for kiosk_id, of_kiosk in groupby(rows, key=lambda r: r["kiosk_id"]):
            of_kiosk = [dict(r) for r in of_kiosk]
            on_batch(conn, kiosk_id, of_kiosk, of_kiosk[-1]["received_at"])
        read += len(rows)
        if len(rows) < chunk:
            return read
        after = rows[-1]["kiosk_id"], rows[-1]["seq"], rows[-1]["id"]
