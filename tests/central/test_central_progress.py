"""Case progress on the platform (issue 18, item 1): the approval system reports steps (operators only,
idempotent on the event id, nothing personal), kiosks ask how far a case is by its number or list a holder's
cases by the keyed hash, operators read the same; the answer says what the citizen does next from what the
pickup loop knows. The real `kiosk central` on loopback (tests/central/pickup_kit.py); lateness by the
platform's clock there (deadlines in 2020 and 2099), and to the second with an injected clock in process; on
each engine."""
from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta

import pytest

from kiosk.wire.hashing import holder_hash
from kiosk.wire.progress import CaseProgress, HolderCases
from tests.central.conftest import item
from tests.central.pickup_kit import CST, HASH_KEY, T0, id_number, loop_on, new_case
from tests.conftest import ENGINES

_serial = itertools.count(300)


@pytest.fixture(scope="module", params=ENGINES)
def loop(request, tmp_path_factory):
    with loop_on(request.param, request, tmp_path_factory.mktemp("progress")) as lp:
        yield lp


def event(event_id: str, step: str, status: str = "done", at: datetime = T0, **more) -> dict:
    return {"event_id": event_id, "step": step, "status": status, "at": at.isoformat(), **more}


def post_event(loop, case: str, doc: dict, **signing):
    return loop.central.call("POST", f"/api/v1/cases/{case}/events", doc, **(signing or {"operator": "op"}))


def progress(loop, case: str, kiosk: str = "k1", **signing) -> dict:
    res = loop.central.call("GET", f"/api/v1/kiosks/{kiosk}/cases/{case}/progress", **(signing or {"kiosk": kiosk}))
    assert res.status_code == 200, res.text
    CaseProgress.model_validate(res.json())    # what the kiosk reads
    return res.json()


def a_case(loop, *, serial: int | None = None, **more) -> str:
    case = new_case()
    res = loop.post_case(case, "13800138000", id_serial=serial if serial is not None else next(_serial), **more)
    assert res.status_code == 201, res.text
    return case


def test_events_are_stored_once_per_event_id_and_another_body_under_it_is_refused(loop):
    case = a_case(loop)
    first = post_event(loop, case, event("E-1", "受理", at=T0))
    assert first.status_code == 201 and first.json() == {"case_number": case, "event_id": "E-1", "status": "created"}
    before = loop.central.counts()
    again = post_event(loop, case.lower(), event("E-1", "受理", at=T0))
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    changed = post_event(loop, case, event("E-1", "受理", at=T0 + timedelta(hours=1)))
    assert changed.status_code == 409 and changed.json()["error"] == "event_conflict"
    assert loop.central.counts() == before
    assert post_event(loop, case, event("E-2", "审查", "current", T0 + timedelta(days=1))).status_code == 201
    # the same event id in another case is another event
    other = a_case(loop)
    assert post_event(loop, other, event("E-1", "受理", at=T0)).status_code == 201
    steps = progress(loop, case)["steps"]
    assert [(s["step"], s["status"]) for s in steps] == [("受理", "done"), ("审查", "current")]


def test_only_operators_post_events_and_a_kiosk_reads_progress_for_itself_only(loop):
    case = a_case(loop)
    before = loop.central.counts()
    as_kiosk = post_event(loop, case, event("K-1", "受理"), kiosk="k1")
    assert as_kiosk.status_code == 403 and as_kiosk.json()["error"] == "forbidden"
    forged = post_event(loop, case, event("K-1", "受理"), operator="op", secret="not-the-secret-0000000000")
    assert forged.status_code == 401
    assert loop.central.counts() == before
    other = loop.central.call("GET", f"/api/v1/kiosks/k2/cases/{case}/progress", kiosk="k1")
    assert other.status_code == 403
    assert progress(loop, case, kiosk="k2", operator="op")["case_number"] == case
    holder = holder_hash(HASH_KEY, id_number(1))
    assert loop.central.call("GET", f"/api/v1/kiosks/k2/cases?holder={holder}", kiosk="k1").status_code == 403
    assert loop.central.call("GET", f"/api/v1/cases?holder={holder}", kiosk="k1").status_code == 403


