"""Where the platform's data lives: one SQLite file (a hall's default) or PostgreSQL (a city's, a province's).

`--db` (or `[central] database` in central.toml) is either a file path
(`var/central.db`, SQLite, nothing to install) or a URL
(`sqlite:///var/central.db`, `postgresql://user@host/dbname`; the psycopg 3
driver is used for `postgresql://`). The schema is SQLAlchemy Core metadata
(kiosk/central/schema.py) and Alembic revisions (kiosk/central/alembic/):
`kiosk central migrate` brings a database to the newest revision, and a server
refuses a database whose schema is older than its code, naming that command.
A new, empty database is made at the newest revision when first opened.

SQLite connections get the store's pragmas (WAL, synchronous FULL, foreign
keys, a busy timeout, secure_delete) and a write transaction takes the write
lock at BEGIN (IMMEDIATE), so two processes never deadlock upgrading a read.
PostgreSQL runs at READ COMMITTED: every read-modify-write of the platform is
one statement (`INSERT … ON CONFLICT`, `UPDATE … RETURNING`) or locks its rows,
so workers side by side never store a thing twice.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from kiosk.store import BUSY_TIMEOUT_MS, StoreError, explain

log = logging.getLogger(__name__)
logging.getLogger("alembic").setLevel(logging.WARNING)   # its every step at INFO; ours says what was applied

LEGACY_MIGRATIONS = "kiosk.central.migrations"   # the SQL files of platforms before Alembic (SQLite only)
LEGACY_LAST = "0007_queues"
BASELINE = "0001"                                # the Alembic revision equal to LEGACY_LAST's schema
MIGRATE_HINT = "kiosk central migrate --db {db}"


class SchemaBehind(StoreError):
    """The database's schema is older than this platform's code; the message names the command to run."""


def database_url(db: str | Path) -> str:
    """A SQLAlchemy URL for `--db`: a URL as given (postgresql:// gets the psycopg 3 driver), a path as SQLite."""
    value = str(db)
    if "://" not in value:
        return "sqlite:///" + str(Path(value).absolute())
    url = make_url(value)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    elif url.drivername not in ("sqlite", "postgresql+psycopg"):
        raise StoreError(f"{value}: the platform runs on sqlite:///PATH or postgresql://…, not {url.drivername}")
    return url.render_as_string(hide_password=False)


def shown(url: str) -> str:
    """`--db` for messages and logs: a SQLite file as its path; a URL never with its password."""
    if "://" not in url:
        return url
    path = sqlite_path(url)
    return str(path) if path is not None else make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    return Path(u.database) if u.get_backend_name() == "sqlite" and u.database else None


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


def open_engine(db: str | Path, *, pool_size: int = 5) -> Engine:
    """An engine for `--db`; SQLite files (and their directory) are made private first."""
    url = database_url(db)
    path = sqlite_path(url)
    if path is not None:
        prepare_private_file(path)   # the file's mode before SQLite makes it
        engine = create_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=BUSY_TIMEOUT_MS / 1000)
        _sqlite_pragmas(engine, path)
        return engine
    # no pre-ping (a round trip with every checkout): after the server restarts, the first statement on a
    # stale connection fails (503, which a kiosk retries) and SQLAlchemy then replaces the whole pool
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_timeout=30,
                         connect_args={"connect_timeout": 10})


def open_unfenced_engine(db: str | Path, *, pool_size: int = 5) -> Engine | None:
    """PostgreSQL: a second pool for writes a crash may forget (replay nonces, heartbeats), where each
    statement commits on its own (no BEGIN and COMMIT round trips) and its commit does not wait for the
    disk (synchronous_commit off, in the connection's options). SQLite: None (one engine serves all)."""
    url = database_url(db)
    if sqlite_path(url) is not None:
        return None
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_timeout=30,
                         isolation_level="AUTOCOMMIT",
                         connect_args={"connect_timeout": 10, "options": "-c synchronous_commit=off"})


def _sqlite_pragmas(engine: Engine, path: Path) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None   # transactions are begun below, not by the driver
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = cur.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            cur.execute("PRAGMA synchronous = FULL")
            cur.execute("PRAGMA foreign_keys = ON")
            # deleted personal data (an applicant's phone) is overwritten, not left in free pages
            cur.execute("PRAGMA secure_delete = ON")
        except sqlite3.Error as exc:
            raise explain(exc, path) from None
        finally:
            cur.close()
        if str(mode).lower() != "wal":
            raise StoreError(f"{path}: journal_mode is {mode!r}, not 'wal' (is the data dir on a network or "
                             "FAT file system?)")

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("read_only") else "BEGIN IMMEDIATE")


