"""Cases on the platform (issue 17): the approval system posts them (operators only, idempotent, validated with
the field named and nothing personal echoed), a kiosk looks its case up, operators list the overdue items and
the messages. The real `kiosk central` on loopback (tests/central/pickup_kit.py), on each engine."""
from __future__ import annotations

import json
import subprocess
from datetime import timedelta

import pytest

from kiosk.wire.hashing import holder_hash
from tests.central.pickup_kit import HASH_KEY, T0, id_number, loop_on, new_case
from tests.conftest import ENGINES, KIOSK, ROOT


@pytest.fixture(scope="module", params=ENGINES)
def loop(request, tmp_path_factory):
    with loop_on(request.param, request, tmp_path_factory.mktemp("cases")) as lp:
        yield lp


def body(case: str, **over) -> dict:
    doc = {"case_number": case, "item_name": "食品经营许可证", "applicant_id_number": id_number(7),
           "applicant_mobile": "13800138000", "needs_id_card": True, "hold_days": 7,
           "staff_mobile": "13700137000", "department": "市场监管局"}
    doc.update(over)
    return doc


def post(loop, doc: dict, **signing):
    signing = signing or {"operator": "op"}
    return loop.central.call("POST", "/api/v1/cases", doc, **signing)


def test_a_case_is_created_then_the_same_post_changes_nothing_and_a_corrected_phone_updates_it(loop):
    case = new_case()
    created = post(loop, body(case))
    assert created.status_code == 201, created.text
    doc = created.json()
    assert doc == {"case_number": case, "status": "created", "item_name": "食品经营许可证", "needs_id_card": True,
                   "hold_days": 7, "holder_hash": holder_hash(HASH_KEY, id_number(7)), "phone_masked": "138****8000",
                   "staff_phone_masked": "137****7000", "department": "市场监管局", "state": "awaiting_deposit"}
    before = loop.central.counts()
    again = post(loop, body(case))
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    assert loop.central.counts() == before
    fixed = post(loop, body(case, applicant_mobile="+8613900139000"))
    assert fixed.status_code == 200 and fixed.json()["status"] == "updated"
    assert fixed.json()["phone_masked"] == "139****9000"
    for res in (created, again, fixed):
        for secret in (id_number(7), "13800138000", "13900139000", "13700137000"):
            assert secret not in res.text


def test_only_operators_post_cases(loop):
    case = new_case()
    as_kiosk = post(loop, body(case), kiosk="k1")
    assert as_kiosk.status_code == 403 and as_kiosk.json()["error"] == "forbidden"
    unsigned = loop.central.call("POST", "/api/v1/cases", body(case), operator="op", secret="wrong-secret-0000000000")
    assert unsigned.status_code == 401
    assert loop.lookup(case).status_code == 404


@pytest.mark.parametrize("field,value", [
    ("applicant_id_number", "110101199001010016"),     # wrong check digit
    ("applicant_id_number", "not-a-number"),
    ("applicant_mobile", "1380013800"),                 # 10 digits
    ("applicant_mobile", "12800138000"),                # no such mobile prefix
    ("staff_mobile", "010-12345678"),
    ("hold_days", 0),
    ("hold_days", 91),
    ("hold_days", "7"),
    ("needs_id_card", "yes"),
    ("case_number", "110101199001010015"),              # an ID number in the wrong field
    ("case_number", "SX 1"),
    ("item_name", ""),
])
def test_an_invalid_case_is_refused_naming_the_field_and_never_echoing_the_value(loop, field, value):
    before = loop.central.counts()
    res = post(loop, body(new_case(), **{field: value}))
    assert res.status_code == 422, res.text
    doc = res.json()
    assert doc["error"] == "invalid" and [d["field"] for d in doc["details"]] == [field]
    if isinstance(value, str) and len(value) >= 10:
        assert value not in res.text
    assert loop.central.counts() == before


def test_unknown_and_missing_fields_are_refused(loop):
    extra = post(loop, body(new_case(), name="张三"))
    assert extra.status_code == 422 and "name" in json.dumps(extra.json()["details"])
    doc = body(new_case())
    del doc["applicant_mobile"]
    missing = post(loop, doc)
    assert missing.status_code == 422 and missing.json()["details"][0]["field"] == "applicant_mobile"


def test_a_kiosk_looks_up_a_case_for_itself_only(loop):
    case = new_case()
    post(loop, body(case, needs_id_card=False, hold_days=5))
    res = loop.lookup(case.lower())
    assert res.status_code == 200
    assert res.json() == {"case_number": case, "item_name": "食品经营许可证", "needs_id_card": False, "hold_days": 5,
                          "holder_hash": holder_hash(HASH_KEY, id_number(7)), "phone_masked": "138****8000",
                          "state": "awaiting_deposit", "handins": 0}
    other = loop.central.call("GET", f"/api/v1/kiosks/k2/cases/{case}", kiosk="k1")
    assert other.status_code == 403
    assert loop.central.call("GET", f"/api/v1/kiosks/k2/cases/{case}", operator="op").status_code == 200
    unknown = loop.lookup(new_case())
    assert unknown.status_code == 404 and set(unknown.json()) >= {"error", "message"}
    assert unknown.json()["error"] == "not_found"
    looks_like_id = loop.lookup("110101199001010015")
    assert looks_like_id.status_code == 422 and "110101199001010015" not in looks_like_id.text


