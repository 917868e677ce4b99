"""The help requests page (kiosk/central/console/help_requests.py) over HTTP against the real platform, on
both engines, and the operators' API beside the fleet's (GET /api/v1/help-requests).

A "Call staff" from a kiosk shows, newest first, with its kiosk, hall, screen and age; the same transaction
sent again (a kiosk that did not hear the answer) makes one row; staff of the hall mark it handled with a
note, audited; another hall's staff neither see it nor may mark it; an auditor reads and changes nothing.
"""
from __future__ import annotations

import html
import re

from tests.console.conftest import Console, _seq
from tests.central.conftest import item


def rows(page: str) -> list[str]:
    return re.findall(r'data-help="([^"]+)"', page)


def test_staff_see_their_halls_help_requests_newest_first_and_mark_one_handled(console: Console):
    first = console.call_staff("k1", "guides", ago_s=90)
    latest = console.call_staff("k1", "pickup")
    other = console.call_staff("k2", "tickets")   # hall-b's
    a = console.sign_in("staff-a")
    page = a.get(console.url + "/console/help", timeout=10).text
    mine = [r for r in rows(page) if r in (first, latest, other)]
    assert mine == [latest, first], "staff of hall-a see their hall's requests only, the newest first"
    row = page[page.index(f'data-help="{latest}"'):]
    row = row[:row.index("</tr>")]
    assert "k1" in row and "一号政务服务中心" not in row   # staff: their hall is the page's
    # where the citizen was, by the service's name on the kiosk, not the screen's key
    assert '<td data-screen="pickup">证照领取</td>' in row
    assert re.search(r"\d+ ?(秒|分钟)前", row), "the request's age, in the page's language"

    a.get(console.url + "/console/lang?to=en", timeout=10)
    english = a.get(console.url + "/console/help", timeout=10).text
    assert '<td data-screen="guides">Service guides</td>' in english
    a.get(console.url + "/console/lang?to=zh_CN", timeout=10)

    b = console.sign_in("staff-b")
    r = b.post(console.url + f"/console/help/{latest}/handle", timeout=10,
               data={"note": "not mine", "csrf": console.csrf(b)})
    assert r.status_code == 404, "another hall's request is not found"

    audit = console.sign_in("audit")
    r = audit.post(console.url + f"/console/help/{latest}/handle", timeout=10,
                   data={"note": "x", "csrf": console.csrf(audit)})
    assert r.status_code == 403

    r = a.post(console.url + f"/console/help/{latest}/handle", timeout=10,
               data={"note": "值班员已到3号机旁", "csrf": console.csrf(a), "next": "/console/help"})
    assert r.status_code == 200 and r.url.endswith("/console/help")
    assert latest not in rows(r.text) and first in rows(r.text)
    handled = a.get(console.url + "/console/help?state=handled", timeout=10).text
    assert latest in rows(handled) and "值班员已到3号机旁" in html.unescape(handled)
    log = a.get(console.url + "/console/audit", timeout=10).text
    assert "help.handle" in log and latest in log

    ops = console.central.call("GET", "/api/v1/help-requests?state=open", operator="op")
    assert ops.status_code == 200, ops.text
    listed = {h["id"]: h for h in ops.json()["help_requests"]}
    assert first in listed and other in listed and latest not in listed
    assert listed[other]["hall"] == "hall-b" and listed[other]["screen"] == "tickets"
    assert listed[other]["kiosk_id"] == "k2" and listed[other]["handled_at"] is None
    hall_a = console.central.call("GET", "/api/v1/help-requests?state=handled&hall=hall-a", operator="op").json()
    assert [h["id"] for h in hall_a["help_requests"] if h["id"] == latest] == [latest]
    assert hall_a["help_requests"][0]["handled_by"] == "staff-a"
    refused = console.central.call("GET", "/api/v1/help-requests", kiosk="k1")
    assert refused.status_code in (401, 403), "kiosks do not read the hall's help requests"


def test_a_help_request_sent_twice_is_one_row_and_holds_no_personal_data(console: Console):
    again = item(seq=_seq(), kind="help", data={"screen": "documents", "hall": "一号政务服务中心",
                                                  "name": "张三", "id_number": "110101199003071234"})
    r = console.central.call("POST", "/api/v1/transactions", {"kiosk_id": "k1", "items": [again]}, kiosk="k1")
    statuses = [x["status"] for x in r.json()["results"]]
    r = console.central.call("POST", "/api/v1/transactions", {"kiosk_id": "k1", "items": [again]}, kiosk="k1")
    assert statuses == ["accepted"] and [x["status"] for x in r.json()["results"]] == ["duplicate"]
    page = console.sign_in("ops").get(console.url + "/console/help", timeout=10).text
    assert rows(page).count(again["id"]) == 1
    # what is not what a kiosk writes never reaches the row, nor the page
    assert "张三" not in page and "110101199003071234" not in page