def insert(dialect: str, table):
    """The dialect's INSERT for `table`, with `on_conflict_do_nothing` / `on_conflict_do_update`
    (the same SQL on SQLite and PostgreSQL)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(table)


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads only (SQLite: a deferred transaction, no write lock); rolled back at the end."""
    with engine.connect() as conn:
        conn = conn.execution_options(read_only=True)
        yield conn


def explain_error(exc: BaseException, db: str) -> StoreError:
    """A person-readable StoreError for a database error (full disk, read-only, unreachable server)."""
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, sqlite3.Error):
        return explain(orig, db)
    message = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if isinstance(exc, sa_exc.OperationalError) or isinstance(exc, sa_exc.InterfaceError):
        if "could not connect" in message or "connection" in message.lower():
            return StoreError(f"{shown(db)}: the database server cannot be reached ({message}): is PostgreSQL "
                              "running, and are the host, port, user and password in the URL right?")
        if "No space left" in message or "disk full" in message:
            return StoreError(f"{shown(db)}: the database server's disk is full (nothing was lost; the change "
                              f"was not made) ({message})")
    return StoreError(f"{shown(db)}: {message}")


# -- migrations -------------------------------------------------------------------------------------

def _alembic_config(conn: Connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "kiosk.central:alembic")
    cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str:
    return _alembic_script().get_current_head()


def _made_before_alembic(names: set[str]) -> bool:
    """A platform database of the SQL-file schema (kiosk/central/migrations/): no Alembic revision yet."""
    return "schema_migrations" in names and "alembic_version" not in names


def current_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def schema_state(engine: Engine) -> tuple[str | None, str, bool]:
    """(the database's revision, the code's, whether the database has no tables of ours at all)."""
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        rev = "legacy" if _made_before_alembic(names) else current_revision(conn)
    return rev, head_revision(), not names


def migrate(engine: Engine) -> list[str]:
    """Bring the database to the newest revision; returns the revisions applied (none when it was current).

    A SQLite database made before Alembic (its `schema_migrations` table) gets
    its missing SQL files, then is marked at the baseline revision, which is
    the same schema."""
    from alembic import command

    applied: list[str] = []
    with engine.begin() as conn:
        if _made_before_alembic(set(inspect(conn).get_table_names())):
            applied += _legacy_to_baseline(conn)
        before = current_revision(conn)
        command.upgrade(_alembic_config(conn), "head")
        after = current_revision(conn)
    if before != after:
        applied += reversed([r.revision for r in _alembic_script().iterate_revisions(after, before)])
    for name in applied:
        log.info("database migration applied: %s", name)
    return applied


def _legacy_to_baseline(conn: Connection) -> list[str]:
    from alembic.runtime.migration import MigrationContext

    from kiosk import store

    raw = conn.connection.dbapi_connection
    done = {r[0] for r in conn.exec_driver_sql("SELECT name FROM schema_migrations")}
    applied = []
    for name, sql in store._migration_files(LEGACY_MIGRATIONS):
        if name in done:
            continue
        for statement in store._statements(sql):
            raw.execute(statement)
        conn.exec_driver_sql("INSERT INTO schema_migrations VALUES (?, ?)", (name, time.time()))
        applied.append(name)
    MigrationContext.configure(conn).stamp(_alembic_script(), BASELINE)
    log.info("database made before Alembic: its schema is revision %s now", BASELINE)
    return applied


def _alembic_script():
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(None))  # type: ignore[arg-type]


def require_current(engine: Engine, db: str) -> None:
    """Make a new database at the newest revision; refuse one at an older revision, naming the command."""
    rev, head, empty = schema_state(engine)
    if empty:
        migrate(engine)
        return
    if rev != head:
        raise SchemaBehind(
            f"{shown(db)}: the database's schema is at revision {rev or 'none'}, this platform needs {head}: "
            f"run `{MIGRATE_HINT.format(db=shown(db))}` (back the database up first), then start it again")
