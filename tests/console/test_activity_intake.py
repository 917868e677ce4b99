"""The transactions counted per day, kiosk, kind and service and per hour and hall as they are stored
(kiosk/central/activity_intake.py), on both engines: on the hall's clock, a batch sent again counted once,
a kiosk in no hall, and the counts made for what a platform stored before it kept them (the 0003 migration)."""
from __future__ import annotations

import json
import uuid

import pytest
from alembic import command
from sqlalchemy import select, text

from kiosk.central import activity_intake, database
from kiosk.central import schema as T
from kiosk.central.db import CentralDB
from kiosk.central.intake import check_batch


def tx(seq: int, kind: str, occurred_at: str, *, id: str | None = None, **data) -> dict:
    return {"id": id or str(uuid.uuid4()), "seq": seq, "kind": kind, "occurred_at": occurred_at, "data": data}


def store(db: CentralDB, *items: dict, kiosk: str = "k1") -> list[str]:
    _kiosk, checked = check_batch({"kiosk_id": kiosk, "items": list(items)})
    return [r["status"] for r in db.store_batch(kiosk, checked)]


def daily(db_or_engine) -> dict[tuple[str, str, str, str], int]:
    with _reading(db_or_engine) as conn:
        return {(r.day, r.kiosk_id, r.kind, r.service): r.n for r in conn.execute(select(T.activity_daily))}


def hourly(db_or_engine) -> dict[tuple[str, int, str], int]:
    with _reading(db_or_engine) as conn:
        return {(r.day, r.hour, r.hall): r.n for r in conn.execute(select(T.activity_hourly))}


def _reading(db_or_engine):
    return db_or_engine.reading() if isinstance(db_or_engine, CentralDB) else db_or_engine.connect()


def put_hall(conn, hall: str, utc_offset: str, *kiosks: str) -> None:
    conn.execute(text("INSERT INTO halls (hall, name, utc_offset, checkin_early_min, checkin_late_min,"
                      " offline_prefixes, updated_at) VALUES (:hall, :hall, :offset, 0, 0, '[]', 0)"),
                 {"hall": hall, "offset": utc_offset})
    for kiosk in kiosks:
        conn.execute(text("INSERT INTO hall_kiosks (kiosk_id, hall) VALUES (:k, :hall)"), {"k": kiosk, "hall": hall})


@pytest.fixture
def db(platform_db):
    with CentralDB(platform_db) as central:
        for kiosk in ("k1", "k2", "k3"):
            central.add_kiosk(kiosk)
        with central.begin() as conn:
            put_hall(conn, "hall-a", "+08:00", "k1")
            put_hall(conn, "hall-w", "-03:00", "k2")   # another clock: the day and hour are the hall's own
        yield central


def test_transactions_are_counted_per_day_kiosk_kind_and_service_on_the_halls_clock(db):
    assert store(db,
                 tx(1, "pickup", "2026-12-07T09:10:00+08:00", case_number="C1", door=3),
                 tx(2, "payment", "2026-12-07T09:40:00+08:00", service="BIZ-LICENCE", amount_fen=500),
                 tx(3, "payment", "2026-12-07T10:05:00+08:00", service="BIZ-LICENCE", amount_fen=500),
                 tx(4, "rating", "2026-12-07T23:30:00Z", service="BIZ-LICENCE", level=5),   # 07:30 the 8th
                 tx(5, "print", "2026-12-07T10:00:00+08:00", service="x" * 101, pages=2),  # not a service code
                 tx(6, "form", "2026-12-07T10:00:00+08:00", service=["not", "text"]),
                 tx(7, "print", "2026-12-07T10:00:00+08:00", service="call 13912345678"),     # personal data
                 tx(8, "print", "2026-12-07T10:00:00+08:00", service="110101199001011237")) == ["accepted"] * 8
    assert daily(db) == {
        ("2026-12-07", "k1", "pickup", ""): 1, ("2026-12-07", "k1", "payment", "BIZ-LICENCE"): 2,
        ("2026-12-08", "k1", "rating", "BIZ-LICENCE"): 1, ("2026-12-07", "k1", "print", ""): 3,
        ("2026-12-07", "k1", "form", ""): 1}
    assert hourly(db) == {("2026-12-07", 9, "hall-a"): 2, ("2026-12-07", 10, "hall-a"): 5,
                          ("2026-12-08", 7, "hall-a"): 1}
    # the same moment in a hall three hours behind UTC: still the 7th, at 20:30
    store(db, tx(1, "ticket", "2026-12-07T23:30:00Z", business="A"), kiosk="k2")
    assert daily(db)[("2026-12-07", "k2", "ticket", "")] == 1
    assert hourly(db)[("2026-12-07", 20, "hall-w")] == 1


def test_later_batches_add_to_the_counts_and_a_batch_sent_again_counts_nothing(db):
    first = [tx(1, "deposit", "2026-12-07T09:00:00+08:00"), tx(2, "deposit", "2026-12-07T09:20:00+08:00")]
    store(db, *first)
    store(db, tx(3, "deposit", "2026-12-07T09:50:00+08:00"))
    counted = (daily(db), hourly(db))
    assert counted == ({("2026-12-07", "k1", "deposit", ""): 3}, {("2026-12-07", 9, "hall-a"): 3})
    assert store(db, *first) == ["duplicate", "duplicate"]
    assert store(db, first[0], tx(4, "deposit", "2026-12-07T11:00:00+08:00")) == ["duplicate", "accepted"]
    assert daily(db) == {("2026-12-07", "k1", "deposit", ""): 4}
    assert hourly(db) == {("2026-12-07", 9, "hall-a"): 3, ("2026-12-07", 11, "hall-a"): 1}


