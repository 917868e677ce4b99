"""The platform's schema on both engines: made new, checked against the code, upgraded from the SQL-file
schema of earlier platforms, and refused when older than the code, naming the command that upgrades it."""
from __future__ import annotations

import json
import sqlite3
import time
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from kiosk import store
from kiosk.central import database
from kiosk.central.db import CentralDB
from kiosk.central.schema import metadata
from tests.central.conftest import free_port
from tests.conftest import run_kiosk


def test_a_new_database_is_made_at_the_newest_revision_and_matches_the_code(platform_db):
    with CentralDB(platform_db) as db:
        rev, head, empty = database.schema_state(db.engine)
        assert (rev, empty) == (head, False)
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert diff == [], f"kiosk/central/schema.py and the Alembic revisions differ: {diff}"


def test_migrate_on_a_current_database_applies_nothing(platform_db):
    CentralDB(platform_db).close()
    res = run_kiosk("central", "migrate", "--db", platform_db, "--json", process=True)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["applied"] == []


def _legacy_platform(path, upto: str | None = None) -> None:
    """A platform database as the SQL files made it before Alembic (up to and including `upto`), with a
    kiosk and a stored transaction in it."""
    conn = store.connect(path)
    files = store._migration_files(database.LEGACY_MIGRATIONS)
    with store.transaction(conn):
        conn.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
        for name, sql in files:
            for statement in store._statements(sql):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, time.time()))
            if name == upto:
                break
        conn.execute("INSERT INTO kiosks (kiosk_id, secret, created_at) VALUES ('k1', 'plain-old-secret-0123456789', 1)")
        conn.execute("INSERT INTO transactions (id, kiosk_id, seq, kind, occurred_at, data, body_sha256, received_at)"
                     " VALUES (?, 'k1', 1, 'probe', '2026-11-22T01:30:00Z', '{}', ?, 1)", (str(uuid.uuid4()), "0" * 64))
    conn.close()


@pytest.mark.parametrize("upto", ["0005_case_events", None], ids=["half-way", "all-sql-files"])
def test_a_database_of_an_earlier_platform_is_refused_until_migrated_then_served_with_its_data(tmp_path, upto):
    db = tmp_path / "central.db"
    _legacy_platform(db, upto)

    refused = run_kiosk("central", "export", "--db", str(db), "--json", process=True)
    assert refused.returncode == 2
    error = json.loads(refused.stdout)["error"] if refused.stdout.strip() else refused.stderr
    assert f"kiosk central migrate --db {db}" in error

    res = run_kiosk("central", "migrate", "--db", str(db), "--json", process=True)
    assert res.returncode == 0, res.stderr
    applied = json.loads(res.stdout)["applied"]
    since_baseline = [r.revision for r in reversed(list(database._alembic_script().iterate_revisions(
        database.head_revision(), "0001")))]   # the Alembic revisions after the SQL files' schema
    assert since_baseline[:1] == ["0002"]
    assert applied == (["0006_fee_notices", "0007_queues"] if upto else []) + since_baseline
    with CentralDB(db) as platform:
        assert database.schema_state(platform.engine)[0] == database.head_revision()
        assert [t["seq"] for t in platform.transactions("k1")] == [1]
        assert platform.secret_of("kiosk", "k1") == "plain-old-secret-0123456789"   # sealed now, still the same
        assert platform.count("queue_clock") == 0   # 0007's tables are there
    conn = sqlite3.connect(db)
    assert not conn.execute("SELECT secret FROM kiosks").fetchone()[0].startswith("plain")
    conn.close()


def test_a_postgresql_database_without_the_key_file_is_refused_naming_the_option(pg_cluster, monkeypatch):
    monkeypatch.delenv("KIOSK_CENTRAL_KEY_FILE", raising=False)
    url = pg_cluster.fresh()
    res = run_kiosk("central", "export", "--db", url, process=True)
    assert res.returncode == 2
    assert "--key-file" in res.stderr and "KIOSK_CENTRAL_KEY_FILE" in res.stderr


def test_a_database_server_that_does_not_answer_fails_with_what_to_check_never_showing_the_password(
        tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_CENTRAL_KEY_FILE", str(tmp_path / "central.key"))
    url = f"postgresql://kiosk:s3cret-pw@127.0.0.1:{free_port()}/nothing"
    res = run_kiosk("central", "export", "--db", url, process=True)
    assert res.returncode == 1
    assert "cannot be reached" in res.stderr and "is PostgreSQL running" in res.stderr
    assert "s3cret-pw" not in res.stderr + res.stdout


def test_the_database_is_named_by_the_settings_file_or_the_environment_when_not_on_the_command_line(
        pg_cluster, tmp_path, monkeypatch):
    monkeypatch.delenv("KIOSK_CENTRAL_KEY_FILE", raising=False)
    url = pg_cluster.fresh()
    settings = tmp_path / "central.toml"
    settings.write_text(f'[central]\ndatabase = "{url}"\nkey_file = "{tmp_path / "central.key"}"\n', encoding="utf-8")
    added = run_kiosk("central", "--settings", str(settings), "add-kiosk", "k9", "--json", process=True)
    assert added.returncode == 0, added.stderr
    with CentralDB(url, key_file=tmp_path / "central.key") as db:
        assert db.kiosk_exists("k9")
    # the environment comes before the file; --db before both
    monkeypatch.setenv("KIOSK_CENTRAL_DB", str(tmp_path / "other.db"))
    run_kiosk("central", "--settings", str(settings), "add-kiosk", "k8", "--json", process=True)
    with CentralDB(tmp_path / "other.db") as db:
        assert db.kiosk_exists("k8")
    res = run_kiosk("central", "--settings", str(settings), "--db", url, "export", "--json", process=True)
    assert res.returncode == 0, res.stderr


def test_a_settings_file_naming_an_engine_the_platform_does_not_run_on_is_refused(tmp_path):
    settings = tmp_path / "central.toml"
    settings.write_text('[central]\ndatabase = "mysql://x@y/z"\n', encoding="utf-8")
    res = run_kiosk("central", "--settings", str(settings), "export", process=True)
    assert res.returncode == 2
    assert "sqlite:///PATH or postgresql://" in res.stderr
