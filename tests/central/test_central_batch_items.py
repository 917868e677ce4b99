"""One item the database refuses is rejected with its reason; the rest of its batch is stored (issue 24, 7)."""
from __future__ import annotations

import uuid

from kiosk.central.db import CentralDB, CheckedItem


def row(seq: int) -> CheckedItem:
    tx_id = str(uuid.uuid4())
    return CheckedItem(tx_id, {"id": tx_id, "seq": seq, "kind": "probe", "occurred_at": "2026-11-22T01:30:00Z",
                               "boot_id": None, "uptime_s": 1.0, "data": "{}", "body": "{}",
                               "body_sha256": uuid.uuid4().hex * 2})


def test_item_the_database_refuses_is_rejected_and_the_rest_of_the_batch_stored(tmp_path):
    with CentralDB(tmp_path / "central.db") as db:
        db.add_kiosk("k1")
        # a value no validator should let through (past 64 bits), as if a check had a gap
        items = [row(1), row(2**64), row(3)]
        results = db.store_batch("k1", items)
        assert [r["status"] for r in results] == ["accepted", "rejected", "accepted"]
        assert "could not be stored" in results[1]["reason"]
        assert sorted(r["seq"] for r in db.transactions("k1")) == [1, 3]


def test_item_with_a_string_sqlite_cannot_encode_is_rejected_alone(tmp_path):
    with CentralDB(tmp_path / "central.db") as db:
        db.add_kiosk("k1")
        bad = row(2)
        bad.row["data"] = '{"note":"\ud800"}'
        results = db.store_batch("k1", [row(1), bad])
        assert [r["status"] for r in results] == ["accepted", "rejected"]
        assert db.count("transactions") == 1


def test_item_whose_check_itself_fails_is_rejected_alone(monkeypatch):
    from kiosk.central import intake

    real = intake.check_item

    def flaky(raw, index):
        if index == 1:
            raise ValueError("a gap in a validator")
        return real(raw, index)

    monkeypatch.setattr(intake, "check_item", flaky)
    ok = {"id": str(uuid.uuid4()), "seq": 1, "kind": "probe", "occurred_at": "2026-11-22T09:30:00+08:00", "data": {}}
    _, checked = intake.check_batch({"kiosk_id": "k1", "items": [ok, dict(ok, seq=2), dict(ok, seq=3)]})
    assert [c.row is None for c in checked] == [False, True, False]
    assert "could not be checked" in checked[1].reason