def test_a_case_follows_its_item_and_is_closed_once_it_is_collected(loop):
    case = new_case()
    post(loop, body(case))
    loop.upload(loop.deposit(case, "555001", door=7))
    assert loop.lookup(case).json()["state"] == "held"
    assert post(loop, body(case, item_name="食品经营许可证（正本）")).json()["status"] == "updated"
    loop.upload(loop.ended("pickup", case, door=7, at=T0 + timedelta(days=1)))
    assert loop.lookup(case).json()["state"] == "collected"
    assert post(loop, body(case, item_name="食品经营许可证（正本）")).json()["status"] == "unchanged"
    closed = post(loop, body(case, applicant_mobile="13600136000"))
    assert closed.status_code == 409 and closed.json()["error"] == "case_closed"
    recalled = new_case()
    post(loop, body(recalled))
    loop.upload(loop.deposit(recalled, "555002", door=8), loop.ended("recall", recalled, door=8, at=T0 + timedelta(days=8)))
    assert loop.lookup(recalled).json()["state"] == "recalled"


def test_operators_see_the_overdue_items_of_the_platform(loop):
    late, fresh, unknown = new_case(), new_case(), new_case()
    post(loop, body(late))
    post(loop, body(fresh))
    # the platform's own clock decides: a deadline in 2020 has passed, one in 2099 has not
    old, future = T0.replace(year=2020), T0.replace(year=2099)
    loop.upload(loop.deposit(late, "600001", door=20, at=old), loop.deposit(fresh, "600002", door=21, at=future))
    loop.upload(loop.deposit(unknown, "600003", door=22, at=old, kiosk="k2"), kiosk="k2")
    res = loop.central.call("GET", "/api/v1/cases?state=overdue", operator="op")
    assert res.status_code == 200, res.text
    rows = {r["case_number"]: r for r in res.json()["cases"]}
    assert late in rows and unknown in rows and fresh not in rows
    assert rows[late]["door"] == 20 and rows[late]["phone_masked"] == "138****8000" and rows[late]["case_known"]
    assert rows[late]["due_at"].startswith("2020-11-29") and rows[late]["hall"] == "示例政务服务中心"
    assert rows[unknown]["case_known"] is False and rows[unknown]["item_name"] == "营业执照"
    only_k2 = loop.central.call("GET", "/api/v1/cases?state=overdue&kiosk=k2", operator="op").json()["cases"]
    assert unknown in {r["case_number"] for r in only_k2} and {r["kiosk_id"] for r in only_k2} == {"k2"}
    held = loop.central.call("GET", "/api/v1/cases?state=held", operator="op").json()["cases"]
    assert fresh in {r["case_number"] for r in held}
    waiting = loop.central.call("GET", "/api/v1/cases?state=awaiting_deposit", operator="op").json()["cases"]
    assert late not in {r["case_number"] for r in waiting}
    assert loop.central.call("GET", "/api/v1/cases?state=overdue", kiosk="k1").status_code == 403
    assert loop.central.call("GET", "/api/v1/cases?state=lost", operator="op").status_code == 422


def test_operators_list_the_messages_and_kiosks_may_not(loop):
    assert loop.central.call("GET", "/api/v1/notices?state=failed", kiosk="k1").status_code == 403
    res = loop.central.call("GET", "/api/v1/notices?state=failed", operator="op")
    assert res.status_code == 200 and isinstance(res.json()["notices"], list)


def test_a_deposit_without_a_sealed_code_gets_a_failed_notice_saying_why(loop):
    case = new_case()
    post(loop, body(case))
    loop.upload(loop.deposit(case, "700001", seal=False))
    failed = [n for n in loop.notices(state="failed") if n["case_number"] == case]
    assert len(failed) == 1 and "notice_key" in failed[0]["last_error"]


def test_a_deposit_whose_data_does_not_fit_is_stored_and_its_notice_fails_naming_the_field(loop):
    case = new_case()
    bad = loop.deposit(case, "700002")
    bad["data"]["due_at"] = "2026-11-29 09:30"   # no offset
    assert loop.upload(bad)[0]["status"] == "accepted"
    failed = [n for n in loop.notices(state="failed") if n["transaction_id"] == bad["id"]]
    assert len(failed) == 1 and "data.due_at" in failed[0]["last_error"]


