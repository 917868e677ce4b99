"""The locker page over HTTP against the real platform, on both engines: what the pickup loop stored through
the real intake and the real notifier (`kiosk central notify`) shows as held, overdue first, with each
applicant's text sent or failing and why; the materials handed in that wait for staff; the counts on top;
staff see their own hall only, an auditor reads it, and no phone number appears, not even masked.

The platform is the pickup loop's (tests/central/pickup_kit.py: a notice key, a hash key, the file gateway)
with the console's halls and accounts (tests/console/conftest.py), one per module and engine; the module's
scene is stored once and every test reads it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser

import pytest

from kiosk.central.console.locker import shown_reason
from kiosk.hardware.masking import mask_phone
from tests.central.conftest import free_port, item
from tests.central.pickup_kit import CST, Loop, loop_on, new_case, rfc
from tests.console.conftest import Console, make_console
from tests.conftest import ENGINES


class Rows(HTMLParser):
    """The table rows of a page that carry `attr` (`data-deposit`, `data-kiosk` …): its value, the row's
    classes and its text, in the page's order."""

    def __init__(self, html: str, attr: str):
        super().__init__()
        self.attr, self.found, self._row = attr, [], None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and self.attr in attrs:
            self._row = {"key": attrs[self.attr], "class": attrs.get("class") or "", "text": []}

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            self.found.append({**self._row, "text": " ".join(" ".join(self._row["text"]).split())})
            self._row = None

    def handle_data(self, data):
        if self._row is not None:
            self._row["text"].append(data)


def rows(html: str, attr: str) -> list[dict]:
    return Rows(html, attr).found


def chips(html: str) -> dict[str, int]:
    """The counts on top of the locker page."""
    return {k: int(n) for k, n in re.findall(r'data-count="(\w+)">[^<:]*: (\d+)</a>', html)}


@dataclass
class Scene:
    console: Console
    loop: Loop
    deposits: dict[str, dict]   # what each stored deposit is: its case, door, kiosk
    phones: list[str]
    handin_cases: dict[str, str]   # kiosk -> the case of its hand-in


def handin(case: str, door: int, at: datetime) -> dict:
    return item(seq=_seq(), kind="handin", occurred_at=rfc(at), data={
        "case_number": case, "door": door, "handed_in_at": rfc(at), "receipt_no": "R-" + case,
        "hall": "一号政务服务中心"})


_counter = iter(range(50_000, 10**9))


def _seq() -> int:
    return next(_counter)


def store_scene(lp: Loop) -> Scene:
    """Held items of every kind of text, an item collected, and hand-ins, stored through the real intake:

    - `overdue` (k1, door 8): deposited 10 days ago for 7, its text sent by the file gateway;
    - `retrying` (k1, door 5): its text failed once (the SMS platform does not answer) and waits to retry;
    - `dead` (k1, door 7): the deposit carries no sealed code, so no text can ever be made;
    - `waiting` (k2, door 2, hall-b): its case is not on the platform yet;
    - `collected` (k1, door 9): picked up, no longer held.
    """
    console = make_console(lp.central)
    now = datetime.now(CST).replace(microsecond=0)
    no_reminders = lp.settings_file("quiet.toml", reminders=False)
    cases = {name: new_case() for name in ("overdue", "retrying", "dead", "waiting", "collected")}
    phones = ["13911112001", "13911112002"]
    assert lp.post_case(cases["overdue"], phones[0]).status_code == 201
    deposits = {"overdue": lp.deposit(cases["overdue"], "483920", door=8, at=now - timedelta(days=10)),
                "collected": lp.deposit(cases["collected"], "118406", door=9, at=now - timedelta(hours=3))}
    lp.upload(*deposits.values())
    lp.upload(lp.ended("pickup", cases["collected"], door=9, at=now - timedelta(hours=1)))
    lp.notify(now, no_reminders)   # the file gateway: sent

    assert lp.post_case(cases["retrying"], phones[1]).status_code == 201
    deposits["retrying"] = lp.deposit(cases["retrying"], "730551", door=5, at=now - timedelta(hours=2))
    deposits["dead"] = lp.deposit(cases["dead"], "550123", door=7, at=now - timedelta(hours=2), seal=False)
    deposits["waiting"] = lp.deposit(cases["waiting"], "661204", kiosk="k2", door=2, at=now - timedelta(hours=1))
    lp.upload(deposits["retrying"], deposits["dead"])
    lp.upload(deposits["waiting"], kiosk="k2")
    nobody = lp.settings_file("down.toml", reminders=False, gateway="webhook",
                              url=f"http://127.0.0.1:{free_port()}/sms", secret="webhook-secret-for-the-tests-0001")
    lp.notify(now, nobody)   # nothing listens: a retryable failure

    handin_cases = {"k1": new_case(), "k2": new_case()}
    console.send("k1", handin(handin_cases["k1"], 11, now - timedelta(days=3)))
    console.send("k2", handin(handin_cases["k2"], 4, now - timedelta(minutes=40)))
    return Scene(console, lp, {name: {"id": d["id"], **d["data"]} for name, d in deposits.items()}, phones,
                 handin_cases)


