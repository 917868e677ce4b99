"""Device and system alarms: raised once per fault, cleared once, each an `alarm` transaction.

A fault seen again while it is active (a printer that reports paper out on
every poll) changes nothing: the platform hears of it when it is raised and
when it clears, never in between, so a stuck sensor cannot flood the outbox.
The active alarms go into the heartbeat. Plain Python: the outbox is injected
(anything with `enqueue(conn, kind, data)`), and the alarm row and its
transaction are committed together.

It sits beside `kiosk/store.py` rather than in a layer: the domain (device,
payment and print faults), sync (config refusals, a flood of bad management
requests, a full outbox) and the commands all raise alarms into the same table.
"""
from __future__ import annotations

import sqlite3
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Protocol

from kiosk.log import redact
from kiosk.store import explain, transaction

# faults that leave the kiosk serving; everything else is a fault
WARNING_CODES = frozenset({"paper_near_end", "outbox_near_cap", "disk_low"})


class Enqueues(Protocol):
    def enqueue(self, conn: sqlite3.Connection, kind: str, data: dict[str, Any]): ...


@dataclass(frozen=True)
class Alarm:
    device: str          # "receipt_printer", "locker", "outbox", "catalog", ...
    code: str            # snake case, e.g. "paper_out", "door_left_open", "over_cap"
    severity: str        # "warning" | "fault"
    detail: str | None
    raised_at: str

    @property
    def key(self) -> str:
        return f"{self.device}:{self.code}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Alarms:
    """The kiosk's active alarms, kept in the `alarms` table of one connection."""

    def __init__(self, conn: sqlite3.Connection, outbox: Enqueues, *, now: Callable[[], float] = time.time):
        self.conn = conn
        self.outbox = outbox
        self.now = now

    def raise_alarm(self, device: str, code: str, detail: str | None = None, severity: str | None = None) -> bool:
        """Raise `device:code` unless it is already active. True when this call raised it."""
        severity = severity or ("warning" if code in WARNING_CODES else "fault")
        if severity not in ("warning", "fault"):
            raise ValueError(f"alarm severity must be 'warning' or 'fault', got {severity!r}")
        key = f"{device}:{code}"
        detail = redact(detail)[:500] if detail else detail

        def apply() -> bool:
            row = self.conn.execute("SELECT detail FROM alarms WHERE key=?", (key,)).fetchone()
            if row is not None:
                if row["detail"] != detail:  # keep the newest detail for the technician; no new transaction
                    self.conn.execute("UPDATE alarms SET detail=? WHERE key=?", (detail, key))
                return False
            entry = self.outbox.enqueue(self.conn, "alarm", {
                "device": device, "code": code, "state": "raised", "severity": severity, "detail": detail})
            self.conn.execute(
                "INSERT INTO alarms (key, device, code, severity, detail, raised_at, raised_id) VALUES (?,?,?,?,?,?,?)",
                (key, device, code, severity, detail, entry.occurred_at, entry.id))
            return True

        return self._write(apply)

    def clear(self, device: str, code: str, detail: str | None = None) -> bool:
        """Clear `device:code` if it is active. True when this call cleared it."""
        key = f"{device}:{code}"
        detail = redact(detail)[:500] if detail else detail

        def apply() -> bool:
            row = self.conn.execute("SELECT severity, raised_id FROM alarms WHERE key=?", (key,)).fetchone()
            if row is None:
                return False
            self.outbox.enqueue(self.conn, "alarm", {
                "device": device, "code": code, "state": "cleared", "severity": row["severity"],
                "detail": detail, "raised_id": row["raised_id"]})
            self.conn.execute("DELETE FROM alarms WHERE key=?", (key,))
            return True

        return self._write(apply)

    def reconcile(self, device: str, faults: dict[str, str | None]) -> None:
        """Make the device's active alarms exactly `faults` (code -> detail): raise the new, clear the gone."""
        for code, detail in faults.items():
            self.raise_alarm(device, code, detail)
        for alarm in self.active():
            if alarm.device == device and alarm.code not in faults:
                self.clear(device, alarm.code)

    def active(self) -> list[Alarm]:
        try:
            rows = self.conn.execute(
                "SELECT device, code, severity, detail, raised_at FROM alarms ORDER BY raised_at, key").fetchall()
        except sqlite3.Error as exc:
            raise explain(exc, "kiosk database") from None
        return [Alarm(r["device"], r["code"], r["severity"], r["detail"], r["raised_at"]) for r in rows]

    def is_active(self, device: str, code: str) -> bool:
        return self.conn.execute("SELECT 1 FROM alarms WHERE key=?", (f"{device}:{code}",)).fetchone() is not None

    def _write(self, fn):
        try:
            with transaction(self.conn):
                return fn()
        except sqlite3.Error as exc:
            raise explain(exc, "kiosk database") from None
