"""One item the database refuses is rejected with its reason; the rest of its batch is stored (issue 24, 7)."""
from __future__ import annotations

import uuid

import pytest

from kiosk.central.db import CentralDB, CheckedItem


def row(seq: int) -> CheckedItem:
    tx_id = str(uuid.uuid4())
    return CheckedItem(tx_id, {"id": tx_id, "seq": seq, "kind": "probe", "occurred_at": "2026-11-22T01:30:00Z",
                               "boot_id": None, "uptime_s": 1.0, "data": "{}", "body": "{}",
                               "body_sha256": uuid.uuid4().hex * 2})


def test_item_the_database_refuses_is_rejected_and_the_rest_of_the_batch_stored(platform_db):
    with CentralDB(platform_db) as db:
        db.add_kiosk("k1")
        # a value no validator should let through (past 64 bits), as if a check had a gap
        items = [row(1), row(2**64), row(3)]
        results = db.store_batch("k1", items)
        assert [r["status"] for r in results] == ["accepted", "rejected", "accepted"]
        assert "could not be stored" in results[1]["reason"]
        assert sorted(r["seq"] for r in db.transactions("k1")) == [1, 3]


@pytest.mark.parametrize("text", ["\ud800", "\x00"], ids=["lone-surrogate", "nul"])
def test_item_with_a_string_the_database_cannot_store_is_rejected_alone(platform_db, text):
    """A lone surrogate no UTF-8 database can encode; a NUL, which PostgreSQL's text refuses."""
    with CentralDB(platform_db) as db:
        db.add_kiosk("k1")
        bad = row(2)
        bad.row["data"] = '{"note":"%s"}' % text
        results = db.store_batch("k1", [row(1), bad, row(3)])
        if "://" in platform_db or text != "\x00":
            assert [r["status"] for r in results] == ["accepted", "rejected", "accepted"]
            assert db.count("transactions") == 2
        else:   # SQLite keeps a NUL in text as it is
            assert [r["status"] for r in results] == ["accepted"] * 3


def test_a_batch_sent_to_two_workers_at_once_is_stored_once(platform_db):
    """Two platforms (as two workers: an engine each) given the same batch at the same moment: every id
    is stored once, and each answers every item accepted or duplicate."""
    import threading

    with CentralDB(platform_db) as setup:
        setup.add_kiosk("k1")
    items = [row(i) for i in range(1, 201)]
    answers: list[list[dict]] = []
    start = threading.Barrier(2)

    def worker():
        with CentralDB(platform_db) as db:
            start.wait(timeout=30)
            answers.append(db.store_batch("k1", items))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(answers) == 2
    for answer in answers:
        assert all(r["status"] in ("accepted", "duplicate") for r in answer), answer
    accepted = sum(r["status"] == "accepted" for answer in answers for r in answer)
    assert accepted == len(items)
    with CentralDB(platform_db) as db:
        assert db.count("transactions") == len(items)
        assert db.count("transaction_conflicts") == 0


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
