"""Fee notices on the reference platform, a real subprocess (kiosk/central/fee_notices.py, routes/fees.py): the
look-up and its refusals, a payment applied once and a second one flagged for refund, the same transaction by
both roads (at once and through the outbox's batch) stored once, a refund settling it, the e-receipt page,
and the payer never answered whole."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from stdnum import luhn

from kiosk.central.fee_issuer import COMPANY, EXPIRED, OTHER, PAID, SECOND, UNPAID
from kiosk.wire.fees import new_receipt_token, receipt_token_digest
from tests.central.conftest import Central, Server, free_port, platform_key_env, provision
from tests.conftest import ENGINES, run_kiosk

HALL, COUNTY = "demo-hall", "demo-hall-county"


def with_check_digit(body: str) -> str:
    return body + luhn.calc_check_digit(body)


NOBODYS = with_check_digit("1101052600990000001")   # of the demo's form, issued by nobody


def _seeded(tmp, db) -> Central:
    c = Central(Server(db, free_port(), tmp / "central.log"))
    for k, group in (("k1", HALL), ("k2", COUNTY), ("k3", None)):
        c.secrets[("kiosk", k)] = provision(db, "add-kiosk", k, *(("--group", group) if group else ()))["secret"]
    c.secrets[("operator", "op")] = provision(db, "add-operator", "op")["secret"]
    seeded = run_kiosk("central", "seed", "--db", str(db), "--hash-key", "fees-test-key-0123456789", "--json")
    assert seeded.returncode == 0, seeded.stderr
    c.seeded = json.loads(seeded.stdout)
    c.server.start()
    return c


@pytest.fixture(scope="module", params=ENGINES)
def fees(request, tmp_path_factory):
    """The platform seeded, with k1 in the demo hall, k2 in the county's and k3 in none; on each engine (a SQLite
    file, a database on the private PostgreSQL server)."""
    tmp = tmp_path_factory.mktemp("fees")
    if request.param == "sqlite":
        c = _seeded(tmp, tmp / "central.db")
        yield c
        c.server.stop()
        return
    with platform_key_env(tmp / "central.key"):
        c = _seeded(tmp, request.getfixturevalue("pg_cluster").fresh())
        yield c
        c.server.stop()


def notice_path(kiosk: str, number: str) -> str:
    return f"/api/v1/kiosks/{kiosk}/fee-notices/{number}"


def payment(number: str, amount: int, *, kiosk_seq: int = 1, token: str | None = None,
            at: str | None = None) -> tuple[dict, str]:
    reference = uuid.uuid4().hex[:10].upper()
    data = {"reference": reference, "method": "card", "channel": "card", "amount_fen": amount, "currency": "CNY",
            "service": "fees", "result": "approved", "fee_notice": number,
            "receipt_token_sha256": receipt_token_digest(token or new_receipt_token())}
    now = at or dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).isoformat(timespec="milliseconds")
    return {"id": str(uuid.uuid4()), "seq": kiosk_seq, "kind": "payment", "occurred_at": now, "data": data}, reference


def report(c: Central, item: dict, kiosk: str = "k1"):
    return c.call("POST", f"/api/v1/kiosks/{kiosk}/fee-payments", item, kiosk=kiosk)


def test_seeding_puts_the_demo_notices_there_once(fees):
    numbers = [n["number"] for n in fees.seeded["fee_notices"]]
    assert numbers == [UNPAID, COMPANY, PAID, EXPIRED, OTHER, SECOND] and all(luhn.is_valid(n) for n in numbers)
    assert [n["payer"] for n in fees.seeded["fee_notices"]][-1] == "欧阳**"
    again = json.loads(run_kiosk("central", "seed", "--db", str(fees.db), "--hash-key", "x", "--json").stdout)
    assert [n["new"] for n in again["fee_notices"]] == [False] * 6


def test_a_notice_of_the_kiosks_hall_is_answered_with_the_payer_masked(fees):
    r = fees.call("GET", notice_path("k1", COMPANY))
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["payer_masked"] == "示例*****有限公司" and doc["total_fen"] == 36000 and doc["state"] == "unpaid"
    assert doc["hall"] == HALL and doc["department"] == "示例市市场监督管理局"
    assert doc["receipt_base_url"] == fees.url + "/r/"
    assert "星河" not in r.text


@pytest.mark.parametrize("number, status, error, detail", [
    (PAID, 409, "notice_paid", "paid_on"),
    (EXPIRED, 409, "notice_expired", "due_date"),
    (OTHER, 409, "notice_other_hall", "hall_name"),
    (UNPAID[:-1] + str((int(UNPAID[-1]) + 1) % 10), 404, "notice_malformed", None),
    ("1234", 404, "notice_malformed", None),
    (NOBODYS, 404, "notice_unknown", None),
])
def test_a_notice_that_must_not_be_paid_here_is_refused_with_a_stable_code(fees, number, status, error, detail):
    before = fees.counts()
    r = fees.call("GET", notice_path("k1", number))
    assert r.status_code == status and r.json()["error"] == error, r.text
    assert r.json()["message"]
    if detail:
        assert detail in r.json()["details"][0]
    assert fees.counts() == before


def test_a_kiosk_of_no_hall_takes_no_notice_and_a_kiosk_reads_only_its_own_path(fees):
    assert fees.call("GET", notice_path("k3", UNPAID), kiosk="k3").json()["error"] == "notice_other_hall"
    assert fees.call("GET", notice_path("k1", UNPAID), kiosk="k2").status_code == 403
    r = fees.call("GET", notice_path("k1", UNPAID), kiosk="k1", secret="not-the-secret-0000000000")
    assert r.status_code == 401


def test_a_payment_pays_its_notice_once_by_either_road_and_a_second_one_is_flagged_for_refund(fees):
    item, reference = payment(UNPAID, 9000, kiosk_seq=11)
    r = report(fees, item)
    assert r.status_code == 200, r.text
    assert r.json() == {"reference": reference, "fee_notice": UNPAID, "transaction": "accepted", "status": "paid",
                        "reason": None}
    # the platform timed out after storing: the kiosk's outbox sends the same item again, both roads
    assert report(fees, item).json()["transaction"] == "duplicate"
    batch = fees.call("POST", "/api/v1/transactions", {"kiosk_id": "k1", "items": [item]})
    assert batch.json()["results"][0]["status"] == "duplicate"
    assert fees.call("GET", notice_path("k1", UNPAID)).json()["error"] == "notice_paid"
    # another kiosk of the hall paid it too (its look-up came before this payment): never silently accepted
    fees.secrets[("kiosk", "k4")] = provision(fees.db, "add-kiosk", "k4", "--group", HALL)["secret"]
    second, second_ref = payment(UNPAID, 9000, kiosk_seq=1)
    answer = report(fees, second, "k4").json()
    assert (answer["status"], answer["reason"]) == ("refund_due", "notice_paid")
    owed = fees.call("GET", "/api/v1/fee-payments?state=refund_due", operator="op").json()["payments"]
    assert [(p["kiosk_id"], p["reference"]) for p in owed if p["fee_notice"] == UNPAID] == [("k4", second_ref)]
    # the kiosk gave it back: its refund transaction settles the flag, and the notice stays paid by the first
    refund = {"id": str(uuid.uuid4()), "seq": 2, "kind": "refund", "occurred_at": second["occurred_at"],
              "data": {"reference": "RFND000001", "payment_reference": second_ref, "method": "card",
                       "channel": "card", "amount_fen": 9000, "currency": "CNY", "service": "fees"}}
    assert fees.call("POST", "/api/v1/transactions", {"kiosk_id": "k4", "items": [refund]},
                     kiosk="k4").json()["results"][0]["status"] == "accepted"
    states = {p["reference"]: p["state"] for p in
              fees.call("GET", "/api/v1/fee-payments", operator="op").json()["payments"]}
    assert states[second_ref] == "refunded" and states[reference] == "paid"
    assert fees.call("GET", notice_path("k1", UNPAID)).json()["error"] == "notice_paid"


def test_a_payment_that_arrives_only_through_the_outbox_is_applied_too(fees):
    fees.secrets[("kiosk", "k5")] = provision(fees.db, "add-kiosk", "k5", "--group", HALL)["secret"]
    item, reference = payment(COMPANY, 36000)
    r = fees.call("POST", "/api/v1/transactions", {"kiosk_id": "k5", "items": [item]}, kiosk="k5")
    assert r.json()["results"][0]["status"] == "accepted"
    assert fees.call("GET", notice_path("k5", COMPANY), kiosk="k5").json()["error"] == "notice_paid"
    [row] = [p for p in fees.call("GET", "/api/v1/fee-payments?state=paid", operator="op").json()["payments"]
             if p["reference"] == reference]
    assert row["fee_notice"] == COMPANY and row["kiosk_id"] == "k5"


@pytest.mark.parametrize("number, amount, kiosk, reason", [
    (EXPIRED, 1000, "k1", "notice_expired"),
    (OTHER, 50000, "k1", "notice_other_hall"),
    (NOBODYS, 100, "k1", "notice_unknown"),
])
def test_a_payment_the_notice_cannot_take_is_flagged_for_refund_with_the_reason(fees, number, amount, kiosk, reason):
    item, _ref = payment(number, amount)
    answer = report(fees, item, kiosk).json()
    assert (answer["status"], answer["reason"]) == ("refund_due", reason)


def test_a_payment_of_another_amount_is_flagged_and_leaves_the_notice_unpaid(fees):
    item, _ref = payment(OTHER, 100, kiosk_seq=3)
    assert report(fees, item, "k2").json()["reason"] == "amount_differs"
    assert fees.call("GET", notice_path("k2", OTHER), kiosk="k2").status_code == 200


def test_a_report_that_is_not_a_fee_payment_is_refused_and_stores_nothing(fees):
    before = fees.counts()
    probe = {"id": str(uuid.uuid4()), "seq": 5, "kind": "probe", "occurred_at": "2026-11-22T09:30:00+08:00",
             "data": {}}
    assert report(fees, probe).status_code == 422
    item, _ = payment(UNPAID, 9000)
    del item["occurred_at"]
    assert report(fees, item).status_code == 422
    assert fees.counts() == before


def test_the_e_receipt_shows_the_payment_and_the_masked_payer_and_its_token_is_not_logged(fees):
    import requests

    token = new_receipt_token()
    fees.secrets[("kiosk", "k6")] = provision(fees.db, "add-kiosk", "k6", "--group", COUNTY)["secret"]
    item, reference = payment(OTHER, 50000, token=token)
    assert report(fees, item, "k6").json()["status"] == "paid"
    page = requests.get(f"{fees.url}/r/{token}", timeout=5)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    for text in ("缴费成功", OTHER, "示例县自然资源局", "赵*", "土地复垦费", "¥500.00", f"{reference[:5]}-{reference[5:]}"):
        assert text in page.text, text
    assert "赵六" not in page.text
    assert requests.get(f"{fees.url}/r/{new_receipt_token()}", timeout=5).status_code == 404
    assert token not in fees.server.log.read_text() and "/r/…" in fees.server.log.read_text()


PAYERS = ("张三丰", "示例市星河科技有限公司", "李四", "王小明", "赵六", "欧阳明远")


def test_the_payers_name_is_kept_sealed_at_rest(fees):
    if fees.engine_name == "sqlite":   # every byte of the database's files
        raw = b"".join(p.read_bytes() for p in fees.db.parent.glob("central.db*"))
    else:                              # every value the server holds of the notices and the payments
        from sqlalchemy import text

        from kiosk.central import database

        engine = database.open_engine(fees.db, pool_size=1)
        try:
            with engine.connect() as conn:
                raw = "".join(str(v) for table in ("demo_fee_notices", "fee_payments", "transactions")
                              for row in conn.execute(text(f"SELECT * FROM {table}")) for v in row).encode()
        finally:
            engine.dispose()
        assert "示例县自然资源局".encode() in raw     # what is stored in clear is there to be seen
    for name in PAYERS:
        assert name.encode() not in raw, name


def test_an_issuer_plug_in_that_cannot_be_loaded_keeps_the_platform_from_starting(tmp_path, platform_db):
    settings = tmp_path / "central.toml"
    settings.write_text('[fees]\nissuer = "no_such_bureau.fees:make"\n', encoding="utf-8")
    r = run_kiosk("central", "--port", str(free_port()), "--db", platform_db, "--settings", str(settings), timeout=60)
    assert r.returncode == 2 and "[fees] issuer = 'no_such_bureau.fees:make' cannot be loaded" in r.stderr
    settings.write_text('[fees]\nreceipt_base_url = "ftp://x"\n', encoding="utf-8")
    r = run_kiosk("central", "--port", str(free_port()), "--db", platform_db, "--settings", str(settings), timeout=60)
    assert r.returncode == 2 and "[fees] receipt_base_url" in r.stderr
