"""The ratings page (kiosk/central/console/ratings.py) over HTTP against the real platform, on both engines.

The counts per level, service and hall; a poor rating followed up by its hall's staff from 待处理 to 办结,
its history on the page and each step in the audit log; a step backward, the same step again, a rating
that needs no follow-up and a form without a note refused; another hall's staff told "not found"; an
auditor refused and shown no form; a forged CSRF token refused. Each refusal changes nothing.

The platform is shared by the module's tests: each rates services of its own, and compares the level and
hall counts before and after its ratings.
"""
from __future__ import annotations

import html
import json
import re
import uuid
from datetime import datetime, timedelta, timezone

import requests
from sqlalchemy import text

from kiosk.central import database
from tests.central.conftest import item
from tests.console.conftest import Console, _seq

STEPS = ("callback", "rectify", "review", "closed")


def query(console: Console, sql: str, **params) -> list[dict]:
    engine = database.open_engine(console.central.db, pool_size=1)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(text(sql), params).mappings()]
    finally:
        engine.dispose()


def rating_row(console: Console, transaction_id: str) -> dict:
    return query(console, "SELECT * FROM ratings WHERE transaction_id = :id", id=transaction_id)[0]


def steps_of(console: Console, transaction_id: str) -> list[tuple[str, str, str]]:
    return [(r["user_name"], r["state"], r["note"]) for r in query(
        console, "SELECT * FROM rating_followups WHERE transaction_id = :id ORDER BY rowid", id=transaction_id)]


def audited(console: Console, transaction_id: str) -> list[tuple[str, dict]]:
    return [(r["user_name"], json.loads(r["detail"])) for r in query(
        console, "SELECT * FROM console_audit WHERE action = 'rating.follow_up' AND target = :id ORDER BY rowid",
        id=transaction_id)]


def cells(page: str, attr: str, value: str) -> list[str] | None:
    """The text of each cell of the row `<tr {attr}="{value}">`, or None when the page has no such row."""
    found = re.search(rf'<tr [^>]*{attr}="{re.escape(value)}"[^>]*>(.*?)</tr>', page, re.S)
    if found is None:
        return None
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split())
            for c in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)]


def level_counts(page: str) -> dict[int, int]:
    return {level: int(cells(page, "data-level", str(level))[2]) for level in range(1, 6)}


def hall_count(page: str, hall: str) -> int:
    row = cells(page, "data-hall", hall)
    return int(row[1]) if row else 0


def today_count(page: str) -> int:
    """The ratings of today's column, the last of the chart (its title: "12-07：共 7 条评价，满意率 …")."""
    titles = re.findall(r'<li data-day="[-0-9]+" title="([^"]*)"', page)
    return int(re.search(r"共 (\d+) 条评价", html.unescape(titles[-1])).group(1))


def ratings_page(console: Console, session: requests.Session, query_string: str = "") -> str:
    r = session.get(console.url + "/console/ratings" + query_string, timeout=10)
    assert r.status_code == 200, r.text[:500]
    return r.text


def follow_up(console: Console, session: requests.Session, transaction_id: str, state: str, note: str,
              csrf: str | None = None) -> requests.Response:
    return session.post(console.url + f"/console/ratings/{transaction_id}/followup", timeout=10, data={
        "csrf": console.csrf(session) if csrf is None else csrf, "state": state, "note": note,
        "next": "/console/ratings"})


def test_the_page_counts_ratings_per_level_service_and_hall(console):
    ops = console.sign_in("ops")
    before = ratings_page(console, ops)
    for level in (5, 5, 4, 2):
        console.rate("k1", level, "counted-a")
    for level in (3, 1):
        console.rate("k2", level, "counted-b")
    page = ratings_page(console, ops)
    was, now = level_counts(before), level_counts(page)
    assert {level: now[level] - was[level] for level in now} == {5: 2, 4: 1, 3: 1, 2: 1, 1: 1}
    assert (hall_count(page, "hall-a") - hall_count(before, "hall-a"),
            hall_count(page, "hall-b") - hall_count(before, "hall-b")) == (4, 2)
    assert cells(page, "data-service", "counted-a") == ["counted-a", "4", "75.0%", "1"]
    assert cells(page, "data-service", "counted-b") == ["counted-b", "2", "0.0%", "1"]
    assert today_count(page) - today_count(before) == 6
    assert "满意率" in page and "非常满意" in page

    one_hall = ratings_page(console, ops, "?hall=hall-b")
    assert cells(one_hall, "data-service", "counted-a") is None and cells(one_hall, "data-service", "counted-b")

    staff = console.sign_in("staff-a")
    for asked in ("", "?hall=hall-b"):   # staff see their hall whatever the address asks
        theirs = ratings_page(console, staff, asked)
        assert cells(theirs, "data-service", "counted-a") and cells(theirs, "data-service", "counted-b") is None
        assert cells(theirs, "data-hall", "hall-b") is None and 'name="hall"' not in theirs


