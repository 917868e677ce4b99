"""The applicant's notice end to end on the platform (issue 17): deposit intake, the durable queue, the notifier
as a real `kiosk central notify` process, reminders and phone deletion with injected time, and the pickup page.

One platform for the module and engine (tests/central/pickup_kit.py: a SQLite file, a PostgreSQL database);
each test has cases of its own and counts only its own messages in the file gateway's file (or on the loopback
SMS platform behind the webhook gateway).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from datetime import timedelta

import pytest
import requests

from kiosk.central import notice_key
from kiosk.central.sms import webhook
from tests.central.pickup_kit import CST, NOTIFY_TIMEOUT_S, T0, leaks, loop_on, new_case, start_loop
from tests.central.sms.loopback import LoopbackServer, Reply, Request
from tests.conftest import ENGINES, KIOSK, ROOT

# one platform for the module, on one test process under pytest-xdist (tests/conftest.py GROUPED_FILES): the
# last test greps what all left


@pytest.fixture(scope="module", params=ENGINES)
def loop(request, tmp_path_factory):
    with loop_on(request.param, request, tmp_path_factory.mktemp("loop")) as lp:
        yield lp


def link_token(message: dict) -> str:
    m = re.search(r"/p/([A-Za-z0-9_-]{22})$", message["params"]["link"])
    assert m, message
    return m.group(1)


def test_a_deposit_uploaded_three_times_gives_exactly_one_notice(loop):
    case, phone = new_case(), "13911110001"
    assert loop.post_case(case, phone).status_code == 201
    dep = loop.deposit(case, "483920")
    assert [r["status"] for r in loop.upload(dep, dep)] == ["accepted", "duplicate"]
    assert [r["status"] for r in loop.upload(dep)] == ["duplicate"]
    loop.notify(T0 + timedelta(minutes=1))
    loop.upload(dep)
    loop.notify(T0 + timedelta(minutes=2))
    sent = loop.messages(phone=phone)
    assert len(sent) == 1
    msg = sent[0]
    assert msg["template"] == "pickup_ready"
    assert msg["params"]["code"] == "483920" and "483920" in msg["text"] and msg["params"]["case"] == case
    for part in ("营业执照（副本）", "示例政务服务中心", "一楼东侧24小时自助区", "11月29日", "身份证",
                 "https://hall.example.gov.cn/pickup/p/"):
        assert part in msg["text"], part
    row = [n for n in loop.notices() if n["case_number"] == case]
    assert [(n["template"], n["state"], n["attempts"], n["phone_masked"]) for n in row] == [
        ("pickup_ready", "sent", 1, "139****0001")]
    assert row[0]["id"] == msg["message_id"]


def test_a_deposit_before_its_case_waits_and_goes_once_the_case_is_posted(loop):
    case, phone = new_case(), "13911110002"
    loop.upload(loop.deposit(case, "118406"))
    assert loop.lookup(case).status_code == 404
    loop.notify(T0 + timedelta(minutes=1))
    assert loop.messages(case=case) == []
    waiting = [n for n in loop.notices(state="waiting") if n["case_number"] == case]
    assert len(waiting) == 1 and waiting[0]["attempts"] == 0
    assert loop.post_case(case.lower(), phone).status_code == 201   # case numbers match whatever their case
    assert loop.lookup(case).json()["state"] == "held"
    loop.notify(T0 + timedelta(minutes=2))
    loop.notify(T0 + timedelta(minutes=3))
    sent = loop.messages(phone=phone)
    assert len(sent) == 1 and sent[0]["params"]["code"] == "118406"


WEBHOOK_SECRET = "webhook-secret-for-the-tests-000001"


class ProvinceSms:
    """A province's SMS platform on loopback, behind the real `webhook` gateway: checks each request's
    signature, answers with the next status of `answers` (then 200), and delivers a message id once."""

    def __init__(self, *answers: int):
        self.answers, self.received, self.delivered = list(answers), [], {}
        self.server = LoopbackServer(self.handle)
        self.url = self.server.url + "/sms"

    def handle(self, request: Request) -> Reply:
        h = request.headers
        assert h["x-sms-signature"] == webhook.signature(WEBHOOK_SECRET, h["x-sms-timestamp"], h["x-sms-nonce"],
                                                         request.body)
        message = json.loads(request.body)
        assert h["idempotency-key"] == message["message_id"]
        status = self.answers.pop(0) if self.answers else 200
        self.received.append((status, message))
        if status < 300:
            self.delivered.setdefault(message["message_id"], message)
        return Reply(status, {"receipt": "prov-" + message["message_id"][:8]} if status < 300 else {})

    def settings(self, loop, name: str):
        return loop.settings_file(name, gateway="webhook", url=self.url, secret=WEBHOOK_SECRET)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.server.close()


def test_a_gateway_answering_500_then_200_sends_one_message(loop):
    case, phone = new_case(), "13911110003"
    loop.post_case(case, phone)
    loop.upload(loop.deposit(case, "730551"))
    with ProvinceSms(500) as sms:
        settings = sms.settings(loop, "webhook.toml")
        first = loop.notify(T0, settings)
        assert first["retrying"] == 1
        row = [n for n in loop.notices() if n["case_number"] == case][0]
        assert row["state"] == "pending" and row["attempts"] == 1 and row["last_error"] == "http_500"
        assert row["next_attempt_at"] is not None
        loop.notify(T0 + timedelta(seconds=59), settings)   # backoff_s = 60: not yet
        assert len(sms.received) == 1
        loop.notify(T0 + timedelta(seconds=61), settings)
        loop.notify(T0 + timedelta(seconds=62), settings)
    assert [status for status, _ in sms.received] == [500, 200]
    assert sms.received[0][1]["message_id"] == sms.received[1][1]["message_id"]
    assert [m["params"]["code"] for m in sms.delivered.values() if m["phone"] == phone] == ["730551"]
    row = [n for n in loop.notices() if n["case_number"] == case][0]
    assert (row["state"], row["attempts"], row["last_error"]) == ("sent", 2, None)
    assert (row["gateway"], row["gateway_ref"]) == ("webhook", "prov-" + row["id"][:8])


def test_a_message_that_keeps_failing_is_dead_and_shown_to_operators_with_its_reason(loop):
    refused, flaky = new_case(), new_case()
    loop.post_case(refused, "13911110004")
    loop.post_case(flaky, "13911110005")
    with ProvinceSms(400, 503, 503, 503) as sms:
        settings = sms.settings(loop, "failing.toml")
        loop.upload(loop.deposit(refused, "200001"))
        loop.notify(T0, settings)                            # 400: final at once
        loop.upload(loop.deposit(flaky, "200002"))
        for minutes in (0, 2, 6, 20):                        # 503 three times: max_attempts = 3
            loop.notify(T0 + timedelta(minutes=minutes), settings)
        assert sms.delivered == {}
    failed = {n["case_number"]: n for n in loop.notices(state="failed")}
    assert failed[refused]["attempts"] == 1 and failed[refused]["last_error"] == "http_400"
    assert failed[flaky]["attempts"] == 3 and failed[flaky]["last_error"] == "http_503"
    assert failed[flaky]["phone_masked"] == "139****0005"
    cli = subprocess.run([str(KIOSK), "central", "notices", "--failed", "--json", "--db",
                          str(loop.central.db)], capture_output=True, text=True, cwd=ROOT, env=loop.env(),
                         timeout=NOTIFY_TIMEOUT_S)
    assert cli.returncode == 0, cli.stderr
    listed = {n["case_number"]: n for n in json.loads(cli.stdout)["notices"]}
    assert listed[flaky]["last_error"] == failed[flaky]["last_error"]
    assert "13911110005" not in cli.stdout and "200002" not in cli.stdout


def test_a_notifier_killed_while_sending_and_started_again_sends_one_message(loop, tmp_path):
    case, phone = new_case(), "13911110006"
    loop.post_case(case, phone)
    loop.upload(loop.deposit(case, "661204"))
    settings = loop.settings_file("hang.toml", gateway="tests.central.hanging_gateway:HangingFileGateway",
                                  hang_once=str(tmp_path / "hung"))
    proc = subprocess.Popen(loop.notify_cmd(T0, settings), cwd=ROOT, env=loop.env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + NOTIFY_TIMEOUT_S
        while not (tmp_path / "hung").exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert (tmp_path / "hung").exists(), "the notifier never reached the gateway"
        assert len(loop.messages(phone=phone)) == 1          # sent, not yet recorded
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    row = [n for n in loop.notices() if n["case_number"] == case][0]
    assert (row["state"], row["attempts"]) == ("sending", 1)
    loop.notify(T0 + timedelta(seconds=60), settings)      # the lease (120 s) still holds: left alone
    row = [n for n in loop.notices() if n["case_number"] == case][0]
    assert (row["state"], row["attempts"]) == ("sending", 1)
    loop.notify(T0 + timedelta(seconds=121), settings)     # taken over, sent again under the same message id
    row = [n for n in loop.notices() if n["case_number"] == case][0]
    assert (row["state"], row["attempts"]) == ("sent", 2)
    assert len(loop.messages(phone=phone)) == 1


def test_reminders_go_once_the_day_before_the_deadline_and_once_at_it_while_the_item_is_held(loop):
    held, collected, short = new_case(), new_case(), new_case()
    loop.post_case(held, "13911110007")
    loop.post_case(collected, "13911110008")
    loop.post_case(short, "13911110009", hold_days=1)
    start = T0 + timedelta(hours=1)
    due = start + timedelta(days=7)
    loop.upload(loop.deposit(held, "310001", at=start), loop.deposit(collected, "310002", at=start),
                loop.deposit(short, "310003", at=start + timedelta(days=6), hold_days=1))
    loop.notify(start)
    loop.upload(loop.ended("pickup", collected, at=due - timedelta(hours=30)))
    for hours in (-25, -23, -22, -0.5, 1, 2, 30):
        loop.notify(due + timedelta(hours=hours))

    def templates(phone):
        return [m["template"] for m in loop.messages(phone=phone)]

    assert templates("13911110007") == ["pickup_ready", "pickup_reminder", "pickup_overdue"]
    assert templates("13911110008") == ["pickup_ready"]
    assert templates("13911110009") == ["pickup_ready", "pickup_overdue"]   # a one-day hold: no day-before
    reminder, overdue = loop.messages(phone="13911110007")[1:]
    assert reminder["params"]["code"] == overdue["params"]["code"] == "310001"
    assert reminder["params"]["link"] == overdue["params"]["link"] == loop.messages(phone="13911110007")[0]["params"]["link"]
    assert "到期" in reminder["text"] and "仍可使用" in overdue["text"]


def test_reminders_can_be_switched_off(loop):
    case = new_case()
    loop.post_case(case, "13911110010")
    start = T0 + timedelta(days=20)
    loop.upload(loop.deposit(case, "320001", at=start))
    quiet = loop.settings_file("quiet.toml", reminders=False)
    for days in (0, 6.5, 8):
        loop.notify(start + timedelta(days=days), quiet)
    assert [m["template"] for m in loop.messages(phone="13911110010")] == ["pickup_ready"]


def test_the_applicants_phone_is_deleted_retention_days_after_the_item_is_collected(loop):
    case, phone = new_case(), "13911110011"
    loop.post_case(case, phone)
    loop.upload(loop.deposit(case, "400001"))
    loop.notify(T0)
    picked = T0 + timedelta(days=1)
    loop.upload(loop.ended("pickup", case, at=picked, via="code", id_checked=True, overdue=False))
    assert loop.lookup(case).json()["state"] == "collected"
    assert loop.notify(picked + timedelta(days=30, minutes=-1))["phones_deleted"] == 0
    assert loop.lookup(case).json()["phone_masked"] == "139****0011"
    assert loop.notify(picked + timedelta(days=30, minutes=1))["phones_deleted"] == 1
    info = loop.lookup(case).json()
    assert info["phone_masked"] is None and info["state"] == "collected"
    detail = loop.central.call("GET", f"/api/v1/cases/{case}", operator="op").json()
    assert detail["phone_deleted_at"] is not None and detail["phone_masked"] is None
    assert loop.query("SELECT phone, phone_masked, body_hash FROM cases WHERE case_number = :case", case=case) == [
        {"phone": None, "phone_masked": None, "body_hash": None}]
    again = loop.post_case(case, phone)   # a closed case does not take a number again
    assert again.status_code == 409 and again.json()["error"] == "case_closed"


def page(loop, token: str) -> requests.Response:
    return requests.get(f"{loop.central.url}/p/{token}", timeout=10)


def test_the_pickup_page_shows_the_code_and_its_qr_while_held_and_what_happened_after(loop):
    held, collected, recalled = new_case(), new_case(), new_case()
    for n, case in enumerate((held, collected, recalled)):
        loop.post_case(case, f"1391111002{n}")
        loop.upload(loop.deposit(case, f"52000{n}", door=10 + n))
    loop.notify(T0)
    tokens = [link_token(loop.messages(phone=f"1391111002{n}")[0]) for n in range(3)]
    loop.upload(loop.ended("pickup", collected, door=11, at=T0 + timedelta(days=2, hours=3)),
                loop.ended("recall", recalled, door=12, at=T0 + timedelta(days=8), staff_id="s01", reason="overdue"))

    res = page(loop, tokens[0])
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/html")
    assert res.headers["cache-control"] == "no-store" and res.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in res.headers["content-security-policy"]
    text = res.text
    for part in ("520000", "营业执照（副本）", "示例政务服务中心", "一楼东侧24小时自助区", "2026年11月29日", "<svg",
                 "身份证", 'name="viewport"'):
        assert part in text, part
    from kiosk.central.pickup_page import qr_svg
    assert qr_svg("520000") in text
    assert not re.search(r"\b(src|href)\s*=|@import|url\(", text)   # nothing loaded from elsewhere
    assert "13911110020" not in text and "****" not in text            # no phone on the page, not even masked

    done = page(loop, tokens[1]).text
    assert "已领取" in done and "2026年11月24日" in done and "<svg" not in done and "520001" not in done
    back = page(loop, tokens[2]).text
    assert "服务窗口" in back and "<svg" not in back and "520002" not in back

    for bad in ("A" * 22, "short", "x" * 200):
        missing = page(loop, bad)
        assert missing.status_code == 404 and "链接无效" in missing.text
        assert missing.headers["cache-control"] == "no-store"
    assert notice_key.token_digest(tokens[0]) not in res.text
    log = loop.central.server.log.read_text(encoding="utf-8")
    assert tokens[0] not in log and "/p/…" in log


def test_materials_handed_in_are_listed_for_the_case_and_its_staff_are_told(loop):
    case, quiet = new_case(), new_case()
    loop.post_case(case, "13911110030", staff_mobile="13922220030", department="市场监管局")
    loop.post_case(quiet, "13911110031")
    handin = item_of(loop, "handin", case, door=5, handed_in_at="2026-11-23T22:15:00+08:00", receipt_no="R-0001",
                     hall="示例政务服务中心")
    nothing = item_of(loop, "handin", quiet, door=6, handed_in_at="2026-11-23T22:20:00+08:00", receipt_no="R-0002")
    assert [r["status"] for r in loop.upload(handin, handin, nothing)] == ["accepted", "duplicate", "accepted"]
    assert loop.lookup(case).json()["handins"] == 1
    loop.notify(T0 + timedelta(days=1, hours=13))
    loop.notify(T0 + timedelta(days=1, hours=14))
    staff = loop.messages(phone="13922220030")
    assert len(staff) == 1 and staff[0]["template"] == "handin_received"
    assert staff[0]["params"] == {"case": case, "hall": "示例政务服务中心", "kiosk": "k1", "door": "5",
                                  "receipt_no": "R-0001", "time": "11月23日22:15"}
    assert loop.messages(phone="13911110030") == []              # the applicant is not told
    skipped = [n for n in loop.notices(state="skipped") if n["case_number"] == quiet]
    assert len(skipped) == 1 and "staff_mobile" in skipped[0]["last_error"]
    loop.upload(loop.ended("recall", case, door=5, at=T0 + timedelta(days=2), what="handin", staff_id="s01"))
    detail = loop.central.call("GET", f"/api/v1/cases/{case}", operator="op").json()
    assert [(h["door"], h["receipt_no"], h["state"]) for h in detail["handins"]] == [(5, "R-0001", "collected")]
    assert detail["staff_phone_masked"] == "139****0030" and detail["state"] == "awaiting_deposit"


def item_of(loop, kind: str, case: str, **data) -> dict:
    from tests.central.conftest import item
    return item(seq=1, kind=kind, occurred_at=data.get("handed_in_at", "2026-11-23T22:15:00+08:00"),
                data={"case_number": case, **data})


def test_the_pages_qr_code_read_back_from_a_real_browser_is_the_kiosks_pickup_qr(loop, tmp_path):
    # never skipped: scripts/system-packages.sh installs both for `make test`
    assert shutil.which("chromium") and shutil.which("zbarimg"), "chromium and zbarimg (zbar-tools) are missing: " \
        "run `make test` as root once, or `sudo apt-get install chromium zbar-tools`"
    case, phone = new_case(), "13911110040"
    loop.post_case(case, phone)
    loop.upload(loop.deposit(case, "907316"))
    loop.notify(T0)
    url = loop.messages(phone=phone)[0]["params"]["link"].replace("https://hall.example.gov.cn/pickup",
                                                                 loop.central.url)
    shot = tmp_path / "page.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=412,915", f"--screenshot={shot}", url],
                   capture_output=True, timeout=90, cwd=tmp_path)
    assert shot.exists(), "chromium made no screenshot"
    keep = ROOT / "tests" / "artifacts" / "central"
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, keep / "pickup-page.png")   # to look at: the page as the applicant's phone shows it
    read = subprocess.run(["zbarimg", "--raw", "-q", str(shot)], capture_output=True, text=True, timeout=30)
    assert read.stdout.strip() == "KIOSK-PICKUP:907316"


def test_a_corrected_phone_number_gets_the_notice_again_at_the_new_number(loop):
    case = new_case()
    loop.post_case(case, "13911110060")
    loop.upload(loop.deposit(case, "240601"))
    loop.notify(T0)
    assert loop.post_case(case, "13911110061").json()["status"] == "updated"
    loop.notify(T0 + timedelta(minutes=1))
    loop.notify(T0 + timedelta(minutes=2))
    assert [m["params"]["code"] for m in loop.messages(phone="13911110060")] == ["240601"]
    assert [m["params"]["code"] for m in loop.messages(phone="13911110061")] == ["240601"]
    rows = [n for n in loop.notices() if n["case_number"] == case]
    assert [(n["template"], n["state"], n["attempts"], n["phone_masked"]) for n in rows] == [
        ("pickup_ready", "sent", 1, "139****0061")]
    assert loop.post_case(case, "13911110061").json()["status"] == "unchanged"
    loop.notify(T0 + timedelta(minutes=3))
    assert len(loop.messages(phone="13911110061")) == 1


def test_the_platform_started_with_notify_sends_by_itself(tmp_path, platform_db):
    lp = start_loop(tmp_path, notify_thread=True, db=platform_db)
    try:
        case, phone = new_case(), "13911110050"
        lp.post_case(case, phone)
        lp.upload(lp.deposit(case, "815273"))
        deadline = time.monotonic() + 20
        while not lp.messages(phone=phone) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [m["params"]["code"] for m in lp.messages(phone=phone)] == ["815273"]
    finally:
        assert lp.central.server.stop() == 0   # SIGTERM stops the notifier's thread too


def queued_cases(db, count: int, now: float) -> list[str]:
    """`count` cases posted, each with a `pickup_ready` message queued (pending); the messages' ids."""
    from kiosk.central import sms_queue
    from kiosk.central.cases import CaseBook, CaseUpload
    from tests.central.pickup_kit import HASH_KEY, id_number

    book, ids = CaseBook(db, db.seal, HASH_KEY, db.clock), []
    for n in range(count):
        case = new_case()
        book.post(CaseUpload.model_validate({"case_number": case, "item_name": "营业执照", "hold_days": 7,
                                             "applicant_id_number": id_number(n), "needs_id_card": False,
                                             "applicant_mobile": f"139111{n:05d}"}), "op")
        with db.begin() as conn:
            assert sms_queue.enqueue(conn, f"deposit-{case}", "pickup_ready", "k1", case, now)
            assert not sms_queue.enqueue(conn, f"deposit-{case}", "pickup_ready", "k1", case, now)   # queued once
        ids.append(sms_queue.message_id(f"deposit-{case}", "pickup_ready"))
    return ids


