"""The outbox: completed transactions kept durably until the central platform acknowledges them.

A flow records its transaction with `enqueue(conn, kind, data)` inside the
SQLite transaction of its own business change (a pickup marks the door empty
and enqueues in one commit), so either both happen or neither does.
`Outbox.record()` is the convenience for a transaction with no business change
of its own (an alarm, a probe).

Each row: `id` (uuid4, the idempotency key the platform deduplicates on),
`seq` (per-kiosk, monotonic, never reused), `kind`, a JSON body, the local time
with its offset, the boot id and uptime (kiosk clocks drift; the platform can
order the events of one boot by uptime). States:

    pending --claim--> inflight --accepted/duplicate--> acked --(prune after N days)--> gone
                          |  \\--rejected / invalid------> dead   (kept, with its reason)
                          \\--network error, 5xx, 429----> pending (attempts+1, next_try_at, last_error)
                          \\--5xx to it alone, 3 times----> dead   (the platform takes the others: see relay)

A row left inflight by a process that died goes back to pending on start:
sending it again is safe because the platform stores an id once.
"""
from __future__ import annotations

import json
import logging
import math
import sqlite3
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable

from kiosk.hardware.masking import ID_NUMBER
from kiosk.store import explain, transaction
from kiosk.wire.transactions import KINDS

log = logging.getLogger(__name__)

STATES = ("pending", "inflight", "acked", "dead")

# keys whose value is personal data the outbox must never hold (DESIGN.md section 7)
FORBIDDEN_KEYS = frozenset({
    "name", "full_name", "holder_name", "citizen_name", "applicant_name", "id_number", "idnumber",
    "id_no", "id_card", "id_card_number", "photo", "photo_bytes", "fingerprint",
})
MAX_BODY_BYTES = 64 * 1024


class OutboxError(ValueError):
    """A transaction the outbox refuses to record (unknown kind, personal data, not JSON)."""


@dataclass(frozen=True)
class Entry:
    """A recorded transaction as the outbox holds it."""
    seq: int
    id: str
    kind: str
    data: dict[str, Any]
    occurred_at: str
    boot_id: str | None
    uptime_s: float | None
    state: str = "pending"
    attempts: int = 0
    last_error: str | None = None
    server_failures: int = 0       # batches carrying it answered 5xx (see relay: narrowing)
    isolated_failures: int = 0     # 5xx answers to it sent alone while other rows went through

    def wire(self) -> dict[str, Any]:
        """The item as `POST /api/v1/transactions` carries it."""
        return {"id": self.id, "seq": self.seq, "kind": self.kind, "occurred_at": self.occurred_at,
                "data": self.data, "boot_id": self.boot_id, "uptime_s": self.uptime_s}


_boot_id: str | None = None


def boot_id() -> str | None:
    """This boot's random id (Linux); read once, it does not change while we run."""
    global _boot_id
    if _boot_id is None:
        try:
            _boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        except OSError:
            _boot_id = ""
    return _boot_id or None


def uptime_s() -> float | None:
    """Seconds since boot, suspend included."""
    try:
        return round(time.clock_gettime(time.CLOCK_BOOTTIME), 3)
    except (AttributeError, OSError):
        try:
            return float(Path("/proc/uptime").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None


def local_time(ts: float) -> str:
    """RFC 3339 in the kiosk's local time, with its offset (`2026-11-22T21:43:54.120+08:00`)."""
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="milliseconds")


def _check_private(value: Any, path: str) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise OutboxError(f"{path}: keys must be strings, got {k!r}")
            if ID_NUMBER.search(k):   # named without the key: the message must not carry the number either
                raise OutboxError(f"{path}: a key looks like a full ID number; personal data never goes into "
                                  "the outbox, as a value or as a key (kiosk.core.privacy)")
            if k.lower() in FORBIDDEN_KEYS:
                raise OutboxError(f"{path}.{k}: personal data never goes into the outbox "
                                  "(send a keyed hash or a masked value under another key)")
            _check_private(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_private(v, f"{path}[{i}]")
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, (int, str)):
        if ID_NUMBER.search(str(value)):
            raise OutboxError(f"{path}: looks like a full ID number; the outbox takes only masked "
                              "values or keyed hashes (kiosk.core.privacy)")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise OutboxError(f"{path}: {value} is not a JSON number")
    else:
        raise OutboxError(f"{path}: {type(value).__name__} is not JSON (use str, int, float, bool, list, dict)")


