"""The central platform's database: provisioned kiosks and operators, nonces, and what kiosks sent.

One SQLite file (`--db PATH`, a hall's default) or a PostgreSQL database
(`--db postgresql://…`, a city's or a province's, served by several workers),
through SQLAlchemy Core (kiosk/central/database.py, kiosk/central/schema.py).
Every change that belongs together commits together, so a request refused
half way (a full disk, a conflict) leaves nothing behind; what one worker
stores is never stored again by another (one `INSERT … ON CONFLICT DO NOTHING`
per batch). A `CentralDB` is used by one process; its connections come from
the engine's pool.
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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import Connection, bindparam, exc as sa_exc, func, select, text

from kiosk.central import activity_intake, alarm_intake, database, help_intake, pickup_intake, rating_intake
from kiosk.central.database import prepare_private_file  # noqa: F401 (where it was)
from kiosk.central import schema as T
from kiosk.central.sealing import (ENV_KEY_FILE, SecretKeyError, SecretSeal, is_sealed, key_path,  # noqa: F401
                                   load_or_create_key)

log = logging.getLogger(__name__)

DEFAULT_DB = Path("var/central.db")
MIGRATIONS = "kiosk.central.migrations"
PRINCIPAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # the form of [kiosk] id
MIN_SECRET = 16
HEARTBEAT_KEEP_S = 30 * 86400   # the default of [central] heartbeat_history_days
_REMEMBER_NONCE = {dialect: database.insert(dialect, T.nonces)
                   .values(principal=bindparam("principal"), nonce=bindparam("nonce"),
                           expires_at=bindparam("expires_at"))
                   .on_conflict_do_nothing(index_elements=["principal", "nonce"]).returning(T.nonces.c.nonce)
                   for dialect in ("sqlite", "postgresql")}


def _record_heartbeat_statements(dialect: str) -> list:
    """Into the history, and as the kiosk's latest: on PostgreSQL one statement (the history's INSERT as a
    common table expression of the latest's), one round trip."""
    values = {c: bindparam(c) for c in ("kiosk_id", "received_at", "body")}
    latest = database.insert(dialect, T.kiosk_status).values(**values)
    latest = latest.on_conflict_do_update(index_elements=["kiosk_id"], set_={
        "received_at": latest.excluded.received_at, "body": latest.excluded.body})
    history = T.heartbeats.insert().values(**values)
    if dialect == "postgresql":
        return [latest.add_cte(history.cte("history"))]
    return [history, latest]


_RECORD_HEARTBEAT = {dialect: _record_heartbeat_statements(dialect) for dialect in ("sqlite", "postgresql")}
_SECRET_OF = {"kiosk": select(T.kiosks.c.secret).where(T.kiosks.c.kiosk_id == bindparam("principal")),
              "operator": select(T.operators.c.secret).where(T.operators.c.name == bindparam("principal"))}
_BUNDLES_STORED = (select(func.max(T.config_bundles.c.version)).scalar_subquery(),
                   select(func.count()).select_from(T.config_bundles).scalar_subquery())
_GROUPS_AND_BUNDLES = select(T.kiosks.c.groups, *_BUNDLES_STORED).where(T.kiosks.c.kiosk_id == bindparam("kiosk_id"))
_STORED = ("id", "seq", "kind", "occurred_at", "boot_id", "uptime_s", "data", "body_sha256")  # of an item's row
_ROWS_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_PG_STORE = text(   # a batch's rows: [[id, seq, kind, occurred_at, boot_id, uptime_s, data, body_sha256], ...]
    "INSERT INTO transactions (id, seq, kind, occurred_at, boot_id, uptime_s, data, body_sha256, kiosk_id, received_at)"
    " SELECT r->>0, (r->>1)::bigint, r->>2, r->>3, r->>4, (r->>5)::double precision, r->>6, r->>7,"
    " CAST(:kiosk_id AS text), CAST(:received_at AS double precision)"
    " FROM json_array_elements(CAST(:rows AS json)) AS r ON CONFLICT (id) DO NOTHING RETURNING id")
NONCE_SWEEP_S = 10
HEARTBEAT_SWEEP_S = 60
# what one item can make the database refuse without the database being at fault; anything else
# (a full disk, a lock) fails the whole batch, which the kiosk retries
ITEM_ERRORS = (sa_exc.IntegrityError, sa_exc.DataError, sa_exc.InterfaceError, sqlite3.Error, OverflowError,
               UnicodeEncodeError, ValueError, TypeError)