def test_notifiers_claiming_at_once_each_take_other_messages_and_every_message_once(platform_db):
    """Four notifiers' claims side by side, each on a database connection of its own (PostgreSQL: workers at
    READ COMMITTED, SQLite: one writer at a time): every message is claimed exactly once, and a notifier
    never stops early while messages are due."""
    import threading

    from kiosk.central import sms_queue
    from kiosk.central.db import CentralDB

    now = T0.timestamp()
    dbs = [CentralDB(platform_db) for _ in range(4)]
    try:
        ids = queued_cases(dbs[0], 40, now)
        claimed: list[list[str]] = [[] for _ in dbs]
        start = threading.Barrier(len(dbs))

        def notifier(db, mine: list[str]) -> None:
            start.wait(30)
            while True:
                with db.begin() as conn:
                    claim = sms_queue.claim(conn, now, 120)
                if claim is None:
                    return
                assert claim.attempts == 1
                mine.append(claim.id)

        threads = [threading.Thread(target=notifier, args=(db, mine), daemon=True) for db, mine in zip(dbs, claimed)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        everything = [i for mine in claimed for i in mine]
        assert sorted(everything) == sorted(ids)             # each once: none twice, none left behind
        with dbs[0].reading() as conn:
            assert {r["state"] for r in sms_queue.listing(conn) if r["id"] in ids} == {"sending"}
        with dbs[0].begin() as conn:   # a lease that has not run out is not taken over; one that has is, again
            assert sms_queue.claim(conn, now + 119, 120) is None
        with dbs[1].begin() as conn:
            again = sms_queue.claim(conn, now + 121, 120)
        assert again is not None and again.attempts == 2
    finally:
        for db in dbs:
            db.close()


def test_a_message_queued_while_its_case_was_posted_elsewhere_goes_at_the_next_pass(platform_db):
    """A deposit stored by one worker while another posts its case may not see the case (READ COMMITTED): its
    message waits although the case is there. The notifier's pass lets it go."""
    from sqlalchemy import text

    from kiosk.central import sms_queue
    from kiosk.central.db import CentralDB

    now = T0.timestamp()
    with CentralDB(platform_db) as db:
        [first] = queued_cases(db, 1, now)
        with db.begin() as conn:   # as if queued before its case was seen
            conn.execute(text("UPDATE sms_queue SET state = 'waiting' WHERE id = :id"), {"id": first})
            assert sms_queue.enqueue(conn, "deposit-nocase", "pickup_ready", "k1", "SXNOSUCHCASE", now)
            assert sms_queue.release_arrived(conn, now) == 1
        with db.reading() as conn:
            states = {r["id"]: r["state"] for r in sms_queue.listing(conn)}
        assert states == {first: "pending", sms_queue.message_id("deposit-nocase", "pickup_ready"): "waiting"}


def test_no_full_phone_or_plain_code_is_left_in_the_platforms_files_but_the_sms_gateways(loop):
    """Run last in the module: every database, log and settings file of the platform and its notifiers (on
    PostgreSQL the database's own files after a checkpoint, and the server's log)."""
    sent = loop.messages()
    elsewhere = {"phones": {"13911110003", "13911110004", "13911110005"}, "codes": {"730551", "200001", "200002"}}
    phones = {m["phone"] for m in sent} | elsewhere["phones"]
    codes = {m["params"]["code"] for m in sent if "code" in m["params"]} | elsewhere["codes"]
    files = loop.platform_files()
    names = {p.name for p in files}
    assert names >= {"central.log", "notify.log", "central.toml"}
    if loop.engine_name == "sqlite":
        assert names >= {"central.db", "central.db-wal"}
    else:
        assert sum(p.parent.parent.name == "base" for p in files) > 100   # the database's own files
    for path in files:
        data = path.read_bytes()
        for value in phones | codes:
            assert not leaks(data, value), f"{value} in {path.name}"
    carrier = loop.sms_file.read_bytes()
    assert all(leaks(carrier, c) for c in codes - elsewhere["codes"])


def test_the_leak_check_finds_a_value_beside_a_digest_and_passes_one_inside_an_id():
    digest, code = "ab" * 32, "483920"
    assert leaks(f'"code":"{code}"'.encode(), code) == 1
    assert leaks(f"{digest}{code}".encode(), code) == 1           # a column stored after a hash
    assert leaks(f"x{digest[:26]}{code}".encode(), code) == 0      # inside a 32-digit id: chance