def encode(kind: str, data: dict[str, Any]) -> str:
    """The JSON body of a transaction, after the checks: a known kind, plain JSON, no personal data."""
    if kind not in KINDS:
        raise OutboxError(f"unknown transaction kind {kind!r}; one of {', '.join(KINDS)}")
    if not isinstance(data, dict):
        raise OutboxError(f"{kind}: data must be a JSON object, got {type(data).__name__}")
    _check_private(data, kind)
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if len(body.encode()) > MAX_BODY_BYTES:
        raise OutboxError(f"{kind}: data is {len(body.encode())} bytes; at most {MAX_BODY_BYTES} "
                          "(the outbox carries facts, not files)")
    return body


def enqueue(conn: sqlite3.Connection, kind: str, data: dict[str, Any], *,
            now: Callable[[], float] = time.time) -> Entry:
    """Record a transaction inside the caller's open SQLite transaction.

    Commits nothing: the caller's `with transaction(conn):` does, together with
    the business change, or rolls both back.
    """
    if not conn.in_transaction:
        raise OutboxError("enqueue() needs the caller's open transaction (use `with store.transaction(conn):` "
                          "around the business change and the enqueue, or Outbox.record())")
    body = encode(kind, data)
    ts = now()
    tid, occurred, boot, up = str(uuid.uuid4()), local_time(ts), boot_id(), uptime_s()
    try:
        cur = conn.execute(
            "INSERT INTO outbox (id, kind, body, occurred_at, boot_id, uptime_s, created_at, next_try_at)"
            " VALUES (?,?,?,?,?,?,?,0)", (tid, kind, body, occurred, boot, up, ts))
    except sqlite3.Error as exc:
        raise explain(exc, _db_path(conn)) from None
    if kind != "probe":   # a technician's probe may queue thousands; a citizen's visit a few
        # the journal's TRANSACTION_ID and FLOW (kiosk/log.py): `journalctl TRANSACTION_ID=…` finds what a
        # kiosk did with one transaction; the id and the service only, never the data
        service = data.get("service") if isinstance(data.get("service"), str) else kind
        log.info("transaction %s (%s) queued for the platform", tid, kind,
                 extra={"transaction_id": tid, "flow": service})
    return Entry(cur.lastrowid, tid, kind, json.loads(body), occurred, boot, up)


def _db_path(conn: sqlite3.Connection) -> str:
    try:
        return conn.execute("PRAGMA database_list").fetchone()[2] or "kiosk database"
    except sqlite3.Error:
        return "kiosk database"


def _entry(row: sqlite3.Row, strict: bool = True) -> Entry:
    try:
        data = json.loads(row["body"])
    except ValueError:
        if strict:
            raise
        data = {}  # listed for the technician; the row's last_error says the body is unreadable
    keys = row.keys()
    return Entry(row["seq"], row["id"], row["kind"], data, row["occurred_at"],
                 row["boot_id"], row["uptime_s"], row["state"], row["attempts"], row["last_error"],
                 row["server_failures"] if "server_failures" in keys else 0,
                 row["isolated_failures"] if "isolated_failures" in keys else 0)


@dataclass(frozen=True)
class Summary:
    counts: dict[str, int]
    oldest_pending_age_s: float | None
    oldest_pending_seq: int | None

    @property
    def backlog(self) -> int:
        """Rows not yet at the platform (dead included: they wait for a technician)."""
        return self.counts["pending"] + self.counts["inflight"] + self.counts["dead"]


