"""The store: pragmas checked, migrations once, identity kept, a copied database noticed."""
import sqlite3

import pytest

from kiosk import store
from kiosk.store import Store, StoreError


def test_connections_use_wal_full_sync_and_foreign_keys(tmp_path):
    conn = store.connect(tmp_path / "k.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_a_database_that_cannot_use_wal_is_refused(tmp_path):
    # an in-memory database reports journal_mode=memory: the check must catch it
    with pytest.raises(StoreError, match="journal_mode is 'memory'"):
        store.connect(":memory:")


def test_migrations_apply_once_and_are_recorded(tmp_path):
    conn = store.connect(tmp_path / "k.db")
    first = store.migrate(conn)
    assert "0001_identity" in first
    assert store.migrate(conn) == []
    names = [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY name")]
    assert names == sorted(first)


def test_transaction_rolls_back_on_error(tmp_path):
    conn = store.connect(tmp_path / "k.db")
    conn.execute("CREATE TABLE t (x)")
    with pytest.raises(RuntimeError):
        with store.transaction(conn):
            conn.execute("INSERT INTO t VALUES (1)")
            raise RuntimeError("boom")
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0


def test_identity_is_made_once_and_kept(tmp_path):
    a = Store(tmp_path, "k01").identity
    b = Store(tmp_path, "k01").identity
    assert a.db_uuid == b.db_uuid and not b.cloned


def test_a_database_from_another_kiosk_id_is_reported(tmp_path):
    Store(tmp_path, "k01")
    ident = Store(tmp_path, "k02").identity
    assert ident.cloned
    assert "made for kiosk 'k01'" in ident.problems[0]


def test_a_database_from_a_cloned_disk_image_is_reported(tmp_path):
    conn = store.connect(tmp_path / "kiosk.db")
    store.migrate(conn)
    store.identity(conn, "k01", fingerprint="the-original-machine")
    ident = store.identity(conn, "k01", fingerprint="another-machine")
    assert ident.cloned and "another machine" in ident.problems[0]


def test_full_disk_error_is_explained():
    err = store.explain(sqlite3.OperationalError("database or disk is full"), "/var/lib/kiosk/kiosk.db")
    assert "disk is full" in str(err) and "nothing was lost" in str(err)
