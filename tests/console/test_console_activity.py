"""The activity page over HTTP against the real platform, on both engines: transactions stored through the
real intake show per day, per kind and service, per kiosk and per hour for 7, 30 or 90 days; staff see
their own hall only, an operator picks a hall, an auditor reads every hall; what a kiosk reports on itself
is left out, and a phone number written where a service goes never reaches the page.

One platform per module and engine (tests/console/conftest.py); the module's transactions are sent once and
every test reads them. Times are relative to the platform's clock: the page counts back from today.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from tests.central.conftest import item
from tests.central.pickup_kit import CST, rfc
from tests.console.conftest import Console
from tests.console.test_console_locker import rows

_counter = iter(range(80_000, 10**9))


def tx(kind: str, at: datetime, **data) -> dict:
    return item(seq=next(_counter), kind=kind, occurred_at=rfc(at), data=data)


@dataclass
class Scene:
    console: Console
    today: datetime    # midnight, on the halls' clock (+08:00)


@pytest.fixture(scope="module")
def scene(console):
    """k1 (hall-a) today: 3 payments for BIZ-LICENCE and a print between 09:00 and 10:00, a rating for
    BIZ-LICENCE at 10:10, and an alarm; 10 days ago 2 pickups; 40 days ago 5 prints. k2 (hall-b) yesterday at
    14:00: a ticket, a form, a payment for TAX, and a print whose "service" is a phone number."""
    midnight = datetime.now(CST).replace(hour=0, minute=0, second=0, microsecond=0)
    c, nine = console, midnight + timedelta(hours=9)
    c.send("k1", *[tx("payment", nine + timedelta(minutes=m), service="BIZ-LICENCE", amount_fen=500)
                   for m in (5, 20, 40)],
           tx("print", nine + timedelta(minutes=50), pages=2),
           tx("rating", nine + timedelta(minutes=70), service="BIZ-LICENCE", level=5),
           tx("alarm", nine, device="locker", code="door_stuck:2", state="raised", severity="fault"))
    c.send("k1", *[tx("pickup", midnight - timedelta(days=10) + timedelta(hours=11), door=d, case_number="C1")
                   for d in (1, 2)])
    c.send("k1", *[tx("print", midnight - timedelta(days=40) + timedelta(hours=16), pages=1) for _ in range(5)])
    afternoon = midnight - timedelta(days=1) + timedelta(hours=14)
    c.send("k2", tx("ticket", afternoon, business="A"), tx("form", afternoon, form="F1"),
           tx("payment", afternoon, service="TAX"), tx("print", afternoon, service="13912345678"))
    return Scene(console, midnight)


def activity(scene: Scene, account: str, query: str = "") -> str:
    r = scene.console.sign_in(account).get(scene.console.url + "/console/activity" + query, timeout=10)
    assert r.status_code == 200, r.text[:500]
    return r.text


def total(html: str) -> int:
    return int(re.search(r'data-total="(\d+)"', html).group(1))


def per_day(html: str) -> dict[str, int]:
    return {d: int(n) for d, n in re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td><td class=\"num\">(\d+)</td></tr>", html)}


def per_hour(html: str) -> dict[int, int]:
    found = {int(h): int(n) for h, n in re.findall(r"<title>(\d\d):00: (\d+)</title>", html)}
    assert sorted(found) == list(range(24))
    return {h: n for h, n in found.items() if n}


def kinds(html: str) -> dict[str, str]:
    return {r["key"]: r["text"] for r in rows(html, "data-kind")}


def kiosks(html: str) -> dict[str, str]:
    return {r["key"]: r["text"] for r in rows(html, "data-kiosk")}


def day(scene: Scene, days_ago: int) -> str:
    return (scene.today - timedelta(days=days_ago)).date().isoformat()


def test_the_last_7_days_per_day_kind_service_kiosk_and_hour(scene):
    html = activity(scene, "ops", "?days=7")
    assert total(html) == 9
    days = per_day(html)
    assert len(days) == 7 and max(days) == day(scene, 0) and min(days) == day(scene, 6)
    assert {d: n for d, n in days.items() if n} == {day(scene, 0): 5, day(scene, 1): 4}
    found = kinds(html)
    assert list(found) == ["payment", "print", "form", "rating", "ticket"]   # the most used first; no alarm
    assert found["payment"].startswith("缴费")
    assert "BIZ-LICENCE: 3" in found["payment"] and "TAX: 1" in found["payment"]
    assert found["payment"].endswith(" 4") and found["print"].endswith(" 2")
    assert list(kiosks(html)) == ["k1", "k2"]
    assert "一号政务服务中心 5" in kiosks(html)["k1"] and '<a href="/console/kiosks/k1">k1</a>' in html
    assert per_hour(html) == {9: 4, 10: 1, 14: 4}
    assert 'data-busiest="9"' in html and "09:00 至 10:00" in html


def test_30_and_90_days_reach_further_back_and_30_is_the_default(scene):
    assert total(activity(scene, "ops", "?days=30")) == 11
    assert per_day(activity(scene, "ops", "?days=30"))[day(scene, 10)] == 2
    html = activity(scene, "ops", "?days=90")
    assert total(html) == 16 and len(per_day(html)) == 90 and kinds(html)["print"].endswith(" 7")
    for odd in ("", "?days=365", "?days=x"):
        assert len(per_day(activity(scene, "ops", odd))) == 30


def test_staff_see_their_own_hall_only_whatever_hall_they_ask_for(scene):
    for query in ("?days=7", "?days=7&hall=hall-b"):
        html = activity(scene, "staff-a", query)
        assert total(html) == 5 and list(kiosks(html)) == ["k1"] and per_hour(html) == {9: 4, 10: 1}
        assert 'name="hall"' not in html
    html = activity(scene, "staff-b", "?days=7")
    assert total(html) == 4 and list(kiosks(html)) == ["k2"] and per_hour(html) == {14: 4}


def test_an_operator_picks_a_hall_and_an_auditor_reads_every_hall(scene):
    html = activity(scene, "ops", "?days=7&hall=hall-b")
    assert total(html) == 4 and list(kiosks(html)) == ["k2"] and per_hour(html) == {14: 4}
    assert '?days=30&amp;hall=hall-b"' in html   # the period's links keep the hall
    html = activity(scene, "audit", "?days=7")
    assert total(html) == 9 and list(kiosks(html)) == ["k1", "k2"]


def test_no_phone_number_appears(scene):
    for account in ("ops", "staff-b", "audit"):
        html = activity(scene, account, "?days=7")
        assert "13912345678" not in html and "139****5678" not in html
        assert kinds(html)["print"].endswith(" 1" if account == "staff-b" else " 2")   # counted, under no service