def test_an_unknown_case_is_not_found_and_an_id_number_for_a_case_is_refused_without_echo(loop):
    unknown = new_case()
    res = post_event(loop, unknown, event("U-1", "受理"))
    assert res.status_code == 404 and "POST /api/v1/cases" in res.json()["message"]
    missing = loop.central.call("GET", f"/api/v1/kiosks/k1/cases/{unknown}/progress", kiosk="k1")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    looks_like_id = loop.central.call("GET", "/api/v1/kiosks/k1/cases/110101199001010015/progress", kiosk="k1")
    assert looks_like_id.status_code == 422 and "110101199001010015" not in looks_like_id.text
    malformed = loop.central.call("GET", "/api/v1/kiosks/k1/cases/SX%201/progress", kiosk="k1")
    assert malformed.status_code == 422


@pytest.mark.parametrize("field,value", [
    ("note", "请申请人110101199001010015补交材料"),     # an ID number in free text
    ("note", "请联系 138-0013-8000"),                  # a mobile number
    ("department", "张三 13800138000"),
    ("step", ""),
    ("status", "finished"),
    ("at", "2026-11-22 09:30"),                       # no offset
    ("at", "2026-11-22T09:30:00"),
    ("event_id", "has space"),
    ("final", "yes"),
])
def test_an_invalid_event_is_refused_naming_the_field_and_never_echoing_personal_data(loop, field, value):
    case = a_case(loop)
    before = loop.central.counts()
    res = post_event(loop, case, {**event("V-1", "受理"), field: value})
    assert res.status_code == 422, res.text
    assert [d["field"] for d in res.json()["details"]] == [field]
    for secret in ("110101199001010015", "13800138000", "138-0013-8000"):
        assert secret not in res.text
    assert loop.central.counts() == before
    extra = post_event(loop, case, {**event("V-2", "受理"), "applicant_name": "张三"})
    assert extra.status_code == 422 and "applicant_name" in json.dumps(extra.json()["details"])


def test_progress_shows_the_item_department_steps_and_promised_date_and_says_to_wait(loop):
    case = a_case(loop, department="市场监督管理局", promised_by="2099-01-15", accepted_at=T0.isoformat())
    post_event(loop, case, event("P-1", "受理", at=T0, department="综合受理窗口"))
    post_event(loop, case, event("P-2", "审查", "current", T0 + timedelta(days=1), note="需现场勘验"))
    doc = progress(loop, case)
    assert doc["item_name"] == "营业执照（副本）" and doc["department"] == "市场监督管理局"
    assert doc["accepted_at"] == "2026-11-22T09:30:00+08:00" and doc["promised_by"] == "2099-01-15"
    assert doc["late"] is False and doc["finished"] is False and doc["current_step"] == "审查"
    assert doc["steps"] == [
        {"step": "受理", "status": "done", "at": "2026-11-22T09:30:00+08:00", "department": "综合受理窗口", "note": None},
        {"step": "审查", "status": "current", "at": "2026-11-23T09:30:00+08:00", "department": None,
         "note": "需现场勘验"}]
    assert doc["next"] == {"action": "wait", "text": "正在办理，当前环节：审查。请耐心等待。"}
    assert doc["locker"] is None and doc["handins"] == []
    # the case moves on: the step before is done, whatever it was last reported as
    post_event(loop, case, event("P-3", "决定", "current", T0 + timedelta(days=2)))
    steps = progress(loop, case)["steps"]
    assert [(s["step"], s["status"]) for s in steps] == [("受理", "done"), ("审查", "done"), ("决定", "current")]