@pytest.fixture(scope="module", params=ENGINES)
def scene(request, tmp_path_factory):
    with loop_on(request.param, request, tmp_path_factory.mktemp("locker")) as lp:
        yield store_scene(lp)


def locker(scene: Scene, account: str, query: str = "") -> str:
    r = scene.console.sign_in(account).get(scene.console.url + "/console/locker" + query, timeout=10)
    assert r.status_code == 200, r.text[:500]
    return r.text


def held(html: str, scene: Scene) -> dict[str, dict]:
    """The held rows by the scene's name of their deposit, in the page's order."""
    name = {d["id"]: n for n, d in scene.deposits.items()}
    return {name[r["key"]]: r for r in rows(html, "data-deposit")}


def test_items_held_show_overdue_first_with_the_applicants_texts_sent_or_failing_and_why(scene):
    html = locker(scene, "ops")
    found = held(html, scene)
    assert list(found) == ["overdue", "retrying", "dead", "waiting"]   # overdue first (door 8), then hall, kiosk, door
    assert "overdue" in found["overdue"]["class"] and "overdue" not in found["retrying"]["class"]
    assert "逾期 3 天" in found["overdue"]["text"]
    assert "取件通知: 已发送" in found["overdue"]["text"]
    assert "第 1 次发送失败，等待重试" in found["retrying"]["text"]
    assert "connection_error" in found["retrying"]["text"]
    assert "失败，不再重试" in found["dead"]["text"] and "no sealed code" in found["dead"]["text"]
    assert "等待案件信息" in found["waiting"]["text"]
    for name, row in found.items():
        d = scene.deposits[name]
        assert d["case_number"] in row["text"] and "营业执照" in row["text"]
        assert f" {d['door']} " in f" {row['text']} "
    assert chips(html) == {"held": 4, "overdue": 1, "failing": 2, "handins": 2}


def test_materials_handed_in_wait_for_staff_the_longest_waiting_first(scene):
    html = locker(scene, "ops")
    waiting = rows(html, "data-case")
    assert [r["key"] for r in waiting] == [scene.handin_cases["k1"], scene.handin_cases["k2"]]
    assert "3 天" in waiting[0]["text"] and "40 分钟" in waiting[1]["text"]
    for case in scene.handin_cases.values():   # the citizen's receipt: the case and the door find the materials
        assert "R-" + case not in html


def test_staff_see_their_own_hall_only_whatever_hall_they_ask_for(scene):
    for query in ("", "?hall=hall-b"):
        html = locker(scene, "staff-a", query)
        assert list(held(html, scene)) == ["overdue", "retrying", "dead"]
        assert [r["key"] for r in rows(html, "data-case")] == [scene.handin_cases["k1"]]
        assert chips(html) == {"held": 3, "overdue": 1, "failing": 2, "handins": 1}
        assert 'name="hall"' not in html
    html = locker(scene, "staff-b")
    assert list(held(html, scene)) == ["waiting"]
    assert chips(html) == {"held": 1, "overdue": 0, "failing": 0, "handins": 1}


def test_an_operator_picks_a_hall_and_an_auditor_reads_every_hall(scene):
    assert list(held(locker(scene, "ops", "?hall=hall-b"), scene)) == ["waiting"]
    html = locker(scene, "audit")
    assert list(held(html, scene)) == ["overdue", "retrying", "dead", "waiting"]
    assert chips(html) == {"held": 4, "overdue": 1, "failing": 2, "handins": 2}


def test_no_phone_number_appears_not_even_masked(scene):
    for account in ("ops", "staff-a", "audit"):
        html = locker(scene, account)
        for phone in scene.phones:
            assert phone not in html and mask_phone(phone) not in html
        for d in scene.deposits.values():   # nor a holder hash or a sealed pickup code
            assert d["holder_hash"] not in html and not (d["sealed_code"] and d["sealed_code"] in html)
        assert "483920" not in html


def test_a_stored_reason_loses_any_number_a_gateway_echoed():
    assert shown_reason("tencent:InvalidParameter 139****0001 rejected; +8613911112001 too") == (
        "tencent:InvalidParameter … rejected; … too")
    assert shown_reason(None) is None and shown_reason("http_503") == "http_503"
