"""The one place that opens SQLite: WAL, synchronous=FULL, foreign keys, migrations.

The UI and the agent share one database file in the kiosk's data dir. Every
connection is opened here and checked: a pragma that did not take effect
(a file system without WAL support, say) is an error, not a silent downgrade.
Migrations are the `kiosk/migrations/NNNN_name.sql` files, applied once each in
name order and recorded in `schema_migrations`. The kiosk identity (configured
id + a UUID made with the database) lets a copied database be noticed.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

DB_NAME = "kiosk.db"
BUSY_TIMEOUT_MS = 10_000


class StoreError(Exception):
    """The database cannot be used as the kiosk needs it; the message says why and what to do."""


def explain(exc: sqlite3.Error, path: Path | str) -> StoreError:
    """A person-readable StoreError for an sqlite3 error (full disk, read-only, corrupt)."""
    text = str(exc)
    if "full" in text:
        hint = "the disk is full: free space in the data dir (nothing was lost; the change was not made)"
    elif "readonly" in text or "read-only" in text:
        hint = "the database is read-only: check the data dir's owner and permissions"
    elif "malformed" in text or "not a database" in text:
        hint = "the database file is damaged: keep a copy for support and restore from backup"
    elif "locked" in text or "busy" in text:
        hint = "another process held the database too long; try again"
    else:
        hint = text
    return StoreError(f"{path}: {hint} ({text})")


def connect(path: Path | str) -> sqlite3.Connection:
    """Open a connection with the project's pragmas and check they took effect.

    Autocommit mode (isolation_level=None): callers open transactions
    explicitly with `transaction()`, so what commits together is visible.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        sync = conn.execute("PRAGMA synchronous").fetchone()[0]
        fks = conn.execute("PRAGMA foreign_keys").fetchone()[0]
    except sqlite3.Error as exc:
        raise explain(exc, path) from None
    except OSError as exc:
        raise StoreError(f"{path.parent}: cannot create the data dir: {exc.strerror}") from None
    problems = []
    if str(mode).lower() != "wal":
        problems.append(f"journal_mode is {mode!r}, not 'wal' (is the data dir on a network or FAT file system?)")
    if sync != 2:
        problems.append(f"synchronous is {sync}, not 2 (FULL)")
    if fks != 1:
        problems.append("foreign keys could not be switched on")
    if problems:
        conn.close()
        raise StoreError(f"{path}: " + "; ".join(problems))
    return conn


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection, immediate: bool = True) -> Iterator[sqlite3.Connection]:
    """One SQLite transaction: committed when the block ends, rolled back on any error.

    IMMEDIATE takes the write lock at the start, so two processes never
    deadlock upgrading a read to a write.
    """
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield conn
    except BaseException:
        # SQLite has already rolled back after some errors (a full disk): a second
        # ROLLBACK would fail and hide the error that matters
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def _migration_files(package: str) -> list[tuple[str, str]]:
    pkg = resources.files(package)
    files = sorted(f for f in pkg.iterdir() if f.name.endswith(".sql"))
    return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


def migrate(conn: sqlite3.Connection, package: str = "kiosk.migrations") -> list[str]:
    """Apply the migrations not yet applied; returns their names. Safe from two processes at once.

    `package` holds the NNNN_name.sql files: the kiosk's own by default; the
    central platform keeps its schema in `kiosk.central.migrations`."""
    applied: list[str] = []
    with transaction(conn):
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        done = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
        for name, sql in _migration_files(package):
            if name in done:
                continue
            # statements one by one: executescript() would commit our transaction
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, time.time()))
            applied.append(name)
    for name in applied:
        log.info("database migration applied: %s", name)
    return applied


def _statements(sql: str) -> Iterator[str]:
    buf = ""
    for line in sql.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                yield buf
            buf = ""
    if buf.strip():
        raise StoreError(f"migration has an unterminated statement: {buf.strip()[:60]!r}")


def host_fingerprint() -> str:
    """A stable, non-personal digest of this machine: machine-id, board UUID and NIC addresses.

    A disk image cloned onto another kiosk PC keeps machine-id but not the
    board UUID or the network cards, so the digest changes.
    """
    parts: list[str] = []
    for p in ("/etc/machine-id", "/sys/class/dmi/id/product_uuid"):
        with contextlib.suppress(OSError):
            parts.append(Path(p).read_text().strip())
    net = Path("/sys/class/net")
    with contextlib.suppress(OSError):
        for iface in sorted(net.iterdir()):
            if (iface / "device").exists():  # physical cards only, not lo/veth/bridges
                with contextlib.suppress(OSError):
                    parts.append((iface / "address").read_text().strip())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Identity:
    kiosk_id: str          # from the config
    db_uuid: str           # made once, with the database
    created_for: str       # the kiosk id the database was made for
    created_at: float
    problems: list[str] = field(default_factory=list)  # why this database may belong to another kiosk

    @property
    def cloned(self) -> bool:
        return bool(self.problems)


def identity(conn: sqlite3.Connection, kiosk_id: str, fingerprint: str | None = None) -> Identity:
    fingerprint = fingerprint or host_fingerprint()
    with transaction(conn):
        row = conn.execute("SELECT db_uuid, kiosk_id, host, created_at FROM kiosk_identity").fetchone()
        if row is None:
            row = (str(uuid.uuid4()), kiosk_id, fingerprint, time.time())
            conn.execute("INSERT INTO kiosk_identity (db_uuid, kiosk_id, host, created_at) VALUES (?,?,?,?)", row)
    db_uuid, made_for, host, created = row
    problems = []
    if made_for != kiosk_id:
        problems.append(
            f"this database was made for kiosk {made_for!r} but the config says {kiosk_id!r}: "
            "a database copied from another kiosk? Give this kiosk a fresh data dir, or fix [kiosk] id"
        )
    if host != fingerprint:
        problems.append(
            "this database was made on another machine (a cloned disk image?): "
            "its transactions would be mixed up with the original kiosk's; give this kiosk a fresh data dir"
        )
    return Identity(kiosk_id, db_uuid, made_for, created, problems)


class PerThread(Generic[T]):
    """One value per thread, made on first use there: a SQLite connection (and whatever is built on
    one: an outbox, a model) is never shared between threads. `per_thread()` is this thread's."""

    def __init__(self, make: Callable[[], T]):
        self._make = make
        self._local = threading.local()

    def __call__(self) -> T:
        value = getattr(self._local, "value", None)
        if value is None:
            value = self._local.value = self._make()
        return value

    def take(self) -> T | None:
        """This thread's value, if made, forgotten here (the caller closes it); the next call makes one."""
        value, self._local.value = getattr(self._local, "value", None), None
        return value


class Store:
    """The kiosk's database: opened, migrated and identified once per process."""

    def __init__(self, data_dir: Path | str, kiosk_id: str):
        self.path = Path(data_dir) / DB_NAME
        self.kiosk_id = kiosk_id
        conn = connect(self.path)
        try:
            migrate(conn)
            self.identity = identity(conn, kiosk_id)
        except sqlite3.Error as exc:
            raise explain(exc, self.path) from None
        finally:
            conn.close()
        for problem in self.identity.problems:
            log.error("kiosk identity: %s", problem)

    def connect(self) -> sqlite3.Connection:
        """A new connection for the calling thread (SQLite connections are not shared across threads)."""
        return connect(self.path)

    @classmethod
    def from_settings(cls, settings) -> "Store":
        return cls(settings.data_path, settings.kiosk.id)
