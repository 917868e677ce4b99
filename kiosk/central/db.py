"""The central platform's database: provisioned kiosks and operators, nonces, and what kiosks sent.

One SQLite file (`--db PATH`), opened through `kiosk.store.connect` and
migrated from `kiosk/central/migrations/`. Every change that belongs together
commits together, so a request refused half way (a full disk, a conflict)
leaves nothing behind. `CentralDB` is used from one thread at a time: the
server's event loop, or a CLI command.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from kiosk import store
from kiosk.central import pickup_intake
from kiosk.central.sealing import SecretKeyError, SecretSeal, is_sealed, key_path, load_or_create_key  # noqa: F401

log = logging.getLogger(__name__)

DEFAULT_DB = Path("var/central.db")
MIGRATIONS = "kiosk.central.migrations"
PRINCIPAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # the form of [kiosk] id
MIN_SECRET = 16
HEARTBEAT_KEEP_S = 30 * 86400
# what one item can make the database refuse without the database being at fault; anything else
# (a full disk, a lock) fails the whole batch, which the kiosk retries
ITEM_ERRORS = (sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.DataError, OverflowError,
               UnicodeEncodeError, ValueError, TypeError)


def prepare_private_file(path: Path) -> None:
    """The database holds every principal's (sealed) secret and every kiosk's data: its directory is
    made 0700 when the platform creates it, and the file 0600 (SQLite gives its -wal and -shm the
    file's mode). A file another user may read is tightened, with a warning."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            log.warning("%s was readable by others (mode %o): made 0600", path, mode)
            os.chmod(path, 0o600)


class ProvisioningError(Exception):
    """A kiosk or operator cannot be provisioned as asked; the message says why and what to do."""


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class CheckedItem:
    """One item of an uploaded batch after validation: `row` is None when it was refused."""

    id: str
    row: dict[str, Any] | None
    reason: str | None = None


class CentralDB:
    def __init__(self, path: Path | str = DEFAULT_DB, *, clock: Callable[[], float] = time.time,
                 key_file: Path | str | None = None):
        self.path = Path(path)
        self.clock = clock
        prepare_private_file(self.path)
        key = key_path(self.path, key_file)
        self.seal = SecretSeal(load_or_create_key(key), key)
        # more of what a newly stored transaction changes (the hall's queue: kiosk/central/queues.py), each
        # `hook(conn, kiosk_id, row, now)` inside the batch's transaction, as pickup_intake.on_stored
        self.intake_hooks: list[Callable[[sqlite3.Connection, str, dict[str, Any], float], None]] = []
        self.conn = store.connect(self.path)
        # deleted personal data (an applicant's phone, kiosk/central/cases.py) is overwritten, not left in free pages
        self.conn.execute("PRAGMA secure_delete = ON")
        try:
            self.applied_migrations = store.migrate(self.conn, package=MIGRATIONS)
            if "0003_quarantine" in self.applied_migrations:
                # rows stored before the edge checks existed: move the unservable ones aside once
                from kiosk.central.quarantine import quarantine
                moved = quarantine(self.conn, self.clock)
                if any(moved.values()):
                    log.warning("quarantined rows the platform cannot serve: %s (table quarantine)", moved)
            self._seal_plain_secrets()
        except sqlite3.Error as exc:
            self.conn.close()
            raise store.explain(exc, self.path) from None

    def close(self) -> None:
        self.conn.close()

    def _seal_plain_secrets(self) -> None:
        """Secrets stored in plain text by a platform before sealing existed: sealed in place, once."""
        with store.transaction(self.conn):
            for table, key, kind in (("kiosks", "kiosk_id", "kiosk"), ("operators", "name", "operator")):
                rows = self.conn.execute(f"SELECT {key} AS name, secret FROM {table}").fetchall()
                for r in rows:
                    if not is_sealed(r["secret"]):
                        self.conn.execute(f"UPDATE {table} SET secret = ? WHERE {key} = ?",
                                          (self.seal.seal(r["secret"], f"{kind}:{r['name']}"), r["name"]))
                        log.info("%s %s: secret sealed at rest", kind, r["name"])

    def __enter__(self) -> "CentralDB":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- principals ---------------------------------------------------------------------------

    def _provision(self, table: str, key: str, name: str, secret: str | None, rotate: bool,
                   extra: dict[str, Any] | None = None) -> tuple[str, bool]:
        what = "kiosk id" if table == "kiosks" else "operator name"
        if not PRINCIPAL_ID.match(name):
            raise ProvisioningError(f"{what} {name!r} is not usable: 1-64 letters, digits, '.', '_' or '-', "
                                    "starting with a letter or digit")
        if secret is not None and len(secret) < MIN_SECRET:
            raise ProvisioningError(f"the secret is too short: at least {MIN_SECRET} characters")
        owner = f"{'kiosk' if table == 'kiosks' else 'operator'}:{name}"
        with store.transaction(self.conn):
            row = self.conn.execute(f"SELECT secret FROM {table} WHERE {key} = ?", (name,)).fetchone()
            if row is not None:
                if secret is not None and secrets.compare_digest(secret, self.seal.unseal(row["secret"], owner)):
                    return secret, False  # provisioning again with the same secret changes nothing
                if not rotate:
                    raise ProvisioningError(
                        f"{what} {name!r} is already provisioned; pass --rotate to issue a new secret "
                        "(the old one stops working at once)")
                secret = secret or new_secret()
                self.conn.execute(f"UPDATE {table} SET secret = ? WHERE {key} = ?",
                                  (self.seal.seal(secret, owner), name))
                log.info("%s %s: secret rotated", table[:-1], name)
                return secret, False
            secret = secret or new_secret()
            cols = {key: name, "secret": self.seal.seal(secret, owner), "created_at": self.clock(), **(extra or {})}
            self.conn.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                              tuple(cols.values()))
            log.info("%s %s provisioned", table[:-1], name)
            return secret, True

    def add_kiosk(self, kiosk_id: str, secret: str | None = None, *, groups: Iterable[str] = (),
                  rotate: bool = False) -> tuple[str, bool]:
        """Provision a kiosk; returns (secret, created). Groups are the config-bundle targets it answers to."""
        groups = sorted(set(groups))
        for g in groups:
            if not PRINCIPAL_ID.match(g):
                raise ProvisioningError(f"group name {g!r} is not usable: letters, digits, '.', '_' or '-'")
        result = self._provision("kiosks", "kiosk_id", kiosk_id, secret, rotate,
                                 {"groups": json.dumps(groups)})
        if groups:
            with store.transaction(self.conn):
                self.conn.execute("UPDATE kiosks SET groups = ? WHERE kiosk_id = ?", (json.dumps(groups), kiosk_id))
        return result

    def add_operator(self, name: str, secret: str | None = None, *, rotate: bool = False) -> tuple[str, bool]:
        return self._provision("operators", "name", name, secret, rotate)

    def secret_of(self, kind: str, principal: str) -> str | None:
        sql = ("SELECT secret FROM kiosks WHERE kiosk_id = ?" if kind == "kiosk"
               else "SELECT secret FROM operators WHERE name = ?")
        row = self.conn.execute(sql, (principal,)).fetchone()
        return self.seal.unseal(row["secret"], f"{kind}:{principal}") if row else None

    def kiosk_exists(self, kiosk_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM kiosks WHERE kiosk_id = ?", (kiosk_id,)).fetchone() is not None

    def kiosk_groups(self, kiosk_id: str) -> list[str]:
        row = self.conn.execute("SELECT groups FROM kiosks WHERE kiosk_id = ?", (kiosk_id,)).fetchone()
        return json.loads(row["groups"]) if row else []

    def remember_nonce(self, principal: str, nonce: str, expires_at: float) -> bool:
        """Record a nonce; False when it was already used (a replay). Forgets nonces past their window."""
        with store.transaction(self.conn):
            self.conn.execute("DELETE FROM nonces WHERE expires_at < ?", (self.clock(),))
            try:
                self.conn.execute("INSERT INTO nonces (principal, nonce, expires_at) VALUES (?, ?, ?)",
                                  (principal, nonce, expires_at))
            except sqlite3.IntegrityError:
                return False
        return True

    # -- transactions -------------------------------------------------------------------------

    def store_batch(self, kiosk_id: str, items: list[CheckedItem]) -> list[dict[str, Any]]:
        """Store the valid items of one batch in one SQLite transaction; per-item results in order.

        An id already stored with the same body is a `duplicate` (the kiosk
        retrying after a lost answer); with another body it is `rejected`
        and the conflicting body is kept in `transaction_conflicts`."""
        now = self.clock()
        results: list[dict[str, Any]] = []
        conflicts: list[tuple[str, str]] = []
        with store.transaction(self.conn):
            for item in items:
                if item.row is None:
                    results.append({"id": item.id, "status": "rejected", "reason": item.reason})
                    continue
                # each item in its own savepoint: one the database refuses is rejected alone, with its
                # reason, instead of failing the batch (and, retried, failing it for ever)
                self.conn.execute("SAVEPOINT batch_item")
                try:
                    result = self._store_item(kiosk_id, item, now, conflicts)
                except ITEM_ERRORS as exc:
                    self.conn.execute("ROLLBACK TO batch_item")
                    log.error("kiosk %s: transaction %s could not be stored: %s: %s", kiosk_id, item.id,
                              type(exc).__name__, exc)
                    result = {"id": item.id, "status": "rejected",
                              "reason": f"could not be stored ({type(exc).__name__}); kept out of the platform"}
                self.conn.execute("RELEASE batch_item")
                results.append(result)
        for tx_id, reason in conflicts:
            log.warning("kiosk %s: transaction %s refused: %s", kiosk_id, tx_id, reason)
        return results

    def _store_item(self, kiosk_id: str, item: CheckedItem, now: float,
                    conflicts: list[tuple[str, str]]) -> dict[str, Any]:
        row = item.row
        old = self.conn.execute("SELECT kiosk_id, body_sha256 FROM transactions WHERE id = ?",
                                (row["id"],)).fetchone()
        if old is None:
            self.conn.execute(
                "INSERT INTO transactions (id, kiosk_id, seq, kind, occurred_at, boot_id, uptime_s, data,"
                " body_sha256, received_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (row["id"], kiosk_id, row["seq"], row["kind"], row["occurred_at"], row["boot_id"],
                 row["uptime_s"], row["data"], row["body_sha256"], now))
            pickup_intake.on_stored(self.conn, kiosk_id, row, now)  # only for what is stored now, never twice
            for hook in self.intake_hooks:
                hook(self.conn, kiosk_id, row, now)
            return {"id": item.id, "status": "accepted", "reason": None}
        if old["kiosk_id"] == kiosk_id and old["body_sha256"] == row["body_sha256"]:
            return {"id": item.id, "status": "duplicate", "reason": None}
        reason = ("id already used by another kiosk" if old["kiosk_id"] != kiosk_id else
                  "id already stored with a different body (an id is used once, for one transaction)")
        self.conn.execute(
            "INSERT INTO transaction_conflicts (id, kiosk_id, body, body_sha256, reason, received_at)"
            " VALUES (?,?,?,?,?,?)", (row["id"], kiosk_id, row["body"], row["body_sha256"], reason, now))
        conflicts.append((row["id"], reason))
        return {"id": item.id, "status": "rejected", "reason": reason}

    def transactions(self, kiosk_id: str | None = None, after_seq: int = 0,
                     limit: int | None = None) -> list[dict[str, Any]]:
        sql = ("SELECT id, kiosk_id, seq, kind, occurred_at, boot_id, uptime_s, data, received_at"
               " FROM transactions WHERE seq > ?")
        params: list[Any] = [after_seq]
        if kiosk_id is not None:
            sql += " AND kiosk_id = ?"
            params.append(kiosk_id)
        sql += " ORDER BY kiosk_id, seq, received_at"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        out = []
        for r in self.conn.execute(sql, params):
            d = dict(r)
            d["data"] = json.loads(d["data"])
            out.append(d)
        return out

    def count(self, table: str) -> int:
        if not re.fullmatch(r"[a-z_]+", table):
            raise ValueError(table)
        return self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    # -- catalog ------------------------------------------------------------------------------

    def put_catalog(self, body: bytes, version: str, items: int, by: str) -> dict[str, Any]:
        """Store a validated catalog unless it is the one already served; returns what is served now."""
        digest = sha256_hex(body)
        with store.transaction(self.conn):
            newest = self.conn.execute("SELECT sha256 FROM catalogs ORDER BY rowid DESC LIMIT 1").fetchone()
            changed = newest is None or newest["sha256"] != digest
            if changed:
                self.conn.execute("INSERT INTO catalogs (version, sha256, items, body, uploaded_at, uploaded_by)"
                                  " VALUES (?,?,?,?,?,?)", (version, digest, items, body, self.clock(), by))
        return {"version": version, "sha256": digest, "items": items, "changed": changed}

    def newest_catalog(self) -> sqlite3.Row | None:
        return self.conn.execute("SELECT version, sha256, items, body, uploaded_at FROM catalogs"
                                 " ORDER BY rowid DESC LIMIT 1").fetchone()

    # -- signed config bundles ----------------------------------------------------------------

    def newest_config_version(self) -> int | None:
        return self.conn.execute("SELECT max(version) FROM config_bundles").fetchone()[0]

    def put_config(self, body: bytes, version: int, targets: list[str], by: str) -> bool:
        """Store a bundle; False when its version is not above every stored one (versions only grow)."""
        with store.transaction(self.conn):
            top = self.conn.execute("SELECT max(version) FROM config_bundles").fetchone()[0]
            if top is not None and version <= top:
                return False
            self.conn.execute("INSERT INTO config_bundles (version, targets, sha256, body, uploaded_at, uploaded_by)"
                              " VALUES (?,?,?,?,?,?)",
                              (version, json.dumps(targets), sha256_hex(body), body, self.clock(), by))
        return True

    def newest_config_for(self, kiosk_id: str) -> sqlite3.Row | None:
        names = {kiosk_id, *self.kiosk_groups(kiosk_id)}
        for row in self.conn.execute("SELECT version, targets, sha256, body FROM config_bundles"
                                     " ORDER BY version DESC"):
            if names.intersection(json.loads(row["targets"])):
                return row
        return None

    # -- heartbeats ---------------------------------------------------------------------------

    def record_heartbeat(self, kiosk_id: str, body: str) -> float:
        now = self.clock()
        with store.transaction(self.conn):
            self.conn.execute("INSERT INTO heartbeats (kiosk_id, received_at, body) VALUES (?,?,?)",
                              (kiosk_id, now, body))
            self.conn.execute("INSERT INTO kiosk_status (kiosk_id, received_at, body) VALUES (?,?,?)"
                              " ON CONFLICT (kiosk_id) DO UPDATE SET received_at = excluded.received_at,"
                              " body = excluded.body", (kiosk_id, now, body))
            self.conn.execute("DELETE FROM heartbeats WHERE received_at < ?", (now - HEARTBEAT_KEEP_S,))
        return now

    def kiosks(self) -> list[dict[str, Any]]:
        out = []
        for r in self.conn.execute(
                "SELECT k.kiosk_id, k.groups, k.created_at, s.received_at, s.body FROM kiosks k"
                " LEFT JOIN kiosk_status s USING (kiosk_id) ORDER BY k.kiosk_id"):
            out.append({"kiosk_id": r["kiosk_id"], "groups": json.loads(r["groups"]),
                        "provisioned_at": r["created_at"], "last_heartbeat_at": r["received_at"],
                        "last_heartbeat": json.loads(r["body"]) if r["body"] else None})
        return out

    def heartbeats(self, kiosk_id: str, limit: int = 100) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT received_at, body FROM heartbeats WHERE kiosk_id = ?"
                                 " ORDER BY rowid DESC LIMIT ?", (kiosk_id, limit))
        return [{"received_at": r["received_at"], "heartbeat": json.loads(r["body"])} for r in rows]

    # -- documents ----------------------------------------------------------------------------

    def put_document(self, doc_id: str, title: str, pages: int, pdf: bytes, holders: Iterable[str] = ()) -> int:
        """Store (or replace) a document and release it to `holders` (keyed hashes) in one commit;
        returns the number of new releases. Releases are only ever added."""
        now = self.clock()
        new = 0
        with store.transaction(self.conn):
            self.conn.execute(
                "INSERT INTO documents (doc_id, title, pages, sha256, pdf, created_at) VALUES (?,?,?,?,?,?)"
                " ON CONFLICT (doc_id) DO UPDATE SET title = excluded.title, pages = excluded.pages,"
                " sha256 = excluded.sha256, pdf = excluded.pdf",
                (doc_id, title, pages, sha256_hex(pdf), pdf, now))
            for holder in holders:
                new += self.conn.execute("INSERT OR IGNORE INTO document_releases (doc_id, holder, released_at)"
                                         " VALUES (?,?,?)", (doc_id, holder, now)).rowcount
        return new

    def release_document(self, doc_id: str, holder: str) -> bool:
        """Release a document for printing to one holder (keyed hash); False when it already was."""
        with store.transaction(self.conn):
            cur = self.conn.execute("INSERT OR IGNORE INTO document_releases (doc_id, holder, released_at)"
                                    " VALUES (?,?,?)", (doc_id, holder, self.clock()))
        return cur.rowcount == 1

    def documents_for(self, holder: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT d.doc_id, d.title, d.pages, r.released_at FROM document_releases r"
            " JOIN documents d USING (doc_id) WHERE r.holder = ? ORDER BY r.released_at DESC, d.doc_id", (holder,))
        return [{"id": r["doc_id"], "title": r["title"], "pages": r["pages"], "released_at": r["released_at"]}
                for r in rows]

    def released_document(self, doc_id: str, holder: str | None = None) -> sqlite3.Row | None:
        """The document, if it was released (to `holder`, when given); None otherwise."""
        sql = ("SELECT d.doc_id, d.title, d.sha256, d.pdf FROM documents d WHERE d.doc_id = ? AND EXISTS"
               " (SELECT 1 FROM document_releases r WHERE r.doc_id = d.doc_id")
        params: list[Any] = [doc_id]
        if holder is not None:
            sql += " AND r.holder = ?"
            params.append(holder)
        return self.conn.execute(sql + ")", params).fetchone()

    def log_download(self, doc_id: str, kiosk_id: str, holder: str | None) -> None:
        with store.transaction(self.conn):
            self.conn.execute("INSERT INTO document_downloads (doc_id, kiosk_id, holder, at) VALUES (?,?,?,?)",
                              (doc_id, kiosk_id, holder, self.clock()))
