"""Finding and quarantining rows stored before the edge checks (kiosk/central/edge.py) existed.

A transaction with `1e400` in its data, or a heartbeat with `NaN`, made every
listing that included it fail for ever. Such rows are moved, whole, into the
`quarantine` table (migration 0003) in one commit; `kiosk central migrate`
runs this and reports what it moved. Running it again moves nothing more.
Only SQLite platforms made before those checks can hold such rows: a
PostgreSQL database has only ever been written through them (and could not
store a NaN in JSON text it never received), so there it finds nothing to do.
"""
from __future__ import annotations

import json
import math
from typing import Any, Callable

from sqlalchemy import text

from kiosk.central import edge

TABLES = ("transactions", "heartbeats", "kiosk_status")


def _json_problems(text: str, field: str) -> list[str]:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return [f"{field}: not readable as JSON ({exc})"]
    return [f"{p['field']}: {p['problem']}" for p in edge.problems(doc, field)]


def _number_problem(value: Any, field: str) -> list[str]:
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{field}: the number is out of range (not finite)"]
    if isinstance(value, int) and not edge.INT64_MIN <= value <= edge.INT64_MAX:
        return [f"{field}: the integer does not fit in 64 bits"]
    return []


def _row_problems(table: str, row) -> list[str]:
    if table == "transactions":
        return (_json_problems(row["data"], "data") + _number_problem(row["uptime_s"], "uptime_s")
                + _number_problem(row["seq"], "seq"))
    return _json_problems(row["body"], "body")


def quarantine(db, clock: Callable[[], float]) -> dict[str, int]:
    """Move every unrenderable row of a SQLite platform (`db`: a CentralDB) into `quarantine`; returns how
    many per table."""
    moved = {t: 0 for t in TABLES}
    if db.dialect != "sqlite":
        return moved
    with db.begin() as conn:
        for table in TABLES:
            key = "id" if table == "transactions" else ("kiosk_id" if table == "kiosk_status" else "rowid")
            rows = conn.execute(text(f"SELECT rowid AS _rowid, * FROM {table}")).mappings().all()
            for row in rows:
                found = _row_problems(table, row)
                if not found:
                    continue
                doc = {k: row[k] for k in row.keys() if k != "_rowid"}
                conn.execute(text("INSERT INTO quarantine (source_table, source_key, row_json, reason, quarantined_at)"
                                  " VALUES (:t, :k, :j, :r, :at)"),
                             {"t": table, "k": str(row[key]), "j": json.dumps(doc, default=str),
                              "r": "; ".join(found)[:2000], "at": clock()})
                conn.execute(text(f"DELETE FROM {table} WHERE rowid = :r"), {"r": row["_rowid"]})
                moved[table] += 1
    return moved
