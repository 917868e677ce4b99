"""Small facts the agent keeps between runs (the catalog ETag, the last successful sync), in `sync_state`."""
from __future__ import annotations

import sqlite3
import time
from typing import Callable

from kiosk.store import explain, transaction


class SyncState:
    def __init__(self, conn: sqlite3.Connection, *, now: Callable[[], float] = time.time):
        self.conn = conn
        self.now = now

    def get(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM sync_state WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set(self, key: str, value: str) -> None:
        try:
            with transaction(self.conn):
                self.conn.execute(
                    "INSERT INTO sync_state (key, value, updated_at) VALUES (?,?,?) "
                    "ON CONFLICT(key) DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at",
                    (key, value, self.now()))
        except sqlite3.Error as exc:
            raise explain(exc, "kiosk database") from None

    def delete(self, key: str) -> None:
        with transaction(self.conn):
            self.conn.execute("DELETE FROM sync_state WHERE key=?", (key,))
