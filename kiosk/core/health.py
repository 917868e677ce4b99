"""Device health as last seen by the UI, which owns the devices; the agent reads it for the heartbeat.

One row per configured device: its driver, its state (the `kiosk diag` states)
and a snake-case detail (`paper_near_end`, `door_open:7`).
"""
from __future__ import annotations

import sqlite3
import time
from dataclasses import asdict, dataclass
from typing import Callable

from kiosk.store import explain, transaction

STATES = ("online", "offline", "busy", "hardware_error", "no_device")


@dataclass(frozen=True)
class DeviceHealth:
    name: str
    driver: str
    state: str
    detail: str | None
    updated_at: float

    def as_dict(self) -> dict:
        return asdict(self)


class HealthBoard:
    """Read and write the `device_health` table of one connection."""

    def __init__(self, conn: sqlite3.Connection, *, now: Callable[[], float] = time.time):
        self.conn = conn
        self.now = now

    def report(self, name: str, driver: str, state: str, detail: str | None = None) -> None:
        if state not in STATES:
            raise ValueError(f"device {name}: state must be one of {', '.join(STATES)}, got {state!r}")
        try:
            with transaction(self.conn):
                self.conn.execute(
                    "INSERT INTO device_health (name, driver, state, detail, updated_at) VALUES (?,?,?,?,?) "
                    "ON CONFLICT(name) DO UPDATE SET driver=excluded.driver, state=excluded.state, "
                    "detail=excluded.detail, updated_at=excluded.updated_at",
                    (name, driver, state, detail, self.now()))
        except sqlite3.Error as exc:
            raise explain(exc, "kiosk database") from None

    def forget(self, name: str) -> None:
        """A device removed from the config."""
        with transaction(self.conn):
            self.conn.execute("DELETE FROM device_health WHERE name=?", (name,))

    def all(self) -> list[DeviceHealth]:
        rows = self.conn.execute("SELECT name, driver, state, detail, updated_at FROM device_health ORDER BY name")
        return [DeviceHealth(r["name"], r["driver"], r["state"], r["detail"], r["updated_at"]) for r in rows]
