"""The demo fee-notice issuer and the fee desk in process on the platform's database, on each engine
(kiosk/central/fee_issuer.py, fee_notices.py, fee_intake.py): a notice is paid once, the payer is kept sealed,
a payment is recorded with its transaction and applied once. On PostgreSQL, two workers paying one notice at
the same moment: exactly one payment pays it, and applying the same payments at two workers at once changes
each row once."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import text

from kiosk.central import fee_intake
from kiosk.central.db import CentralDB, CheckedItem
from kiosk.central.fee_issuer import COMPANY, DEMO_HALL, UNPAID, DemoFeeIssuer
from kiosk.central.fee_notices import FeeDesk, PaidWith
from tests.conftest import together

HALL_TZ = dt.timezone(dt.timedelta(hours=8))


def open_desk(url: str) -> tuple[CentralDB, DemoFeeIssuer, FeeDesk]:
    db = CentralDB(url)
    issuer = DemoFeeIssuer(db)
    return db, issuer, FeeDesk(db, issuer)


@pytest.fixture
def desk(platform_db):
    db, issuer, fees = open_desk(platform_db)
    issuer.seed()
    db.intake_hooks.append(fee_intake.on_stored)
    for kiosk in ("k1", "k2"):
        db.add_kiosk(kiosk, groups=[DEMO_HALL])
    yield db, issuer, fees
    db.close()


def paid_with(payment_id: str) -> PaidWith:
    return PaidWith(payment_id, 9000, dt.datetime.now(HALL_TZ), "card")


def payment(number: str, amount: int, reference: str | None = None, token: str | None = None) -> CheckedItem:
    data = {"reference": reference or uuid.uuid4().hex[:10].upper(), "method": "card", "channel": "card",
            "amount_fen": amount, "currency": "CNY", "service": "fees", "result": "approved", "fee_notice": number,
            "receipt_token_sha256": token or uuid.uuid4().hex * 2}
    tx = str(uuid.uuid4())
    return CheckedItem(tx, {"id": tx, "seq": 1, "kind": "payment", "boot_id": None, "uptime_s": None,
                            "occurred_at": dt.datetime.now(HALL_TZ).isoformat(timespec="milliseconds"),
                            "data": json.dumps(data), "body": json.dumps(data), "body_sha256": uuid.uuid4().hex * 2})


def test_a_notice_is_paid_once_and_the_same_payment_again_is_still_its_payment(desk):
    _db, issuer, _fees = desk
    assert issuer.mark_paid(UNPAID, paid_with("k1/AAAAA00001"))
    assert issuer.mark_paid(UNPAID, paid_with("k1/AAAAA00001"))
    assert not issuer.mark_paid(UNPAID, paid_with("k2/BBBBB00001"))
    assert issuer.look_up(UNPAID).paid
    issuer.mark_unpaid(UNPAID, "k2/BBBBB00001")           # not the payment that paid it: nothing changes
    assert issuer.look_up(UNPAID).paid
    issuer.mark_unpaid(UNPAID, "k1/AAAAA00001")
    assert not issuer.look_up(UNPAID).paid
    assert [n["new"] for n in issuer.seed()] == [False] * 6


def test_the_payers_are_stored_sealed(desk):
    db, _issuer, _fees = desk
    with db.reading() as conn:
        rows = conn.execute(text("SELECT number, payer, payer_masked FROM demo_fee_notices")).mappings().all()
    assert len(rows) == 6
    for r in rows:
        assert "三丰" not in r["payer"] and "星河" not in r["payer"] and "*" in r["payer_masked"]
        assert db.seal.unseal(r["payer"], f"fee_notice:{r['number']}")


def test_a_payment_is_recorded_with_its_batch_applied_once_and_a_second_sale_or_token_is_kept_apart(desk):
    db, _issuer, fees = desk
    first = payment(COMPANY, 36000)
    assert db.store_batch("k1", [first])[0]["status"] == "accepted"
    assert fees.apply() == 1 and fees.apply() == 0
    reference = json.loads(first.row["data"])["reference"]
    assert fees.answer("k1", reference, "accepted")["status"] == "paid"
    # another transaction for the same sale: stored, its payment not recorded twice
    again = payment(COMPANY, 36000, reference=reference)
    assert db.store_batch("k1", [again])[0]["status"] == "accepted"
    assert fees.taken_by_another("k1", reference, again.id)
    # another sale with a receipt token used before: recorded, without a receipt page
    token = json.loads(first.row["data"])["receipt_token_sha256"]
    reused = payment(COMPANY, 36000, token=token)
    assert db.store_batch("k2", [reused])[0]["status"] == "accepted"
    fees.apply()
    reused_ref = json.loads(reused.row["data"])["reference"]
    assert fees.answer("k2", reused_ref, "accepted")["reason"] == "notice_paid"
    with db.reading() as conn:
        assert conn.execute(text("SELECT token_sha256 FROM fee_payments WHERE reference = :r"),
                            {"r": reused_ref}).scalar_one() is None
        assert conn.execute(text("SELECT count(*) FROM fee_payments")).scalar_one() == 2


# --- several workers at once (PostgreSQL) -------------------------------------------------------------

@pytest.fixture
def pg_url(pg_cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_CENTRAL_KEY_FILE", str(tmp_path / "central.key"))
    url = pg_cluster.fresh()
    db, issuer, _fees = open_desk(url)
    issuer.seed()
    for kiosk in ("k1", "k2"):
        db.add_kiosk(kiosk, groups=[DEMO_HALL])
    db.close()
    return url


def at_once(url: str, work, n: int = 2) -> list:
    """`work((db, issuer, desk), i)` in `n` threads, each with a platform of its own on `url`, started together."""
    return together([open_desk(url) for _ in range(n)], lambda platform, i: work(platform, i))


def test_two_payments_of_one_notice_at_once_pay_it_once(pg_url):
    won = at_once(pg_url, lambda p, i: p[1].mark_paid(UNPAID, paid_with(f"k{i + 1}/RACE000001")), n=4)
    assert sorted(won) == [False, False, False, True]
    db, issuer, _fees = open_desk(pg_url)
    try:
        with db.reading() as conn:
            paid_by = conn.execute(text("SELECT paid_by FROM demo_fee_notices WHERE number = :n"),
                                   {"n": UNPAID}).scalar_one()
    finally:
        db.close()
    assert paid_by == f"k{won.index(True) + 1}/RACE000001"


def test_two_workers_applying_at_once_settle_each_payment_once(pg_url):
    db, _issuer, _fees = open_desk(pg_url)
    db.intake_hooks.append(fee_intake.on_stored)
    items = {"k1": payment(UNPAID, 9000), "k2": payment(UNPAID, 9000)}
    for kiosk, item in items.items():
        assert db.store_batch(kiosk, [item])[0]["status"] == "accepted"
    db.close()
    changed = at_once(pg_url, lambda p, _i: p[2].apply())
    assert sum(changed) == 2                       # each row written by one of the two
    db, _issuer, fees = open_desk(pg_url)
    try:
        states = sorted((p["state"], p["reason"]) for p in fees.payments(None, 10))
    finally:
        db.close()
    assert states == [("paid", None), ("refund_due", "notice_paid")]
