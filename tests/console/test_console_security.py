"""Who may see and change what in the console, over HTTP against the real platform, on both engines.

Every console route without a session goes to the sign-in page; a staff account sees its own hall only
and changes nothing of another's; an auditor changes nothing; a forged CSRF token changes nothing; wrong
passwords are throttled; the audit log holds every change; the session cookie is HttpOnly and SameSite.
"""
from __future__ import annotations

import re
import tempfile

import requests
from sqlalchemy import text

from kiosk.central import database
from kiosk.central.app import create_app
from kiosk.central.db import CentralDB
from tests.console.conftest import PASSWORD, Console


def _routes(routes):
    for route in routes:
        inner = getattr(route, "original_router", None)   # FastAPI keeps an included router whole
        yield from _routes(inner.routes) if inner is not None else [route]


def console_routes() -> list[tuple[str, str]]:
    """(method, path) of every console route of the app as built, path parameters filled in."""
    with tempfile.TemporaryDirectory() as tmp, CentralDB(f"{tmp}/c.db") as db:
        app = create_app(db)
        found = []
        for route in _routes(app.routes):
            path = getattr(route, "path", "")
            if not path.startswith("/console") or path.startswith("/console/static"):
                continue
            for method in sorted(getattr(route, "methods", None) or ()):
                if method != "HEAD":
                    found.append((method, re.sub(r"\{[^}]+\}", "x1", path)))
        return found


def audit_rows(console: Console) -> list[dict]:
    engine = database.open_engine(console.central.db, pool_size=1)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(text(
                "SELECT user_name, action, target, detail FROM console_audit ORDER BY rowid")).mappings()]
    finally:
        engine.dispose()


def alarm_row(console: Console, raised_id: str) -> dict:
    engine = database.open_engine(console.central.db, pool_size=1)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT * FROM alarms WHERE raised_id = :id"), {"id": raised_id})
                        .mappings().one())
    finally:
        engine.dispose()


def test_every_console_route_without_a_session_goes_to_the_sign_in_page(console):
    routes = console_routes()
    assert ("GET", "/console/fleet") in routes and ("POST", "/console/alarms/x1/acknowledge") in routes
    open_ones = {("GET", "/console/login"), ("POST", "/console/login"), ("GET", "/console/lang")}
    for method, path in routes:
        if (method, path) in open_ones:
            continue
        r = requests.request(method, console.url + path, allow_redirects=False, timeout=10,
                             cookies={"kiosk_console": "not-a-session-token"})
        assert r.status_code == 303, (method, path, r.status_code)
        assert r.headers["location"].startswith("/console/login?next="), (method, path)


def test_signing_in_sets_an_http_only_same_site_cookie_and_signing_out_ends_the_session(console):
    s = requests.Session()
    s.get(console.url + "/console/login", timeout=10)
    r = s.post(console.url + "/console/login", allow_redirects=False, timeout=10, data={
        "name": "ops", "password": PASSWORD, "csrf": s.cookies.get("kiosk_console_login"), "next": "/console/alarms"})
    assert r.status_code == 303 and r.headers["location"] == "/console/alarms"
    cookie = r.headers["set-cookie"]
    assert "kiosk_console=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    token = r.cookies["kiosk_console"]
    assert s.get(console.url + "/console/fleet", timeout=10).status_code == 200
    csrf = console.csrf(s)
    assert s.post(console.url + "/console/logout", data={"csrf": csrf}, timeout=10).url.endswith("/console/login")
    r = requests.get(console.url + "/console/fleet", cookies={"kiosk_console": token}, allow_redirects=False,
                     timeout=10)
    assert r.status_code == 303   # the old token opens nothing


def test_a_sign_in_form_without_its_token_is_refused(console):
    r = requests.post(console.url + "/console/login", timeout=10,
                      data={"name": "ops", "password": PASSWORD, "csrf": "forged", "next": ""})
    assert r.status_code == 403 and "kiosk_console=" not in r.headers.get("set-cookie", "")


def test_a_next_address_off_the_console_is_not_followed(console):
    s = requests.Session()
    s.get(console.url + "/console/login", timeout=10)
    r = s.post(console.url + "/console/login", allow_redirects=False, timeout=10, data={
        "name": "ops", "password": PASSWORD, "csrf": s.cookies.get("kiosk_console_login"),
        "next": "//evil.example/console/"})
    assert r.headers["location"] == "/console/fleet"


