"""What the console's activity page reads: the kiosks' transactions counted as they are stored.

`activity_daily` holds the transactions per day, kiosk, kind and service; `activity_halls` the same per hall
instead of kiosk (the page's figures: 90 days of a thousand kiosks are over a million rows per kiosk, some
ten thousand per hall); `activity_kiosks` the people each kiosk served per day (its busiest kiosks);
`activity_hourly` those per day, hour and hall. The page sums a few thousand of these rows where summing a
year of transactions would take minutes, so the counting happens here, once, when a transaction is stored
for the first time.

`on_batch` is a batch hook (kiosk/central/db.py `batch_hooks`): called once per insert statement, inside
the batch's transaction, with the rows that statement newly stored, so the counts commit with the
transactions and a batch sent again (a kiosk retrying after a lost answer) counts nothing twice. It
costs one hall lookup and one upsert per table, whatever the size of the batch: intake runs at
thousands of transactions a second.

Days and hours are on the hall's clock: a certificate collected at 07:30 in Urumqi belongs to that
morning, not to the UTC day. A kiosk in no hall is counted on China's clock (+08:00) and under hall ''.
The hall of a count is the kiosk's hall when the transaction arrived.
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, select, text

from kiosk.central import schema as T
from kiosk.central.alarm_intake import moment
from kiosk.hardware.masking import ID_NUMBER, MOBILE_NUMBER
from kiosk.wire.queues import hall_zone

DEFAULT_ZONE = timezone(timedelta(hours=8))   # a kiosk in no hall: China's clock
MAX_SERVICE = 100                             # a longer "service" is not a service code: counted under ''
# not a person served but the kiosk reporting on itself: counted per day and kiosk, never as a busy hour
MACHINE_KINDS = frozenset({"alarm", "probe"})
BACKFILL_CHUNK = 5000

_HALL = text("SELECT h.hall, h.utc_offset FROM hall_kiosks hk JOIN halls h ON h.hall = hk.hall"
             " WHERE hk.kiosk_id = :kiosk_id")
_DAILY = text(
    "INSERT INTO activity_daily (day, kiosk_id, kind, service, n) VALUES (:day, :kiosk_id, :kind, :service, :n)"
    " ON CONFLICT (day, kiosk_id, kind, service) DO UPDATE SET n = activity_daily.n + excluded.n")
_HALLS = text(
    "INSERT INTO activity_halls (day, hall, kind, service, n) VALUES (:day, :hall, :kind, :service, :n)"
    " ON CONFLICT (day, hall, kind, service) DO UPDATE SET n = activity_halls.n + excluded.n")
_KIOSKS = text(
    "INSERT INTO activity_kiosks (day, kiosk_id, n) VALUES (:day, :kiosk_id, :n)"
    " ON CONFLICT (day, kiosk_id) DO UPDATE SET n = activity_kiosks.n + excluded.n")
_HOURLY = text(
    "INSERT INTO activity_hourly (day, hour, hall, n) VALUES (:day, :hour, :hall, :n)"
    " ON CONFLICT (day, hour, hall) DO UPDATE SET n = activity_hourly.n + excluded.n")


def _service(data_json: str) -> str:
    """The service a transaction served (`data["service"]`, a catalog code or name), or '' when it names
    none that fits a column of codes, or one that holds what looks like a phone or ID number: the console
    shows services, and personal data written into the wrong field must not reach it. Counting never
    refuses a transaction: data the intake stored but JSON cannot read (a platform's older rows) has none."""
    try:
        data = json.loads(data_json)
    except ValueError:
        return ""
    service = data.get("service") if isinstance(data, dict) else None
    if not isinstance(service, str) or len(service) > MAX_SERVICE:
        return ""
    return "" if MOBILE_NUMBER.search(service) or ID_NUMBER.search(service) else service


def on_batch(conn: Connection, kiosk_id: str, rows: list[dict[str, Any]], now: float) -> None:
    """Count `rows` (transactions of `kiosk_id` stored by one statement) into the activity tables.

    A row's time is its `occurred_at`; one that cannot be read (the intake checked its form) counts at its
    `received_at` when the row has one (the backfill's rows), else at `now`."""
    if not rows:
        return
    found = conn.execute(_HALL, {"kiosk_id": kiosk_id}).first()
    hall, zone = (found.hall, hall_zone(found.utc_offset)) if found is not None else ("", DEFAULT_ZONE)
    daily: Counter[tuple[str, str, str]] = Counter()
    hourly: Counter[tuple[str, int]] = Counter()
    served: Counter[str] = Counter()
    for row in rows:
        at = datetime.fromtimestamp(moment(row["occurred_at"], row.get("received_at", now)), zone)
        day, kind = at.date().isoformat(), row["kind"]
        daily[day, kind, _service(row["data"])] += 1
        if kind not in MACHINE_KINDS:
            hourly[day, at.hour] += 1
            served[day] += 1
    # in key order: two workers storing batches of one hall's kiosks at once lock the hall's hourly rows in
    # the same order, so neither waits for a row the other holds while holding one it wants (a deadlock)
    conn.execute(_DAILY, [{"day": day, "kiosk_id": kiosk_id, "kind": kind, "service": service, "n": n}
                          for (day, kind, service), n in sorted(daily.items())])
    conn.execute(_HALLS, [{"day": day, "hall": hall, "kind": kind, "service": service, "n": n}
                          for (day, kind, service), n in sorted(daily.items())])
    if served:
        conn.execute(_KIOSKS, [{"day": day, "kiosk_id": kiosk_id, "n": n} for day, n in sorted(served.items())])
    if hourly:
        conn.execute(_HOURLY, [{"day": day, "hour": hour, "hall": hall, "n": n}
                               for (day, hour), n in sorted(hourly.items())])


def backfill(conn: Connection) -> int:
    """Count the transactions a platform stored before it kept the activity tables (the 0003 migration);
    the number counted. Kiosk by kiosk, `BACKFILL_CHUNK` rows at a time in the order they were stored, so
    that a platform with years of transactions never holds them all in memory."""
    t = T.transactions
    kiosks = conn.execute(select(t.c.kiosk_id).distinct().order_by(t.c.kiosk_id)).scalars().all()
    counted = 0
    for kiosk_id in kiosks:
        after: tuple[int, str] | None = None
        while True:
            stmt = (select(t.c.seq, t.c.id, t.c.kind, t.c.occurred_at, t.c.data, t.c.received_at)
                    .where(t.c.kiosk_id == kiosk_id).order_by(t.c.seq, t.c.id).limit(BACKFILL_CHUNK))
            if after is not None:   # seq is the kiosk's own and may repeat (a kiosk set up again): id breaks ties
                stmt = stmt.where((t.c.seq > after[0]) | ((t.c.seq == after[0]) & (t.c.id > after[1])))
            chunk = [dict(r) for r in conn.execute(stmt).mappings()]
            if not chunk:
                break
            on_batch(conn, kiosk_id, chunk, chunk[-1]["received_at"])
            counted += len(chunk)
            after = chunk[-1]["seq"], chunk[-1]["id"]
    return counted