def test_a_case_past_its_promised_date_is_late_and_one_finished_in_time_is_not(loop):
    late = a_case(loop, promised_by="2020-11-27")
    post_event(loop, late, event("L-1", "受理", at=T0.replace(year=2020)))
    doc = progress(loop, late)
    assert doc["late"] is True and doc["next"]["action"] == "wait"
    assert doc["next"]["text"].endswith("已超过承诺办结日期，如有疑问请咨询服务窗口。")
    in_time = a_case(loop, promised_by="2020-11-27")
    post_event(loop, in_time, event("L-2", "办结", at=T0.replace(year=2020), final=True))
    doc = progress(loop, in_time)
    assert doc["late"] is False and doc["finished"] is True and doc["finished_at"] == "2020-11-22T09:30:00+08:00"
    assert doc["next"] == {"action": "wait_for_locker",
                           "text": "已办结。证件存入自助取件柜后，取件码将通过短信发送给您。"}
    after = a_case(loop, promised_by="2020-11-20")
    post_event(loop, after, event("L-3", "办结", at=T0.replace(year=2020), final=True))
    assert progress(loop, after)["late"] is True      # finished, but after the promised date


def test_the_next_step_follows_the_pickup_loop_door_collected_recalled(loop):
    held, collected, recalled = (a_case(loop) for _ in range(3))
    future = T0.replace(year=2099)
    loop.upload(loop.deposit(held, "910001", door=7, at=future),
                loop.deposit(collected, "910002", door=8, at=T0), loop.deposit(recalled, "910003", door=9, at=T0))
    doc = progress(loop, held)
    assert doc["finished"] is True and doc["current_step"] is None
    assert doc["locker"]["door"] == 7 and doc["locker"]["state"] == "held" and not doc["locker"]["overdue"]
    nxt = doc["next"]
    assert nxt["action"] == "collect_from_locker" and nxt["door"] == 7 and nxt["kiosk_id"] == "k1"
    assert nxt["place"] == "一楼东侧24小时自助区" and nxt["due_at"] == "2099-11-29T09:30:00+08:00"
    assert nxt["text"] == ("请到示例政务服务中心（一楼东侧24小时自助区）的自助取件柜7号柜门领取，取件码已通过短信发送给您，"
                           "请于11月29日前领取，领取时请携带本人身份证。")
    loop.upload(loop.ended("pickup", collected, door=8, at=T0 + timedelta(days=2)),
                loop.ended("recall", recalled, door=9, at=T0 + timedelta(days=8), staff_id="s01", reason="overdue"))
    done = progress(loop, collected)["next"]
    assert done == {"action": "collected", "at": "2026-11-24T09:30:00+08:00", "text": "已于11月24日领取，办件已完成。"}
    window = progress(loop, recalled)["next"]
    assert window["action"] == "go_to_window"
    assert window["text"] == "证件已由工作人员从自助取件柜取回，请到服务窗口领取，领取时请携带本人身份证。"
    overdue = a_case(loop, needs_id_card=False)
    loop.upload(loop.deposit(overdue, "910004", door=10, at=T0.replace(year=2020)))
    nxt = progress(loop, overdue)["next"]
    assert nxt["overdue"] is True and "已超过保管期限，取件码仍可使用" in nxt["text"] and "身份证" not in nxt["text"]


def test_materials_handed_in_are_listed_with_the_case(loop):
    case = a_case(loop)
    handin = item(seq=900_001, kind="handin", occurred_at=T0.isoformat(),
                  data={"case_number": case, "door": 5, "handed_in_at": T0.isoformat(), "receipt_no": "K7Q2M-9X4A1",
                        "hall": "示例政务服务中心"})
    loop.upload(handin)
    [h] = progress(loop, case)["handins"]
    assert h == {"handed_in_at": T0.isoformat(), "state": "in_locker", "collected_at": None}