def test_staff_see_their_own_hall_only(console):
    console.heartbeat("k1")
    console.heartbeat("k2")
    theirs = console.raise_alarm("k2", code="door_not_opened:5")
    a = console.sign_in("staff-a")
    fleet = a.get(console.url + "/console/fleet", timeout=10).text
    assert 'data-kiosk="k1"' in fleet and 'data-kiosk="k2"' not in fleet
    assert a.get(console.url + "/console/kiosks/k2", timeout=10).status_code == 404
    assert theirs not in a.get(console.url + "/console/alarms", timeout=10).text
    r = a.post(console.url + f"/console/alarms/{theirs}/acknowledge", timeout=10,
               data={"csrf": console.csrf(a), "note": "not mine"})
    assert r.status_code == 404 and alarm_row(console, theirs)["acked_by"] is None
    ops = console.sign_in("ops").get(console.url + "/console/fleet", timeout=10).text
    assert 'data-kiosk="k1"' in ops and 'data-kiosk="k2"' in ops
    one_hall = console.sign_in("ops").get(console.url + "/console/fleet?hall=hall-b", timeout=10).text
    assert 'data-kiosk="k1"' not in one_hall and 'data-kiosk="k2"' in one_hall


def test_staff_acknowledge_an_alarm_of_their_hall_with_a_note_and_the_audit_log_says_so(console):
    raised = console.raise_alarm("k1")
    a = console.sign_in("staff-a")
    r = a.post(console.url + f"/console/alarms/{raised}/acknowledge", timeout=10,
               data={"csrf": console.csrf(a), "note": "王师傅去关门", "next": "/console/alarms"})
    assert r.status_code == 200 and "王师傅去关门" in r.text
    row = alarm_row(console, raised)
    assert row["acked_by"] == "staff-a" and row["ack_note"] == "王师傅去关门"
    entry = [e for e in audit_rows(console) if e["action"] == "alarm.acknowledge" and e["target"] == raised]
    assert len(entry) == 1 and entry[0]["user_name"] == "staff-a" and "王师傅去关门" in entry[0]["detail"]


def test_an_auditor_reads_everything_and_changes_nothing(console):
    raised = console.raise_alarm("k2", code="paper_out", device="receipt_printer")
    audit = console.sign_in("audit")
    assert raised in audit.get(console.url + "/console/alarms", timeout=10).text
    r = audit.post(console.url + f"/console/alarms/{raised}/acknowledge", timeout=10,
                   data={"csrf": console.csrf(audit), "note": "x"})
    assert r.status_code == 403 and alarm_row(console, raised)["acked_by"] is None
    assert "/acknowledge" not in audit.get(console.url + "/console/alarms", timeout=10).text


def test_a_forged_csrf_token_changes_nothing(console):
    raised = console.raise_alarm("k1", code="door_stuck:2")
    ops = console.sign_in("ops")
    before = len(audit_rows(console))
    for forged in ("", "x" * 43, console.csrf(console.sign_in("staff-a"))):   # another session's token too
        r = ops.post(console.url + f"/console/alarms/{raised}/acknowledge", timeout=10,
                     data={"csrf": forged, "note": "forged"})
        assert r.status_code == 403, forged
    assert alarm_row(console, raised)["acked_by"] is None
    assert [e["action"] for e in audit_rows(console)[before:]] == ["login"]   # staff-a's sign-in only


def test_wrong_passwords_are_throttled_and_audited(console):
    s = requests.Session()
    for _ in range(5):
        s.get(console.url + "/console/login", timeout=10)
        r = s.post(console.url + "/console/login", timeout=10, data={
            "name": "staff-b", "password": "not the password", "csrf": s.cookies.get("kiosk_console_login")})
        assert r.status_code == 401
    s.get(console.url + "/console/login", timeout=10)
    r = s.post(console.url + "/console/login", timeout=10, data={
        "name": "staff-b", "password": PASSWORD, "csrf": s.cookies.get("kiosk_console_login")})
    assert r.status_code == 429 and "kiosk_console=" not in r.headers.get("set-cookie", "")
    actions = [e["action"] for e in audit_rows(console) if e["user_name"] == "staff-b"]
    assert actions.count("login.failed") == 5 and actions[-1] == "login.throttled"


def test_the_audit_log_page_lists_changes_and_staff_see_their_own(console):
    ops = console.sign_in("ops")
    page = ops.get(console.url + "/console/audit", timeout=10).text
    assert "user.add" in page and "staff-a" in page
    a = console.sign_in("staff-a")
    rows = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td>", a.get(console.url + "/console/audit", timeout=10).text)
    assert rows and set(rows) == {"staff-a"}


def test_pages_speak_chinese_first_and_english_on_request(console):
    s = console.sign_in("ops")
    assert "终端总览" in s.get(console.url + "/console/fleet", timeout=10).text
    r = s.get(console.url + "/console/lang?to=en&next=/console/alarms", timeout=10)
    assert r.url.endswith("/console/alarms") and "Acknowledge" in r.text or "No alarms." in r.text
    assert "终端总览" not in r.text