def test_the_period_counts_whole_days_back_from_today(console):
    forty_days_ago = (datetime.now(timezone.utc) - timedelta(days=40)).isoformat(timespec="seconds")
    old = item(seq=_seq(), kind="rating", occurred_at=forty_days_ago,
               data={"service": "long-ago", "level": 1, "level_key": "very_dissatisfied", "reasons": []})
    console.send("k1", old)
    ops = console.sign_in("ops")
    assert cells(ratings_page(console, ops), "data-service", "long-ago") is None   # 30 days by default
    assert cells(ratings_page(console, ops, "?days=7"), "data-service", "long-ago") is None
    quarter = ratings_page(console, ops, "?days=90")
    assert cells(quarter, "data-service", "long-ago") == ["long-ago", "1", "0.0%", "1"]
    assert f'data-rating="{old["id"]}"' in quarter and "按周" in quarter


def test_staff_follow_up_a_poor_rating_of_their_hall_from_waiting_to_concluded(console):
    rated = console.rate("k1", 1, "follow-me", ["It took too long", "柜员态度"])
    staff = console.sign_in("staff-a")
    row = cells(ratings_page(console, staff), "data-rating", rated)
    assert row is not None
    assert "k1" in row[1] and "一号政务服务中心" in row[1] and row[2] == "follow-me" and row[3] == "非常不满意"
    # a kiosk's own reason in the reader's language, one an operator configured as given
    assert row[4] == "等候时间太长 柜员态度"
    assert row[5].startswith("待处理")
    notes = {"callback": "已电话回访市民，反映排队时间长", "rectify": "增开一个取件窗口",
             "review": "科长复核：窗口已增开", "closed": "办结"}
    for state, note in notes.items():
        r = follow_up(console, staff, rated, state, note)
        assert r.status_code == 200 and r.url.endswith("/console/ratings"), (state, r.status_code, r.url)
    assert steps_of(console, rated) == [("staff-a", state, note) for state, note in notes.items()]
    row = rating_row(console, rated)
    assert (row["followup_state"], row["followup_by"]) == ("closed", "staff-a") and row["followup_at"]
    assert audited(console, rated) == [("staff-a", {"state": state, "note": note}) for state, note in notes.items()]

    page = ratings_page(console, staff, "?state=closed")
    shown = cells(page, "data-rating", rated)
    assert shown[5].startswith("办结")
    for state, word in (("callback", "回访"), ("rectify", "整改"), ("review", "复核")):
        assert f"{word} · staff-a" in shown[5] and notes[state] in shown[5]
    assert f"/console/ratings/{rated}/followup" not in page   # a concluded rating has no form
    assert cells(ratings_page(console, staff, "?state=open"), "data-rating", rated) is None


def test_a_follow_up_moves_forward_only(console):
    rated = console.rate("k1", 2, "forward-only")
    staff = console.sign_in("staff-a")
    assert follow_up(console, staff, rated, "rectify", "未回访，直接整改").status_code == 200   # a step skipped
    for back in ("callback", "rectify"):
        r = follow_up(console, staff, rated, back, "退回")
        assert r.status_code == 403 and "跟进只能向前推进" in r.text, back
    for state, note, says in (("open", "x", "请选择跟进已到达的步骤"), ("done", "x", "请选择跟进已到达的步骤"),
                              ("closed", "   ", "请为这一步填写备注")):
        r = follow_up(console, staff, rated, state, note)
        assert r.status_code == 403 and says in r.text, state
    assert rating_row(console, rated)["followup_state"] == "rectify"
    assert steps_of(console, rated) == [("staff-a", "rectify", "未回访，直接整改")]
    assert len(audited(console, rated)) == 1

    fine = console.rate("k1", 4, "forward-only")
    r = follow_up(console, staff, fine, "callback", "不需要")
    assert r.status_code == 403 and "只有差评" in r.text
    assert rating_row(console, fine)["followup_state"] == "none" and steps_of(console, fine) == []


def test_another_halls_staff_get_not_found_and_change_nothing(console):
    rated = console.rate("k2", 1, "hall-b-only", ["It took too long"])
    staff = console.sign_in("staff-a")
    assert f'data-rating="{rated}"' not in ratings_page(console, staff)
    r = follow_up(console, staff, rated, "callback", "不是我们大厅的")
    assert r.status_code == 404
    assert follow_up(console, staff, str(uuid.uuid4()), "callback", "没有这条").status_code == 404
    assert rating_row(console, rated)["followup_state"] == "open"
    assert steps_of(console, rated) == [] and audited(console, rated) == []
    other = console.sign_in("staff-b")
    assert follow_up(console, other, rated, "callback", "已回访").status_code == 200
    assert rating_row(console, rated)["followup_by"] == "staff-b"


def test_an_auditor_is_refused_and_sees_no_forms(console):
    rated = console.rate("k1", 1, "audited")
    auditor = console.sign_in("audit")
    page = ratings_page(console, auditor)
    assert f'data-rating="{rated}"' in page and "/followup" not in page
    r = follow_up(console, auditor, rated, "callback", "审计不应能改")
    assert r.status_code == 403 and "审计账号只能查看" in r.text
    assert rating_row(console, rated)["followup_state"] == "open" and steps_of(console, rated) == []


def test_a_forged_csrf_token_changes_nothing(console):
    rated = console.rate("k1", 2, "forged")
    ops = console.sign_in("ops")
    for forged in ("", "x" * 43, console.csrf(console.sign_in("staff-a"))):   # another session's token too
        r = follow_up(console, ops, rated, "callback", "forged", csrf=forged)
        assert r.status_code == 403, forged
    assert rating_row(console, rated)["followup_state"] == "open"
    assert steps_of(console, rated) == [] and audited(console, rated) == []