def test_a_holders_cases_are_listed_newest_first_bounded_for_kiosks_and_operators(loop):
    serial = next(_serial)
    holder = holder_hash(HASH_KEY, id_number(serial))
    cases = [a_case(loop, serial=serial, accepted_at=(T0 + timedelta(days=n)).isoformat()) for n in range(3)]
    a_case(loop)                                                    # another holder's
    res = loop.central.call("GET", f"/api/v1/kiosks/k1/cases?holder={holder}", kiosk="k1")
    assert res.status_code == 200, res.text
    doc = HolderCases.model_validate(res.json())
    assert [c.case_number for c in doc.cases] == cases[::-1] and doc.more is False
    two = loop.central.call("GET", f"/api/v1/kiosks/k1/cases?holder={holder}&limit=2", kiosk="k1").json()
    assert [c["case_number"] for c in two["cases"]] == cases[:0:-1] and two["more"] is True
    ops = loop.central.call("GET", f"/api/v1/cases?holder={holder}", operator="op")
    assert ops.status_code == 200 and ops.json()["holder"] == holder
    assert [c["case_number"] for c in ops.json()["cases"]] == cases[::-1]
    nobody = loop.central.call("GET", f"/api/v1/kiosks/k1/cases?holder={'0' * 64}", kiosk="k1").json()
    assert nobody == {"cases": [], "more": False}
    for query in (f"holder={holder.upper()}", "holder=110101199001010015", "limit=5"):
        bad = loop.central.call("GET", f"/api/v1/kiosks/k1/cases?{query}", kiosk="k1")
        assert bad.status_code == 422 and "110101199001010015" not in bad.text
    both = loop.central.call("GET", f"/api/v1/cases?holder={holder}&state=held", operator="op")
    neither = loop.central.call("GET", "/api/v1/cases", operator="op")
    assert both.status_code == neither.status_code == 422


def test_answers_hold_no_id_number_name_or_phone(loop):
    serial = next(_serial)
    case = a_case(loop, serial=serial, staff_mobile="13700137000")
    post_event(loop, case, event("N-1", "受理"))
    loop.upload(loop.deposit(case, "930001", door=11))
    holder = holder_hash(HASH_KEY, id_number(serial))
    for_kiosk = [loop.central.call("GET", f"/api/v1/kiosks/k1/cases/{case}/progress", kiosk="k1").text,
                 loop.central.call("GET", f"/api/v1/kiosks/k1/cases?holder={holder}", kiosk="k1").text]
    for_operator = loop.central.call("GET", f"/api/v1/cases?holder={holder}", operator="op").text
    assert all(case in text for text in (*for_kiosk, for_operator))
    for text in (*for_kiosk, for_operator):
        for secret in (id_number(serial), "13800138000", "13700137000", "138****8000", "137****7000"):
            assert secret not in text
    for text in for_kiosk:            # the kiosk asked with it; it is never sent back
        assert holder not in text


def test_the_operators_case_detail_carries_the_events_and_the_progress(loop):
    case = a_case(loop, promised_by="2099-01-01")
    post_event(loop, case, event("D-1", "受理", department="综合窗口"))
    detail = loop.central.call("GET", f"/api/v1/cases/{case}", operator="op").json()
    assert detail["promised_by"] == "2099-01-01"
    assert detail["events"] == [{"event_id": "D-1", "step": "受理", "status": "done", "at": T0.isoformat(),
                                 "department": "综合窗口", "note": None, "final": False, "posted_by": "op"}]
    assert detail["progress"]["steps"][0]["step"] == "受理" and detail["progress"]["next"]["action"] == "wait"


def test_a_case_posted_the_pickup_loops_way_stays_unchanged_and_its_progress_fields_are_kept(loop):
    serial = next(_serial)
    plain = a_case(loop, serial=serial)
    assert loop.post_case(plain, "13800138000", id_serial=serial).json()["status"] == "unchanged"
    case = a_case(loop, serial=serial, promised_by="2099-01-01", accepted_at=T0.isoformat())
    same = loop.post_case(case, "13800138000", id_serial=serial, promised_by="2099-01-01", accepted_at=T0.isoformat())
    assert same.status_code == 200 and same.json()["status"] == "unchanged"
    assert set(same.json()) == {"case_number", "status", "item_name", "needs_id_card", "hold_days", "holder_hash",
                                "phone_masked", "staff_phone_masked", "department", "state"}
    bare = loop.post_case(case, "13800138000", id_serial=serial)       # without the progress's fields
    assert bare.status_code == 200
    assert progress(loop, case)["promised_by"] == "2099-01-01"
    bad = loop.post_case(new_case(), "13800138000", promised_by="2026-13-01")
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "promised_by"


