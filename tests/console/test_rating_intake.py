"""The kiosks' `rating` transactions as one row each (kiosk/central/rating_intake.py), on both engines: the
row and its hall, a batch sent twice, what a kiosk would not write kept out with the transaction still
accepted, and the rows made for the ratings a platform stored before it kept them (the 0003 migration)."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest
from alembic import command
from sqlalchemy import insert, select, text

from kiosk.central import database, rating_intake
from kiosk.central import schema as T
from kiosk.central.db import CentralDB
from kiosk.central.demo_hall import definition
from kiosk.central.intake import check_batch
from kiosk.central.queues import DemoQueue


def rating(seq: int, level=2, *, service="pickup", reasons=("It took too long",),
           occurred_at: str = "2026-12-07T10:00:00+08:00", **more) -> dict:
    data = {"service": service, "service_transaction_id": str(uuid.uuid4()), "level": level,
            "level_key": "dissatisfied", "reasons": list(reasons)}
    data.update(more)
    return {"id": str(uuid.uuid4()), "seq": seq, "kind": "rating", "occurred_at": occurred_at, "data": data}


def store(db: CentralDB, *items: dict, kiosk: str = "k1") -> list[str]:
    _kiosk, checked = check_batch({"kiosk_id": kiosk, "items": list(items)})
    return [r["status"] for r in db.store_batch(kiosk, checked)]


def rows(db: CentralDB) -> dict[str, dict]:
    with db.reading() as conn:
        return {r["transaction_id"]: dict(r) for r in conn.execute(select(T.ratings)).mappings()}


def put_in_hall(db: CentralDB, kiosk: str, hall: str) -> None:
    """`kiosk` into `hall` (made when new) as `PUT /api/v1/halls/{hall}` does; it leaves any other hall."""
    queue = DemoQueue(db)
    if queue.hall_exists(hall):
        queue.add_kiosk(hall, kiosk)
    else:
        queue.define_hall(hall, definition().model_copy(update={"name": hall, "kiosks": [kiosk]}))


@pytest.fixture
def db(platform_db):
    with CentralDB(platform_db) as central:
        central.add_kiosk("k1")
        central.add_kiosk("k2")
        yield central


def test_a_rating_is_one_row_in_its_kiosks_hall_and_a_poor_one_waits_for_follow_up(db):
    put_in_hall(db, "k1", "hall-a")
    poor, good = rating(1, 1, reasons=["It took too long", "The fee was unclear"]), rating(2, 5, reasons=[])
    assert store(db, poor, good) == ["accepted", "accepted"]
    assert store(db, rating(1, 4, service="print"), kiosk="k2") == ["accepted"]   # k2 is in no hall
    found = rows(db)
    row = found[poor["id"]]
    assert (row["kiosk_id"], row["hall"], row["service"], row["level"], row["level_key"], row["followup_state"]) == (
        "k1", "hall-a", "pickup", 1, "dissatisfied", "open")
    assert json.loads(row["reasons"]) == ["It took too long", "The fee was unclear"]
    assert row["rated_at"] == datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc).timestamp()   # 10:00 +08:00
    assert (found[good["id"]]["followup_state"], json.loads(found[good["id"]]["reasons"])) == ("none", [])
    assert [r["hall"] for r in found.values() if r["kiosk_id"] == "k2"] == [None]
    assert {r["followup_at"] for r in found.values()} == {None}


def test_a_rating_keeps_the_hall_it_was_given_in_when_its_kiosk_moves(db):
    put_in_hall(db, "k1", "hall-a")
    before = rating(1)
    store(db, before)
    put_in_hall(db, "k1", "hall-b")
    after = rating(2)
    store(db, after)
    found = rows(db)
    assert (found[before["id"]]["hall"], found[after["id"]]["hall"]) == ("hall-a", "hall-b")


def test_a_batch_sent_again_changes_nothing(db):
    items = rating(1, 2), rating(2, 3)
    store(db, *items)
    before = rows(db)
    assert store(db, *items) == ["duplicate", "duplicate"]
    assert rows(db) == before and len(before) == 2


def test_what_a_kiosk_would_not_write_is_kept_out_and_the_transaction_still_accepted(db):
    odd = rating(1, 2, service="s" * 300, reasons=["r" * 300, 7, None, {"a": 1}, "", "ok"], level_key=["x"])
    not_text = rating(2, 4, service=["not", "text"])
    not_text["data"]["reasons"] = "not a list"
    assert store(db, odd, not_text) == ["accepted", "accepted"]
    found = rows(db)
    assert (len(found[odd["id"]]["service"]), json.loads(found[odd["id"]]["reasons"]),
            found[odd["id"]]["level_key"]) == (100, ["r" * 100, "ok"], None)
    assert (found[not_text["id"]]["service"], json.loads(found[not_text["id"]]["reasons"])) == ("", [])
    # a level that is not 1-5 counts as nothing: no row, the transaction kept
    levels = [rating(10 + i, level) for i, level in enumerate((0, 6, "2", 2.0, True, None))]
    missing = rating(20)
    del missing["data"]["level"]
    assert store(db, *levels, missing) == ["accepted"] * 7
    assert len(rows(db)) == 2
    with db.reading() as conn:
        assert conn.execute(text("SELECT count(*) FROM transactions WHERE kind = 'rating'")).scalar() == 9


def test_other_kinds_make_no_rating(db):
    store(db, {"id": str(uuid.uuid4()), "seq": 1, "kind": "pickup", "occurred_at": "2026-12-07T10:00:00+08:00",
               "data": {"service": "pickup", "level": 1}})
    assert rows(db) == {}


def test_the_migration_makes_rows_for_the_ratings_stored_before_it(platform_db):
    engine = database.open_engine(platform_db)
    database.migrate(engine)
    with engine.begin() as conn:   # the schema of the platform before this revision
        command.downgrade(database._alembic_config(conn), "0002")
    poor, good, odd = rating(1, 1), rating(2, 5, service="print"), rating(3, 9)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO kiosks (kiosk_id, secret, created_at) VALUES ('k1', 'plain-secret-0123456789', 1)"))
        conn.execute(text("INSERT INTO halls (hall, name, utc_offset, checkin_early_min, checkin_late_min,"
                          " offline_prefixes, updated_at) VALUES ('hall-a', 'A', '+08:00', 30, 10, '[]', 1)"))
        conn.execute(text("INSERT INTO hall_kiosks (kiosk_id, hall) VALUES ('k1', 'hall-a')"))
        for it in (poor, good, odd):
            conn.execute(text("INSERT INTO transactions (id, kiosk_id, seq, kind, occurred_at, data, body_sha256,"
                              " received_at) VALUES (:id, 'k1', :seq, 'rating', :at, :data, :sha, 1)"),
                         {"id": it["id"], "seq": it["seq"], "at": it["occurred_at"],
                          "data": json.dumps(it["data"]), "sha": "0" * 64})
    assert database.migrate(engine)[:1] == ["0003"]
    engine.dispose()
    with CentralDB(platform_db) as db:
        found = rows(db)
    assert set(found) == {poor["id"], good["id"]}
    assert (found[poor["id"]]["followup_state"], found[poor["id"]]["hall"]) == ("open", "hall-a")
    assert (found[good["id"]]["followup_state"], found[good["id"]]["service"]) == ("none", "print")


def test_the_backfill_reads_in_chunks_and_misses_none(db):
    with db.begin() as conn:
        for i in range(7):
            conn.execute(insert(T.transactions).values(
                id=str(uuid.uuid4()), kiosk_id="k1" if i % 2 else "k2", seq=i // 2, kind="rating",
                occurred_at="2026-12-07T10:00:00+08:00", data=json.dumps({"level": 3}), body_sha256="0" * 64,
                received_at=1))
    with db.begin() as conn:
        assert rating_intake.backfill(conn, chunk=2) == 7
    assert len(rows(db)) == 7


def counts(db: CentralDB) -> dict[tuple, int]:
    with db.reading() as conn:
        return {(r.day, r.hall, r.service, r.level): r.n for r in conn.execute(select(T.rating_counts))}


def test_each_new_rating_is_counted_once_on_its_halls_day(db):
    put_in_hall(db, "k1", "hall-a")
    late = rating(1, 5, service="s1", occurred_at="2026-12-07T23:30:00Z")     # 07:30 on the 8th at +08:00
    store(db, late, rating(2, 5, service="s1", occurred_at="2026-12-08T01:00:00+08:00"),
          rating(3, 1, service="s1", occurred_at="2026-12-08T09:00:00+08:00"))
    store(db, late)                                                           # sent again: not counted again
    store(db, rating(1, 4, service="s2", occurred_at="2026-12-08T09:00:00+08:00"), kiosk="k2")   # in no hall
    store(db, rating(4, 9, service="s1"))                                     # no level: nothing to count
    assert counts(db) == {("2026-12-08", "hall-a", "s1", 5): 2, ("2026-12-08", "hall-a", "s1", 1): 1,
                          ("2026-12-08", "", "s2", 4): 1}


def test_two_workers_storing_a_halls_ratings_at_once_never_deadlock_and_count_each_once(platform_db):
    """Two kiosks of one hall rate the same services in opposite orders, each batch stored by a worker of its
    own at the same moment, sixty times: the counts they share are locked in one order, so no batch waits
    in a circle (PostgreSQL ends one of such a pair with a deadlock, which the kiosk sees as a 503)."""
    from tests.conftest import together

    with CentralDB(platform_db) as setup:
        for kiosk in ("k1", "k2"):
            setup.add_kiosk(kiosk)
            put_in_hall(setup, kiosk, "hall-a")
    services = [f"s{i}" for i in range(30)]
    rounds = 60

    def work(db: CentralDB, i: int) -> list[str]:
        kiosk, order = ("k1", services) if i == 0 else ("k2", services[::-1])
        statuses = []
        for r in range(rounds):
            statuses += store(db, *[rating(r * 100 + j + 1, 5, service=s) for j, s in enumerate(order)], kiosk=kiosk)
        return statuses

    results = together([CentralDB(platform_db), CentralDB(platform_db)], work, teardown=lambda p: p.close())
    assert all(s == "accepted" for r in results for s in r)
    with CentralDB(platform_db) as db:
        assert sorted(n for n in counts(db).values()) == [2 * rounds] * len(services)
