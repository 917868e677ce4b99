"""The store for handed-in materials: migrations 0013 (the outbox takes `handin`) and 0033 (locker items
tell a certificate from a hand-in) applied to a kiosk database of before them, with its rows."""
from __future__ import annotations

import sqlite3

import pytest

from kiosk import store

NEW = ("0013_outbox_kinds", "0033_locker_handin")


def database_before_handin(tmp_path) -> sqlite3.Connection:
    """A kiosk database with every migration but the two of the hand-in, as a kiosk in service has it."""
    conn = store.connect(tmp_path / "kiosk.db")
    with store.transaction(conn):
        conn.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
        for name, sql in store._migration_files("kiosk.migrations"):
            if name in NEW:
                continue
            for statement in store._statements(sql):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations VALUES (?, 0)", (name,))
    return conn


def test_a_locker_in_service_keeps_its_items_intents_and_indexes_through_the_migration(tmp_path):
    conn = database_before_handin(tmp_path)
    with store.transaction(conn):
        conn.execute("INSERT INTO locker_items (door, case_number, size, code_hash, state, staff_id, created_at,"
                     " deposited_at, due_at, item_name, hold_days) VALUES (3, 'BJ-1', 'small', 'h1', 'held', '1001',"
                     " 1, 2, 3, '营业执照', 5)")
        conn.execute("INSERT INTO locker_items (door, case_number, size, state, staff_id, created_at)"
                     " VALUES (4, 'BJ-2', 'medium', 'depositing', '1002', 5)")
        conn.execute("INSERT INTO locker_intents (item_id, kind, door, via, created_at) VALUES (1, 'pickup', 3, 'qr', 6)")
    before = [tuple(r) for r in conn.execute("SELECT * FROM locker_items ORDER BY id")]
    assert store.migrate(conn) == list(NEW)
    after = [tuple(r) for r in conn.execute("SELECT * FROM locker_items ORDER BY id")]
    assert [row[:-2] for row in after] == before and [row[-2:] for row in after] == [("certificate", None)] * 2
    assert [tuple(r) for r in conn.execute("SELECT * FROM locker_intents")] == [(1, "pickup", 3, "qr", 0, None, 6.0)]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name IN "
                                          "('locker_items', 'outbox') AND sql IS NOT NULL")}
    assert indexes == {"locker_items_one_per_door", "locker_items_live_code", "locker_items_by_state",
                       "locker_items_ended_code", "locker_items_receipt", "outbox_by_state"}
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        with store.transaction(conn):
            conn.execute("INSERT INTO locker_intents (item_id, kind, door, created_at) VALUES (99, 'handin', 9, 7)")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):    # still one item a door
        with store.transaction(conn):
            conn.execute("INSERT INTO locker_items (door, case_number, size, state, created_at, kind, receipt_no)"
                         " VALUES (3, 'BJ-3', 'small', 'depositing', 8, 'handin', 'R1')")


def test_a_handin_has_a_receipt_number_and_no_staff_or_code_and_a_certificate_has_its_staff(tmp_path):
    conn = store.connect(tmp_path / "kiosk.db")
    store.migrate(conn)

    def insert(**row):
        with store.transaction(conn):
            conn.execute(f"INSERT INTO locker_items ({', '.join(row)}, size, state, created_at) VALUES "
                         f"({', '.join('?' * len(row))}, 'small', 'held', 1)", tuple(row.values()))

    insert(door=1, case_number="H-1", kind="handin", receipt_no="K7Q2M-9X4A1")
    for bad in (dict(door=2, case_number="H-2", kind="handin"),                                   # no receipt
                dict(door=2, case_number="H-2", kind="handin", receipt_no="R2", staff_id="1001"),
                dict(door=2, case_number="H-2", kind="handin", receipt_no="R2", code_hash="h"),
                dict(door=2, case_number="C-2"),                                                  # no staff
                dict(door=2, case_number="H-2", kind="handin", receipt_no="K7Q2M-9X4A1")):        # receipt twice
        with pytest.raises(sqlite3.IntegrityError):
            insert(**bad)


def test_the_outbox_takes_a_handin_and_never_hands_a_sequence_number_out_twice(tmp_path):
    conn = database_before_handin(tmp_path)
    with store.transaction(conn):
        for n in range(5):
            conn.execute("INSERT INTO outbox (id, kind, body, occurred_at, created_at) VALUES (?, 'probe', '{}', "
                         "'2026-05-18T09:30:00+08:00', 0)", (f"t{n}",))
        conn.execute("DELETE FROM outbox WHERE seq > 2")     # acknowledged and pruned
    store.migrate(conn)
    with store.transaction(conn):
        seq = conn.execute("INSERT INTO outbox (id, kind, body, occurred_at, created_at) VALUES ('h', 'handin', "
                           "'{}', '2026-05-18T09:30:00+08:00', 0)").lastrowid
    assert seq == 6 and [r[0] for r in conn.execute("SELECT seq FROM outbox ORDER BY seq")] == [1, 2, 6]
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        with store.transaction(conn):
            conn.execute("INSERT INTO outbox (id, kind, body, occurred_at, created_at) VALUES ('x', 'nonsense', "
                         "'{}', 'x', 0)")