def test_a_kiosk_in_no_hall_is_counted_on_chinas_clock_under_no_hall(db):
    store(db, tx(1, "print", "2026-12-07T16:30:00Z", pages=1), kiosk="k3")   # 00:30 the 8th at +08:00
    assert daily(db) == {("2026-12-08", "k3", "print", ""): 1}
    assert hourly(db) == {("2026-12-08", 0, ""): 1}


def test_the_kiosk_reporting_on_itself_counts_per_day_but_never_as_a_busy_hour(db):
    store(db, tx(1, "alarm", "2026-12-07T03:00:00+08:00", device="locker", code="door_stuck:2", state="raised",
                 severity="fault"), tx(2, "probe", "2026-12-07T03:00:00+08:00"))
    assert daily(db) == {("2026-12-07", "k1", "alarm", ""): 1, ("2026-12-07", "k1", "probe", ""): 1}
    assert hourly(db) == {}


def test_the_migration_counts_the_transactions_stored_before_it(platform_db, monkeypatch):
    monkeypatch.setattr(activity_intake, "BACKFILL_CHUNK", 2)   # chunks end inside a kiosk's transactions
    engine = database.open_engine(platform_db)
    database.migrate(engine)
    with engine.begin() as conn:   # the schema of the platform before this revision
        command.downgrade(database._alembic_config(conn), "0002")
    stored = {"k1": [tx(1, "pickup", "2026-12-07T09:10:00+08:00"),
                     # set up again: seq 2 twice, and the first chunk ends between them
                     tx(2, "payment", "2026-12-07T09:40:00+08:00", service="BIZ-LICENCE", id=f"{0:032x}"),
                     tx(2, "payment", "2026-12-07T23:30:00Z", service="BIZ-LICENCE", id=f"{1:032x}"),
                     tx(3, "alarm", "2026-12-08T08:00:00+08:00"),
                     tx(4, "print", "2026-12-08T08:05:00+08:00")],
              "k2": [tx(1, "print", "2026-12-07T16:30:00Z")]}
    with engine.begin() as conn:
        put_hall(conn, "hall-a", "+08:00", "k1")
        for kiosk, items in stored.items():
            conn.execute(text("INSERT INTO kiosks (kiosk_id, secret, created_at) VALUES (:k, 'plain-secret-0123456789',"
                              " 1)"), {"k": kiosk})
            for it in items:
                conn.execute(text("INSERT INTO transactions (id, kiosk_id, seq, kind, occurred_at, data, body_sha256,"
                                  " received_at) VALUES (:id, :kiosk, :seq, :kind, :at, :data, :sha, 1)"),
                             {"id": it["id"], "kiosk": kiosk, "seq": it["seq"], "kind": it["kind"],
                              "at": it["occurred_at"], "data": json.dumps(it["data"]), "sha": "0" * 64})
    assert database.migrate(engine)[:1] == ["0003"]
    try:
        assert daily(engine) == {
            ("2026-12-07", "k1", "pickup", ""): 1, ("2026-12-07", "k1", "payment", "BIZ-LICENCE"): 1,
            ("2026-12-08", "k1", "payment", "BIZ-LICENCE"): 1, ("2026-12-08", "k1", "alarm", ""): 1,
            ("2026-12-08", "k1", "print", ""): 1, ("2026-12-08", "k2", "print", ""): 1}
        assert hourly(engine) == {("2026-12-07", 9, "hall-a"): 2, ("2026-12-08", 7, "hall-a"): 1,
                                  ("2026-12-08", 8, "hall-a"): 1, ("2026-12-08", 0, ""): 1}
    finally:
        engine.dispose()


def per_hall(db) -> dict[tuple[str, str, str, str], int]:
    with db.reading() as conn:
        return {(r.day, r.hall, r.kind, r.service): r.n for r in conn.execute(select(T.activity_halls))}


def per_kiosk(db) -> dict[tuple[str, str], int]:
    with db.reading() as conn:
        return {(r.day, r.kiosk_id): r.n for r in conn.execute(select(T.activity_kiosks))}


def test_the_pages_figures_are_counted_per_hall_and_the_people_served_per_kiosk(db):
    store(db, tx(1, "payment", "2026-12-07T09:40:00+08:00", service="BIZ-LICENCE"),
          tx(2, "pickup", "2026-12-07T23:30:00Z"), tx(3, "alarm", "2026-12-07T10:00:00+08:00"))
    store(db, tx(1, "payment", "2026-12-07T09:41:00+08:00", service="BIZ-LICENCE"), kiosk="k2")
    store(db, tx(1, "payment", "2026-12-07T09:42:00+08:00", service="BIZ-LICENCE"), kiosk="k3")
    store(db, tx(2, "payment", "2026-12-07T09:40:00+08:00", service="BIZ-LICENCE"), kiosk="k2")
    assert per_hall(db) == {("2026-12-07", "hall-a", "payment", "BIZ-LICENCE"): 1,
                            ("2026-12-08", "hall-a", "pickup", ""): 1, ("2026-12-07", "hall-a", "alarm", ""): 1,
                            ("2026-12-06", "hall-w", "payment", "BIZ-LICENCE"): 2,   # 22:40 the 6th at -03:00
                            ("2026-12-07", "", "payment", "BIZ-LICENCE"): 1}
    # the alarm served no one
    assert per_kiosk(db) == {("2026-12-07", "k1"): 1, ("2026-12-08", "k1"): 1, ("2026-12-06", "k2"): 2,
                             ("2026-12-07", "k3"): 1}