class KeyFileNeeded(SecretKeyError):
    """A database server was named without the sealing key's file."""


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
                 key_file: Path | str | None = None, upgrade: bool = False, pool_size: int = 5):
        """Open the platform's database (a SQLite path or a URL). A new, empty database is made at the
        newest schema; one at an older schema is refused (database.SchemaBehind names `kiosk central
        migrate`) unless `upgrade`, which is what that command passes."""
        self.url = database.database_url(path)
        self.shown = database.shown(self.url)
        self.path = database.sqlite_path(self.url)   # None on PostgreSQL
        self.clock = clock
        if self.path is None and not (key_file or os.environ.get(ENV_KEY_FILE)):
            raise KeyFileNeeded(
                f"{self.shown}: give the key that seals secrets at rest with --key-file PATH (or "
                f"{ENV_KEY_FILE}): with a database server it is not kept beside the database; every worker "
                "and command of the platform uses the same file")
        if self.path is not None:
            prepare_private_file(self.path)
        key = key_path(self.path or Path(), key_file)
        self.seal = SecretSeal(load_or_create_key(key), key)
        # more of what a newly stored transaction changes (the hall's queue: kiosk/central/queues.py), each
        # `hook(conn, kiosk_id, row, now)` inside the batch's transaction, as pickup_intake.on_stored
        self.intake_hooks: list[Callable[[Connection, str, dict[str, Any], float], None]] = []
        # what the transactions newly stored by one statement change together, `hook(conn, kiosk_id, rows, now)`
        # once per statement with the rows it stored (counts per day: one upsert per batch, not per item). Rows
        # that every kiosk of a hall shares are locked in one order, tables in this order and keys sorted within
        # each, so two workers never wait on each other in a circle (PostgreSQL would end one with a deadlock)
        self.batch_hooks: list[Callable[[Connection, str, list[dict[str, Any]], float], None]] = [
            rating_intake.on_batch, activity_intake.on_batch]
        self.engine = database.open_engine(path, pool_size=pool_size)
        self.dialect = self.engine.dialect.name
        self._unfenced_engine = database.open_unfenced_engine(path, pool_size=pool_size)
        self._bundles: tuple[tuple, list[tuple[int, frozenset[str], str]]] = ((), [])   # see _bundle_targets
        self.applied_migrations: list[str] = []
        self._nonces_swept = self._heartbeats_swept = float("-inf")
        self.heartbeat_keep_s = HEARTBEAT_KEEP_S
        self._unsealed: dict[str, tuple[str, str]] = {}   # owner -> (sealed as stored, plain): unsealed once
        try:
            if upgrade:
                self.applied_migrations = database.migrate(self.engine)
            else:
                database.require_current(self.engine, self.url)
            if "0003_quarantine" in self.applied_migrations:
                # rows stored before the edge checks existed (SQLite platforms only): moved aside once
                from kiosk.central.quarantine import quarantine
                moved = quarantine(self, self.clock)
                if any(moved.values()):
                    log.warning("quarantined rows the platform cannot serve: %s (table quarantine)", moved)
            self._seal_plain_secrets()
        except database.StoreError:
            self.engine.dispose()
            raise
        except (sa_exc.SQLAlchemyError, sqlite3.Error) as exc:
            self.engine.dispose()
            raise database.explain_error(exc, self.url) from None

    def close(self) -> None:
        self.engine.dispose()
        if self._unfenced_engine is not None:
            self._unfenced_engine.dispose()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back on any error."""
        with self.engine.begin() as conn:
            yield conn

    def reading(self):
        """A connection for reads (no write lock on SQLite)."""
        return database.reading(self.engine)

    @contextmanager
    def unfenced(self) -> Iterator[Connection]:
        """For a request's bookkeeping that a database crash may forget (replay nonces, heartbeats): on
        PostgreSQL each statement commits at once and does not wait for the disk
        (database.open_unfenced_engine), two round trips fewer per transaction; on SQLite one write
        transaction like any other."""
        if self._unfenced_engine is None:
            with self.begin() as conn:
                yield conn
        else:
            with self._unfenced_engine.connect() as conn:
                yield conn

    def _seal_plain_secrets(self) -> None:
        """Secrets stored in plain text by a platform before sealing existed: sealed in place, once."""
        with self.begin() as conn:
            for table, key, kind in (("kiosks", "kiosk_id", "kiosk"), ("operators", "name", "operator")):
                rows = conn.execute(text(f"SELECT {key} AS name, secret FROM {table}")).mappings().all()
                for r in rows:
                    if not is_sealed(r["secret"]):
                        conn.execute(text(f"UPDATE {table} SET secret = :s WHERE {key} = :k"),
                                     {"s": self.seal.seal(r["secret"], f"{kind}:{r['name']}"), "k": r["name"]})
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
        with self.begin() as conn:
            row = conn.execute(text(f"SELECT secret FROM {table} WHERE {key} = :k"), {"k": name}).mappings().first()
            if row is not None:
                if secret is not None and secrets.compare_digest(secret, self.seal.unseal(row["secret"], owner)):
                    return secret, False  # provisioning again with the same secret changes nothing
                if not rotate:
                    raise ProvisioningError(
                        f"{what} {name!r} is already provisioned; pass --rotate to issue a new secret "
                        "(the old one stops working at once)")
                secret = secret or new_secret()
                conn.execute(text(f"UPDATE {table} SET secret = :s WHERE {key} = :k"),
                             {"s": self.seal.seal(secret, owner), "k": name})
                log.info("%s %s: secret rotated", table[:-1], name)
                return secret, False
            secret = secret or new_secret()
            cols = {key: name, "secret": self.seal.seal(secret, owner), "created_at": self.clock(), **(extra or {})}
            conn.execute(T.metadata.tables[table].insert().values(**cols))
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
            with self.begin() as conn:
                conn.execute(T.kiosks.update().where(T.kiosks.c.kiosk_id == kiosk_id)
                             .values(groups=json.dumps(groups)))
        return result

    def add_operator(self, name: str, secret: str | None = None, *, rotate: bool = False) -> tuple[str, bool]:
        return self._provision("operators", "name", name, secret, rotate)

    def secret_of(self, kind: str, principal: str) -> str | None:
        with self.reading() as conn:
            return self._secret_of(conn, kind, principal)

    def _secret_of(self, conn: Connection, kind: str, principal: str) -> str | None:
        sealed = conn.execute(_SECRET_OF[kind], {"principal": principal}).scalar()
        if sealed is None:
            return None
        owner = f"{kind}:{principal}"
        known = self._unsealed.get(owner)   # the stored value is read every time: a new secret counts at once
        if known is not None and known[0] == sealed:
            return known[1]
        plain = self.seal.unseal(sealed, owner)
        self._unsealed[owner] = (sealed, plain)
        return plain

    def authenticate(self, kind: str, principal: str, verify: Callable[[str], None], nonce: str,
                     expires_at: float) -> bool | None:
        """A signed request's database work in one transaction: None when `principal` is not provisioned;
        else `verify(secret)` (raising when the signature is wrong, and then nothing is recorded), and the
        nonce recorded as remember_nonce does: False when it was already used."""
        with self.unfenced() as conn:
            secret = self._secret_of(conn, kind, principal)
            if secret is None:
                return None
            verify(secret)
            return self._remember_nonce(conn, f"{kind}:{principal}", nonce, expires_at)

    def kiosk_exists(self, kiosk_id: str) -> bool:
        with self.reading() as conn:
            return conn.execute(select(1).where(T.kiosks.c.kiosk_id == kiosk_id)).first() is not None

    def kiosk_groups(self, kiosk_id: str) -> list[str]:
        with self.reading() as conn:
            groups = conn.execute(select(T.kiosks.c.groups).where(T.kiosks.c.kiosk_id == kiosk_id)).scalar()
        return json.loads(groups) if groups else []

    def remember_nonce(self, principal: str, nonce: str, expires_at: float) -> bool:
        """Record a nonce; False when it was already used (a replay), by this worker or another.
        Forgets nonces past their window, at most every NONCE_SWEEP_S (not a delete with every request).

        On PostgreSQL the nonce's commit does not wait for the disk (`unfenced`): a database crash could
        forget the nonces of its last fraction of a second, which lets a request captured then be replayed
        within its signature window, and every request of the API is idempotent or refused when repeated
        (a batch answers duplicate, a bundle must be newer, a case compares its body). What a request
        stores commits durably, as always."""
        with self.unfenced() as conn:
            return self._remember_nonce(conn, principal, nonce, expires_at)

    def _remember_nonce(self, conn: Connection, principal: str, nonce: str, expires_at: float) -> bool:
        now = self.clock()
        if now - self._nonces_swept >= NONCE_SWEEP_S or now < self._nonces_swept:
            conn.execute(T.nonces.delete().where(T.nonces.c.expires_at < now))
            self._nonces_swept = now
        return conn.execute(_REMEMBER_NONCE[self.dialect],
                            {"principal": principal, "nonce": nonce, "expires_at": expires_at}).first() is not None

    # -- transactions -------------------------------------------------------------------------

    def store_batch(self, kiosk_id: str, items: list[CheckedItem]) -> list[dict[str, Any]]:
        """Store the valid items of one batch in one transaction; per-item results in order.

        One `INSERT … ON CONFLICT (id) DO NOTHING RETURNING id` stores the new
        ones: two workers given the same batch at once store it once (the
        second waits on the first's rows, then inserts none). The ids not
        inserted are read back: one already stored with the same body is a
        `duplicate` (the kiosk retrying after a lost answer); with another body
        it is `rejected` and the conflicting body is kept in
        `transaction_conflicts`. When the database refuses one item's values,
        the batch is stored again item by item, so that item alone is rejected."""
        now = self.clock()
        conflicts: list[tuple[str, str]] = []
        valid = [item for item in items if item.row is not None]
        with self.begin() as conn:
            try:
                with conn.begin_nested():
                    outcome = self._store_rows(conn, kiosk_id, valid, now, conflicts)
            except ITEM_ERRORS:
                conflicts.clear()
                outcome = []
                for item in valid:
                    try:
                        with conn.begin_nested():
                            outcome += self._store_rows(conn, kiosk_id, [item], now, conflicts)
                    except ITEM_ERRORS as exc:
                        log.error("kiosk %s: transaction %s could not be stored: %s: %s", kiosk_id, item.id,
                                  _cause(exc), str(getattr(exc, "orig", exc)).split("\n")[0])
                        outcome.append({"id": item.id, "status": "rejected",
                                        "reason": f"could not be stored ({_cause(exc)}); kept out of the platform"})
        stored = iter(outcome)
        results = [next(stored) if item.row is not None else
                   {"id": item.id, "status": "rejected", "reason": item.reason} for item in items]
        for tx_id, reason in conflicts:
            log.warning("kiosk %s: transaction %s refused: %s", kiosk_id, tx_id, reason)
        return results

    def _store_rows(self, conn: Connection, kiosk_id: str, items: list[CheckedItem], now: float,
                    conflicts: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """Store `items` (valid ones) with one statement; their results, in their order."""
        if not items:
            return []
        if self.dialect == "postgresql":
            # the rows as one JSON parameter: the statement's text is the same for every batch, so the driver
            # and the server parse and plan it once per connection, not once per batch as a VALUES list of
            # 100 rows; and one JSON text is encoded in C, where arrays of text are escaped value by value
            rows = _ROWS_JSON.encode([[item.row[c] for c in _STORED] for item in items])
            inserted = set(conn.execute(_PG_STORE, {"rows": rows, "kiosk_id": kiosk_id, "received_at": now}).scalars())
        else:
            rows = [{**{c: item.row[c] for c in _STORED}, "kiosk_id": kiosk_id, "received_at": now}
                    for item in items]
            inserted = set(conn.execute(
                database.insert(self.dialect, T.transactions).on_conflict_do_nothing(index_elements=["id"])
                .returning(T.transactions.c.id), rows).scalars())
        t = T.transactions
        # what each id not inserted now is stored as; an id inserted now that comes again in this batch is
        # compared with its first item
        stored = {r["id"]: r for r in conn.execute(
            select(t.c.id, t.c.kiosk_id, t.c.body_sha256).where(t.c.id.in_(bindparam("ids", expanding=True))),
            {"ids": sorted({item.id for item in items} - inserted)}).mappings()} if len(inserted) < len(items) else {}
        results = []
        for item in items:   # in the batch's order; each id inserted now is accepted once
            if item.id in inserted and item.id not in stored:
                pickup_intake.on_stored(conn, kiosk_id, item.row, now)
                alarm_intake.on_stored(conn, kiosk_id, item.row, now)
                help_intake.on_stored(conn, kiosk_id, item.row, now)
                for hook in self.intake_hooks:
                    hook(conn, kiosk_id, item.row, now)
                stored[item.id] = {"kiosk_id": kiosk_id, "body_sha256": item.row["body_sha256"]}
                results.append({"id": item.id, "status": "accepted", "reason": None})
                continue
            old = stored[item.id]
            if old["kiosk_id"] == kiosk_id and old["body_sha256"] == item.row["body_sha256"]:
                results.append({"id": item.id, "status": "duplicate", "reason": None})
                continue
            reason = ("id already used by another kiosk" if old["kiosk_id"] != kiosk_id else
                      "id already stored with a different body (an id is used once, for one transaction)")
            conn.execute(T.transaction_conflicts.insert().values(
                id=item.id, kiosk_id=kiosk_id, body=item.row["body"], body_sha256=item.row["body_sha256"],
                reason=reason, received_at=now))
            conflicts.append((item.id, reason))
            results.append({"id": item.id, "status": "rejected", "reason": reason})
        if self.batch_hooks:
            accepted = [item.row for item, result in zip(items, results) if result["status"] == "accepted"]
            if accepted:
                for hook in self.batch_hooks:
                    hook(conn, kiosk_id, accepted, now)
        return results

    def transactions(self, kiosk_id: str | None = None, after_seq: int = 0,
                     limit: int | None = None) -> list[dict[str, Any]]:
        t = T.transactions
        stmt = (select(t.c.id, t.c.kiosk_id, t.c.seq, t.c.kind, t.c.occurred_at, t.c.boot_id, t.c.uptime_s,
                       t.c.data, t.c.received_at).where(t.c.seq > after_seq)
                .order_by(t.c.kiosk_id, t.c.seq, t.c.received_at))
        if kiosk_id is not None:
            stmt = stmt.where(t.c.kiosk_id == kiosk_id)
        if limit is not None:
            stmt = stmt.limit(limit)
        out = []
        with self.reading() as conn:
            for r in conn.execute(stmt).mappings():
                d = dict(r)
                d["data"] = json.loads(d["data"])
                out.append(d)
        return out

    def count(self, table: str) -> int:
        if not re.fullmatch(r"[a-z_]+", table):
            raise ValueError(table)
        with self.reading() as conn:
            return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()

    # -- catalog ------------------------------------------------------------------------------

    def put_catalog(self, body: bytes, version: str, items: int, by: str) -> dict[str, Any]:
        """Store a validated catalog unless it is the one already served; returns what is served now."""
        digest = sha256_hex(body)
        c = T.catalogs
        with self.begin() as conn:
            newest = conn.execute(select(c.c.sha256).order_by(c.c.rowid.desc()).limit(1)
                                  .with_for_update()).scalar()
            changed = newest is None or newest != digest
            if changed:
                conn.execute(c.insert().values(version=version, sha256=digest, items=items, body=body,
                                               uploaded_at=self.clock(), uploaded_by=by))
        return {"version": version, "sha256": digest, "items": items, "changed": changed}

    def newest_catalog(self, *, body: bool = True) -> dict[str, Any] | None:
        """The catalog served now; without `body` only what names it (an ETag check needs no more)."""
        c = T.catalogs
        cols = [c.c.rowid, c.c.version, c.c.sha256, c.c["items"], c.c.uploaded_at] + ([c.c.body] if body else [])
        with self.reading() as conn:
            return conn.execute(select(*cols).order_by(c.c.rowid.desc()).limit(1)).mappings().first()

    def catalog_body(self, rowid: int) -> bytes | None:
        with self.reading() as conn:
            return conn.execute(select(T.catalogs.c.body).where(T.catalogs.c.rowid == rowid)).scalar()

    # -- signed config bundles ----------------------------------------------------------------

    def newest_config_version(self) -> int | None:
        with self.reading() as conn:
            return conn.execute(select(T.config_bundles.c.version).order_by(T.config_bundles.c.version.desc())
                                .limit(1)).scalar()

    def put_config(self, body: bytes, version: int, targets: list[str], by: str) -> bool:
        """Store a bundle; False when its version is not above every stored one (versions only grow).
        Two operators pushing the same version at once: one is stored (the key), the other refused."""
        b = T.config_bundles
        with self.begin() as conn:
            top = conn.execute(select(b.c.version).order_by(b.c.version.desc()).limit(1)).scalar()
            if top is not None and version <= top:
                return False
            stored = conn.execute(
                database.insert(self.dialect, b)
                .values(version=version, targets=json.dumps(targets), sha256=sha256_hex(body), body=body,
                        uploaded_at=self.clock(), uploaded_by=by)
                .on_conflict_do_nothing(index_elements=["version"]).returning(b.c.version)).first()
        return stored is not None

    def newest_config_for(self, kiosk_id: str, *, body: bool = True) -> dict[str, Any] | None:
        """The newest bundle that targets the kiosk or one of its groups; without `body` only its version
        and hash (a heartbeat's answer, an ETag check)."""
        with self.reading() as conn:
            return self._newest_config_for(conn, kiosk_id, body)

    def _newest_config_for(self, conn: Connection, kiosk_id: str, body: bool) -> dict[str, Any] | None:
        """One query (the kiosk's groups, and which bundles are stored), then the bundles' targets as this
        worker holds them, read again only when a bundle was added."""
        b = T.config_bundles
        row = conn.execute(_GROUPS_AND_BUNDLES, {"kiosk_id": kiosk_id}).first()
        if row is None:   # no such kiosk (an operator asking): its name alone
            groups, stored = None, tuple(conn.execute(select(*_BUNDLES_STORED)).first())
        else:
            groups, stored = row[0], tuple(row[1:])
        names = {kiosk_id, *(json.loads(groups) if groups else [])}
        for version, targets, sha256 in self._bundle_targets(conn, stored):
            if not names.isdisjoint(targets):
                found = {"version": version, "targets": json.dumps(sorted(targets)), "sha256": sha256}
                if body:
                    found["body"] = conn.execute(select(b.c.body).where(b.c.version == version)).scalar()
                return found
        return None

    def _bundle_targets(self, conn: Connection, stored: tuple) -> list[tuple[int, frozenset[str], str]]:
        """(version, targets, sha256) of every bundle, newest first, as of `stored` (the newest version and
        the count: bundles are only added, and two added at once may commit out of order, hence the count)."""
        held, bundles = self._bundles
        if held != stored:
            b = T.config_bundles
            bundles = [(r.version, frozenset(json.loads(r.targets)), r.sha256) for r in conn.execute(
                select(b.c.version, b.c.targets, b.c.sha256).order_by(b.c.version.desc()))]
            self._bundles = (stored, bundles)
        return bundles

    def config_body(self, version: int) -> bytes | None:
        with self.reading() as conn:
            return conn.execute(select(T.config_bundles.c.body).where(T.config_bundles.c.version == version)).scalar()

    def heartbeat_and_config(self, kiosk_id: str, body: str) -> tuple[float, int | None]:
        """Record a heartbeat; (when, the newest config version for the kiosk), for its answer.

        On PostgreSQL its statements commit at once, not waiting for the disk (`unfenced`, as a nonce's):
        a database crash may forget the last fraction of a second of heartbeats, reports of a state that
        the next one, a minute later, reports again; nothing a kiosk counts as delivered is in them."""
        with self.unfenced() as conn:   # one connection for the kiosk's most frequent request
            at = self._record_heartbeat(conn, kiosk_id, body)
            newest = self._newest_config_for(conn, kiosk_id, False)
        return at, newest["version"] if newest else None

    # -- heartbeats ---------------------------------------------------------------------------

    def record_heartbeat(self, kiosk_id: str, body: str) -> float:
        with self.begin() as conn:
            return self._record_heartbeat(conn, kiosk_id, body)

    def _record_heartbeat(self, conn: Connection, kiosk_id: str, body: str) -> float:
        """The heartbeat into the history and as the kiosk's latest; history older than heartbeat_keep_s is
        forgotten, at most every HEARTBEAT_SWEEP_S (not a delete with every heartbeat)."""
        now = self.clock()
        for stmt in _RECORD_HEARTBEAT[self.dialect]:
            conn.execute(stmt, {"kiosk_id": kiosk_id, "received_at": now, "body": body})
        if now - self._heartbeats_swept >= HEARTBEAT_SWEEP_S or now < self._heartbeats_swept:
            conn.execute(T.heartbeats.delete().where(T.heartbeats.c.received_at < now - self.heartbeat_keep_s))
            self._heartbeats_swept = now
        return now

    def kiosks(self) -> list[dict[str, Any]]:
        out = []
        with self.reading() as conn:
            rows = conn.execute(text(
                "SELECT k.kiosk_id, k.groups, k.created_at, s.received_at, s.body FROM kiosks k"
                " LEFT JOIN kiosk_status s ON s.kiosk_id = k.kiosk_id ORDER BY k.kiosk_id")).mappings().all()
        for r in rows:
            out.append({"kiosk_id": r["kiosk_id"], "groups": json.loads(r["groups"]),
                        "provisioned_at": r["created_at"], "last_heartbeat_at": r["received_at"],
                        "last_heartbeat": json.loads(r["body"]) if r["body"] else None})
        return out

    def heartbeats(self, kiosk_id: str, limit: int = 100) -> list[dict[str, Any]]:
        h = T.heartbeats
        with self.reading() as conn:
            rows = conn.execute(select(h.c.received_at, h.c.body).where(h.c.kiosk_id == kiosk_id)
                                .order_by(h.c.rowid.desc()).limit(limit)).mappings().all()
        return [{"received_at": r["received_at"], "heartbeat": json.loads(r["body"])} for r in rows]

    # -- documents ----------------------------------------------------------------------------

    def put_document(self, doc_id: str, title: str, pages: int, pdf: bytes, holders: Iterable[str] = ()) -> int:
        """Store (or replace) a document and release it to `holders` (keyed hashes) in one commit;
        returns the number of new releases. Releases are only ever added."""
        now = self.clock()
        new = 0
        ins = database.insert(self.dialect, T.documents).values(
            doc_id=doc_id, title=title, pages=pages, sha256=sha256_hex(pdf), pdf=pdf, created_at=now)
        with self.begin() as conn:
            conn.execute(ins.on_conflict_do_update(
                index_elements=["doc_id"], set_={k: ins.excluded[k] for k in ("title", "pages", "sha256", "pdf")}))
            for holder in holders:
                new += self._release(conn, doc_id, holder, now)
        return new

    def _release(self, conn: Connection, doc_id: str, holder: str, now: float) -> int:
        return len(conn.execute(
            database.insert(self.dialect, T.document_releases).values(doc_id=doc_id, holder=holder, released_at=now)
            .on_conflict_do_nothing(index_elements=["doc_id", "holder"])
            .returning(T.document_releases.c.doc_id)).all())

    def release_document(self, doc_id: str, holder: str) -> bool:
        """Release a document for printing to one holder (keyed hash); False when it already was."""
        with self.begin() as conn:
            return self._release(conn, doc_id, holder, self.clock()) == 1

    def documents_for(self, holder: str) -> list[dict[str, Any]]:
        with self.reading() as conn:
            rows = conn.execute(text(
                "SELECT d.doc_id, d.title, d.pages, r.released_at FROM document_releases r"
                " JOIN documents d ON d.doc_id = r.doc_id WHERE r.holder = :h"
                " ORDER BY r.released_at DESC, d.doc_id"), {"h": holder}).mappings().all()
        return [{"id": r["doc_id"], "title": r["title"], "pages": r["pages"], "released_at": r["released_at"]}
                for r in rows]

    def released_document(self, doc_id: str, holder: str | None = None) -> dict[str, Any] | None:
        """The document, if it was released (to `holder`, when given); None otherwise."""
        sql = ("SELECT d.doc_id, d.title, d.sha256, d.pdf FROM documents d WHERE d.doc_id = :d AND EXISTS"
               " (SELECT 1 FROM document_releases r WHERE r.doc_id = d.doc_id")
        params: dict[str, Any] = {"d": doc_id}
        if holder is not None:
            sql += " AND r.holder = :h"
            params["h"] = holder
        with self.reading() as conn:
            return conn.execute(text(sql + ")"), params).mappings().first()

    def log_download(self, doc_id: str, kiosk_id: str, holder: str | None) -> None:
        with self.begin() as conn:
            conn.execute(T.document_downloads.insert().values(doc_id=doc_id, kiosk_id=kiosk_id, holder=holder,
                                                              at=self.clock()))


def _cause(exc: BaseException) -> str:
    return type(getattr(exc, "orig", None) or exc).__name__
