"""Finding and quarantining rows stored before the edge checks (kiosk/central/edge.py) existed.

A transaction with `1e400` in its data, or a heartbeat with `NaN`, made every
listing that included it fail for ever. Such rows are moved, whole, into the
`quarantine` table (migration 0003) in one commit; `kiosk central migrate`
runs this and reports what it moved. Running it again moves nothing more.
"""
from __future__ import annotations

import json
import math
import sqlite3
from typing import Any, Callable

from kiosk import store
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


def _row_problems(table: str, row: sqlite3.Row) -> list[str]:
    if table == "transactions":
        return (_json_problems(row["data"], "data") + _number_problem(row["uptime_s"], "uptime_s")
                + _number_problem(row["seq"], "seq"))
    return _json_problems(row["body"], "body")


def quarantine(conn: sqlite3.Connection, clock: Callable[[], float]) -> dict[str, int]:
    """Move every unrenderable row into `quarantine`; returns how many per table."""
    moved = {t: 0 for t in TABLES}
    with store.transaction(conn):
        for table in TABLES:
            key = "id" if table == "transactions" else ("kiosk_id" if table == "kiosk_status" else "rowid")
            rows = conn.execute(f"SELECT rowid AS _rowid, * FROM {table}").fetchall()
            for row in rows:
                found = _row_problems(table, row)
                if not found:
                    continue
                doc = {k: row[k] for k in row.keys() if k != "_rowid"}
                conn.execute("INSERT INTO quarantine (source_table, source_key, row_json, reason, quarantined_at)"
                             " VALUES (?,?,?,?,?)", (table, str(row[key]), json.dumps(doc, default=str),
                                                     "; ".join(found)[:2000], clock()))
                conn.execute(f"DELETE FROM {table} WHERE rowid = ?", (row["_rowid"],))
                moved[table] += 1
    return moved