def test_the_openapi_document_describes_the_case_routes(loop):
    doc = loop.central.call("GET", "/openapi.json").json()
    for path in ("/api/v1/cases", "/api/v1/cases/{case_number}", "/api/v1/kiosks/{kiosk_id}/cases/{case_number}",
                 "/api/v1/notices"):
        assert path in doc["paths"], path
    schemas = doc["components"]["schemas"]
    assert {"CaseUpload", "CaseStored", "CaseInfo", "CaseList", "NoticeList"} <= set(schemas)
    assert set(schemas["CaseInfo"]["properties"]) == {"case_number", "item_name", "needs_id_card", "hold_days",
                                                      "holder_hash", "phone_masked", "state", "handins"}
    assert not any(p.startswith("/p/") for p in doc["paths"])


def test_notify_refuses_settings_naming_the_key(loop, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[notify]\ngateway = "file"\npath = "sms.jsonl"\npage_base_url = "https://x"\n'
                   "max_attempts = 0\n", encoding="utf-8")
    res = subprocess.run([str(KIOSK), "central", "notify", "--once", "--db", str(loop.central.db), "--settings",
                          str(bad)], capture_output=True, text=True, cwd=ROOT, env=loop.env(), timeout=60)
    assert res.returncode == 2 and "[notify] max_attempts" in res.stderr and str(bad) in res.stderr
    missing = tmp_path / "none.toml"
    missing.write_text("[notify]\ngateway = \"file\"\n", encoding="utf-8")
    res = subprocess.run([str(KIOSK), "central", "notify", "--once", "--db", str(loop.central.db), "--settings",
                          str(missing)], capture_output=True, text=True, cwd=ROOT, env=loop.env(), timeout=60)
    assert res.returncode == 2 and "page_base_url" in res.stderr
    no_path = tmp_path / "nopath.toml"
    no_path.write_text('[notify]\ngateway = "file"\npage_base_url = "https://x"\n', encoding="utf-8")
    res = subprocess.run([str(KIOSK), "central", "notify", "--once", "--db", str(loop.central.db), "--settings",
                          str(no_path)], capture_output=True, text=True, cwd=ROOT, env=loop.env(), timeout=60)
    assert res.returncode == 2 and "[notify] path is missing" in res.stderr


def test_a_platform_without_the_hash_key_takes_no_case_and_says_why(platform_db):
    from kiosk.central.cases import CaseBook, CaseUpload, NoHashKey
    from kiosk.central.db import CentralDB

    with CentralDB(platform_db) as db:
        book = CaseBook(db, db.seal, None, db.clock)
        with pytest.raises(NoHashKey, match="--hash-key"):
            book.post(CaseUpload.model_validate(body(new_case())), "op")
        assert db.count("cases") == 0


def test_one_case_posted_by_two_workers_at_once_is_created_once_and_events_once(platform_db):
    """Two workers, each on a database connection of its own, take the same case (then the same event) at the
    same moment: one creates it, the other finds it unchanged (a duplicate), and neither fails."""
    import threading

    from kiosk.central.cases import CaseBook, CaseUpload
    from kiosk.central.db import CentralDB
    from kiosk.central.progress import CaseProgressBook
    from kiosk.wire.progress import CaseEventUpload

    dbs = [CentralDB(platform_db) for _ in range(2)]
    try:
        for attempt in range(5):
            case = new_case()
            upload = CaseUpload.model_validate(body(case))
            event = CaseEventUpload.model_validate_json(json.dumps({"event_id": "E-1", "step": "受理",
                                                                    "status": "done", "at": T0.isoformat()}))
            start = threading.Barrier(2)
            posted, events, failed = [], [], []

            def worker(db):
                try:
                    start.wait(30)
                    posted.append(CaseBook(db, db.seal, HASH_KEY, db.clock).post(upload, "op")["status"])
                    start.wait(30)
                    events.append(CaseProgressBook(db, db.clock).add_event(case, event, "op"))
                except Exception as exc:  # noqa: BLE001 - reported below
                    start.abort()          # the other worker does not wait for this one
                    failed.append(exc)

            threads = [threading.Thread(target=worker, args=(db,), daemon=True) for db in dbs]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert [e for e in failed if not isinstance(e, threading.BrokenBarrierError)] == [], attempt
            assert sorted(posted) == ["created", "unchanged"] and sorted(events) == ["created", "duplicate"]
        assert dbs[0].count("cases") == 5 and dbs[0].count("case_events") == 5
    finally:
        for db in dbs:
            db.close()


def test_the_pages_qr_prefix_is_the_one_the_kiosks_scanner_reads():
    from kiosk.hardware.scanner import PICKUP_QR_PREFIX as scanner_prefix
    from kiosk.wire.cases import PICKUP_QR_PREFIX

    assert PICKUP_QR_PREFIX == scanner_prefix   # two copies: kiosk/hardware/ imports nothing else of kiosk/