def test_the_openapi_document_describes_the_progress_routes(loop):
    doc = loop.central.call("GET", "/openapi.json").json()
    for path in ("/api/v1/cases/{case_number}/events", "/api/v1/kiosks/{kiosk_id}/cases/{case_number}/progress",
                 "/api/v1/kiosks/{kiosk_id}/cases"):
        assert path in doc["paths"], path
    schemas = doc["components"]["schemas"]
    assert {"CaseProgress", "HolderCases", "NextStep"} <= set(schemas)
    assert "promised_by" in schemas["CaseUpload"]["properties"]


# -- in process: lateness to the second, with the platform's clock injected ------------------------------

def test_a_case_becomes_late_at_midnight_after_its_promised_date_in_the_halls_offset(platform_db):
    from kiosk.central.cases import CaseBook, CaseUpload
    from kiosk.central.db import CentralDB
    from kiosk.central.progress import CaseProgressBook
    from kiosk.wire.progress import CaseEventUpload

    now = [T0.timestamp()]
    with CentralDB(platform_db, clock=lambda: now[0]) as db:
        CaseBook(db, db.seal, HASH_KEY, db.clock).post(CaseUpload.model_validate_json(json.dumps({
            "case_number": "SX-LATE-1", "item_name": "建设工程规划许可证", "applicant_id_number": id_number(5),
            "applicant_mobile": "13800138000", "needs_id_card": True, "hold_days": 7,
            "promised_by": "2026-11-27"})), "op")
        book = CaseProgressBook(db, db.clock)
        book.add_event("sx-late-1", CaseEventUpload.model_validate_json(json.dumps(
            event("1", "审查", "current", T0))), "op")
        midnight = datetime(2026, 11, 28, tzinfo=CST).timestamp()
        now[0] = midnight - 1
        assert book.progress("SX-LATE-1")["late"] is False
        now[0] = midnight
        doc = book.progress("SX-LATE-1")
        assert doc["late"] is True and doc["current_step"] == "审查"
        [(listed)], more = book.of_holder(holder_hash(HASH_KEY, id_number(5)))
        assert listed["late"] is True and more is False


def test_the_seed_gives_the_demo_cases_their_steps_once_and_the_demo_card_three_cases(tmp_path, platform_db):
    from kiosk.central import demo
    from tests.central.conftest import start_central
    from tests.conftest import run_kiosk

    c = start_central(tmp_path, "--hash-key", HASH_KEY, db=platform_db)
    try:
        seed = ["central", "seed", "--db", str(c.db), "--hash-key", HASH_KEY, "--json"]
        first = json.loads(run_kiosk(*seed).stdout)
        again = json.loads(run_kiosk(*seed).stdout)
        assert first["new_case_events"] == sum(len(k.steps) for k in demo.DEMO_CASES) and again["new_case_events"] == 0
        assert {k["status"] for k in again["cases"]} == {"unchanged"}
        card = holder_hash(HASH_KEY, demo.DEMO_HOLDERS[4].id_number)     # the kiosk simulator's demo card
        res = c.call("GET", f"/api/v1/kiosks/k1/cases?holder={card}", kiosk="k1")
        cases = {p.case_number: p for p in HolderCases.model_validate(res.json()).cases}
        assert set(cases) == {"2026051800099", "2026051800097", "2026051800096"}
        assert cases["2026051800096"].late and cases["2026051800096"].current_step == "现场勘验"
        assert not cases["2026051800097"].late and cases["2026051800097"].next.action == "wait"
        assert cases["2026051800099"].finished and cases["2026051800099"].next.action == "wait_for_locker"
    finally:
        c.server.stop()
