"""The kiosks' `alarm` transactions as one row per fault (kiosk/central/alarm_intake.py), on both engines:
raised, cleared, a clearing whose raising never arrived, a batch sent twice, and the rows made for the
alarms a platform stored before it kept them (the 0002 migration)."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest
from alembic import command
from sqlalchemy import select, text

from kiosk.central import database
from kiosk.central import schema as T
from kiosk.central.db import CentralDB
from kiosk.central.intake import check_batch


def alarm(seq: int, state: str, *, code: str = "door_left_open:3", raised_id: str | None = None,
          occurred_at: str = "2026-12-07T03:00:00+08:00", **more) -> dict:
    data = {"device": "locker", "code": code, "state": state, "severity": "fault", "detail": "door 3 is open"}
    if raised_id:
        data["raised_id"] = raised_id
    data.update(more)
    return {"id": str(uuid.uuid4()), "seq": seq, "kind": "alarm", "occurred_at": occurred_at, "data": data}


def store(db: CentralDB, *items: dict, kiosk: str = "k1") -> list[str]:
    _kiosk, checked = check_batch({"kiosk_id": kiosk, "items": list(items)})
    return [r["status"] for r in db.store_batch(kiosk, checked)]


def rows(db: CentralDB) -> dict[str, dict]:
    with db.reading() as conn:
        return {r["raised_id"]: dict(r) for r in conn.execute(select(T.alarms)).mappings()}


@pytest.fixture
def db(platform_db):
    with CentralDB(platform_db) as central:
        central.add_kiosk("k1")
        central.add_kiosk("k2")
        yield central


def test_a_raised_alarm_is_open_until_its_clearing_arrives(db):
    raised = alarm(1, "raised")
    assert store(db, raised) == ["accepted"]
    row = rows(db)[raised["id"]]
    assert (row["kiosk_id"], row["device"], row["code"], row["severity"], row["cleared_at"]) == (
        "k1", "locker", "door_left_open:3", "fault", None)
    assert row["raised_at"] == datetime(2026, 12, 6, 19, 0, tzinfo=timezone.utc).timestamp()   # 03:00 +08:00
    cleared = alarm(2, "cleared", raised_id=raised["id"], occurred_at="2026-12-07T03:05:00+08:00")
    assert store(db, cleared) == ["accepted"]
    row = rows(db)[raised["id"]]
    assert row["cleared_id"] == cleared["id"] and row["cleared_at"] - row["raised_at"] == pytest.approx(300)


def test_a_batch_sent_again_changes_nothing(db):
    raised = alarm(1, "raised")
    cleared = alarm(2, "cleared", raised_id=raised["id"])
    store(db, raised, cleared)
    before = rows(db)
    assert store(db, raised, cleared) == ["duplicate", "duplicate"]
    assert rows(db) == before and len(before) == 1


def test_a_clearing_whose_raising_never_arrived_still_shows_as_a_fault_that_happened(db):
    lost = str(uuid.uuid4())
    store(db, alarm(7, "cleared", raised_id=lost, code="paper_out"))
    row = rows(db)[lost]
    assert row["code"] == "paper_out" and row["cleared_at"] == row["raised_at"]


def test_another_kiosk_cannot_clear_a_kiosks_alarm(db):
    raised = alarm(1, "raised")
    store(db, raised)
    store(db, alarm(1, "cleared", raised_id=raised["id"]), kiosk="k2")
    assert rows(db)[raised["id"]]["cleared_at"] is None


def test_what_a_kiosk_would_not_write_is_kept_out_and_the_transaction_still_accepted(db):
    odd = alarm(1, "raised", severity="catastrophic", detail="x" * 2000, device=["not", "text"])
    assert store(db, odd) == ["accepted"]
    row = rows(db)[odd["id"]]
    assert (row["device"], row["severity"], len(row["detail"])) == ("unknown", "fault", 500)
    assert store(db, alarm(2, "stuck")) == ["accepted"] and len(rows(db)) == 1   # no state: no row


def test_the_migration_makes_rows_for_the_alarms_stored_before_it(platform_db):
    engine = database.open_engine(platform_db)
    database.migrate(engine)
    with engine.begin() as conn:   # the schema of the platform before this revision
        command.downgrade(database._alembic_config(conn), "0001")
    raised, cleared, other = alarm(1, "raised"), None, alarm(3, "raised", code="paper_out")
    cleared = alarm(2, "cleared", raised_id=raised["id"])
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO kiosks (kiosk_id, secret, created_at) VALUES ('k1', 'plain-secret-0123456789', 1)"))
        for it in (raised, cleared, other):
            conn.execute(text("INSERT INTO transactions (id, kiosk_id, seq, kind, occurred_at, data, body_sha256,"
                              " received_at) VALUES (:id, 'k1', :seq, 'alarm', :at, :data, :sha, 1)"),
                         {"id": it["id"], "seq": it["seq"], "at": it["occurred_at"],
                          "data": json.dumps(it["data"]), "sha": "0" * 64})
    assert database.migrate(engine)[:1] == ["0002"]
    engine.dispose()
    with CentralDB(platform_db) as db:
        found = rows(db)
    assert set(found) == {raised["id"], other["id"]}
    assert found[raised["id"]]["cleared_id"] == cleared["id"] and found[other["id"]]["cleared_at"] is None