class Outbox:
    """The outbox table of one connection: record, claim for sending, settle, report, prune.

    One Outbox per connection (SQLite connections stay in their thread).
    `now` gives unix seconds; tests inject their own.
    """

    def __init__(self, conn: sqlite3.Connection, *, now: Callable[[], float] = time.time):
        self.conn = conn
        self.now = now

    # -- recording -------------------------------------------------------------------------
    def enqueue(self, conn: sqlite3.Connection, kind: str, data: dict[str, Any]) -> Entry:
        """`enqueue()` with this outbox's clock, inside the caller's transaction on `conn`."""
        return enqueue(conn, kind, data, now=self.now)

    def record(self, kind: str, data: dict[str, Any]) -> Entry:
        """Record a transaction in a transaction of its own, committed when this returns."""
        encode(kind, data)  # refuse bad data before taking the write lock
        return self._write(lambda: self.enqueue(self.conn, kind, data))

    def _write(self, fn):
        try:
            with transaction(self.conn):
                return fn()
        except sqlite3.Error as exc:
            raise explain(exc, _db_path(self.conn)) from None

    # -- the relay's side ------------------------------------------------------------------
    def recover(self) -> int:
        """On start: rows a dead process left inflight go back to pending. Returns how many."""
        return self._write(lambda: self.conn.execute(
            "UPDATE outbox SET state='pending' WHERE state='inflight'").rowcount)

    def claim(self, limit: int, *, due_only: bool = True) -> list[Entry]:
        """Take up to `limit` pending rows, oldest first, and mark them inflight (committed).

        `due_only` skips rows whose next try is still in the future; a next try
        further away than a day is treated as due (the wall clock jumped back).
        """
        now = self.now()

        def take():
            if due_only:
                rows = self.conn.execute(
                    "SELECT * FROM outbox WHERE state='pending' AND (next_try_at <= ? OR next_try_at > ?)"
                    " ORDER BY seq LIMIT ?", (now, now + 86400, limit)).fetchall()
            else:
                rows = self.conn.execute("SELECT * FROM outbox WHERE state='pending' ORDER BY seq LIMIT ?",
                                         (limit,)).fetchall()
            if rows:
                self.conn.executemany("UPDATE outbox SET state='inflight' WHERE seq=?", [(r["seq"],) for r in rows])
            return rows

        rows = self._write(take)
        entries, broken = [], []
        for r in rows:
            try:
                entries.append(_entry(r))
            except (ValueError, TypeError) as exc:  # a body damaged on disk: never send, never drop silently
                broken.append((r["seq"], f"unreadable body: {exc}"))
        if broken:
            self._write(lambda: self.conn.executemany(
                "UPDATE outbox SET state='dead', last_error=?, attempts=attempts+1 WHERE seq=?",
                [(why, seq) for seq, why in broken]))
        return entries

    def release(self, seqs: Iterable[int], error: str, next_try_at: float, *, server_failure: bool = False) -> None:
        """Back to pending after a failed attempt, to be tried again at `next_try_at`.
        `server_failure`: the platform answered 5xx (counted, so a batch that keeps failing is narrowed)."""
        bump = 1 if server_failure else 0
        self._write(lambda: self.conn.executemany(
            "UPDATE outbox SET state='pending', attempts=attempts+1, last_error=?, next_try_at=?, "
            "server_failures=server_failures+? WHERE seq=? AND state='inflight'",
            [(error[:1000], next_try_at, bump, s) for s in seqs]))

    def failed_alone(self, seq: int, error: str, next_try_at: float, dead_after: int) -> bool:
        """A 5xx answer to this row sent alone, while the platform took others: counted; at `dead_after`
        such answers the row goes dead with the reason (True), else back to pending."""
        def apply() -> bool:
            row = self.conn.execute("SELECT isolated_failures FROM outbox WHERE seq=?", (seq,)).fetchone()
            n = (row[0] if row else 0) + 1
            if n >= dead_after:
                why = (f"the platform answered 5xx to this item sent alone {n} times while accepting the others "
                       f"(a server-side fault with this item; fix it there, then `kiosk sync retry-dead`): {error}")
                self.conn.execute("UPDATE outbox SET state='dead', attempts=attempts+1, server_failures="
                                  "server_failures+1, isolated_failures=?, last_error=? WHERE seq=?",
                                  (n, why[:1000], seq))
                return True
            self.conn.execute("UPDATE outbox SET state='pending', attempts=attempts+1, server_failures="
                              "server_failures+1, isolated_failures=?, last_error=?, next_try_at=? WHERE seq=?",
                              (n, error[:1000], next_try_at, seq))
            return False
        return self._write(apply)

    def settle(self, acked: Iterable[int], dead: dict[int, str], retry: dict[int, str], next_try_at: float) -> None:
        """The outcome of one answered batch, in one commit."""
        now = self.now()

        def apply():
            self.conn.executemany(
                "UPDATE outbox SET state='acked', acked_at=?, attempts=attempts+1, last_error=NULL WHERE seq=?",
                [(now, s) for s in acked])
            self.conn.executemany("UPDATE outbox SET state='dead', attempts=attempts+1, last_error=? WHERE seq=?",
                                  [(why[:1000], s) for s, why in dead.items()])
            self.conn.executemany(
                "UPDATE outbox SET state='pending', attempts=attempts+1, last_error=?, next_try_at=? WHERE seq=?",
                [(why[:1000], next_try_at, s) for s, why in retry.items()])
        self._write(apply)

    def retry_dead(self, seqs: Iterable[int] | None = None) -> int:
        """A technician's decision: dead rows (all, or these) go back to pending."""
        if seqs is None:
            return self._write(lambda: self.conn.execute(
                "UPDATE outbox SET state='pending', attempts=0, next_try_at=0, server_failures=0, "
                "isolated_failures=0 WHERE state='dead'").rowcount)
        return self._write(lambda: sum(self.conn.execute(
            "UPDATE outbox SET state='pending', attempts=0, next_try_at=0, server_failures=0, isolated_failures=0 "
            "WHERE state='dead' AND seq=?",
            (s,)).rowcount for s in seqs))

    # -- reporting and housekeeping --------------------------------------------------------
    def summary(self) -> Summary:
        try:
            counts = dict.fromkeys(STATES, 0)
            for state, n in self.conn.execute("SELECT state, count(*) FROM outbox GROUP BY state"):
                counts[state] = n
            row = self.conn.execute("SELECT seq, created_at FROM outbox WHERE state IN ('pending','inflight') "
                                    "ORDER BY seq LIMIT 1").fetchone()
        except sqlite3.Error as exc:
            raise explain(exc, _db_path(self.conn)) from None
        age = max(0.0, round(self.now() - row["created_at"], 3)) if row else None
        return Summary(counts, age, row["seq"] if row else None)

    def pending_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM outbox WHERE state IN ('pending','inflight')").fetchone()[0]

    def next_due_at(self) -> float | None:
        """When the earliest pending row may be tried; None when nothing is pending."""
        row = self.conn.execute("SELECT min(next_try_at) FROM outbox WHERE state='pending'").fetchone()
        return row[0]

    def items(self, state: str, limit: int = 100) -> list[Entry]:
        if state not in STATES:
            raise ValueError(f"unknown outbox state {state!r}")
        return [_entry(r, strict=False) for r in self.conn.execute(
            "SELECT * FROM outbox WHERE state=? ORDER BY seq LIMIT ?", (state, limit))]

    def get(self, tid: str) -> Entry | None:
        row = self.conn.execute("SELECT * FROM outbox WHERE id=?", (tid,)).fetchone()
        return _entry(row, strict=False) if row else None

    def prune(self, days: int) -> int:
        """Delete rows acknowledged more than `days` ago. seq numbers are not reused (AUTOINCREMENT)."""
        cutoff = self.now() - days * 86400
        return self._write(lambda: self.conn.execute(
            "DELETE FROM outbox WHERE state='acked' AND acked_at < ?", (cutoff,)).rowcount)

