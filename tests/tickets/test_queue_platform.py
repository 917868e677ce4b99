"""The platform's queue tickets and appointments (`kiosk central` as a real subprocess, the demo hall seeded):
authentication and the kiosk's hall, idempotent tickets, a queue that advances with the demo queue's
injected clock, opening hours, appointment check-in, and offline tickets reconciled into the queue."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
import requests

from kiosk.wire.hashing import holder_hash
from kiosk.wire.queues import TicketRefused, TicketRequest
from tests.central.conftest import platform_key_env
from tests.conftest import ENGINES
from tests.sync.centralproc import run_kiosk
from tests.tickets.hall import HASH_KEY, TicketHall

ZONE = dt.timezone(dt.timedelta(hours=8))
DEMO_CARD = "110105199003071239"


@pytest.fixture(scope="module", params=ENGINES)
def hall(request, tmp_path_factory):
    """The platform on each engine: a SQLite file, a database on the private PostgreSQL server."""
    tmp = tmp_path_factory.mktemp("hall")
    if request.param == "sqlite":
        h = TicketHall(tmp).start()
        yield h
        h.stop()
        return
    with platform_key_env(tmp / "central.key"):
        h = TicketHall(tmp, db=request.getfixturevalue("pg_cluster").fresh()).start()
        yield h
        h.stop()


@pytest.fixture
def at_nine(hall):
    """Every test starts on Monday 2026-05-18 at 09:00 by the demo queue's clock."""
    hall.queue_clock("--set", "2026-05-18T09:00:00+08:00")
    return hall


def ticket(client, business="social", **kw):
    return client.take_ticket("demo-hall", TicketRequest(request_id=str(uuid.uuid4()), business=business, **kw))


def test_a_kiosk_of_the_hall_lists_its_business_types_and_nothing_unsigned_or_foreign_gets_in(at_nine):
    hall = at_nine
    queues = hall.client().hall_queues("demo-hall")
    assert [b.code for b in queues.businesses] == ["social", "household", "property", "tax"]
    social = queues.business("social")
    assert social.open_now and social.prefix == "A" and social.hours["mon"] == ["08:30-12:00", "13:30-17:30"]
    assert queues.offline_prefixes == ["Z"] and queues.now.astimezone(ZONE).hour == 9
    assert requests.get(hall.url + "/api/v1/halls/demo-hall/queues", timeout=5).status_code == 401
    r = run_kiosk("central", "add-kiosk", "other-hall-k01", "--secret", "other-secret-0123456789abcdef",
                  "--db", str(hall.db))
    assert r.returncode == 0, r.stderr
    with pytest.raises(TicketRefused) as refused:
        hall.client("other-hall-k01", "other-secret-0123456789abcdef").hall_queues("demo-hall")
    assert refused.value.code == "not_in_hall"


def test_the_same_request_id_gives_the_same_ticket_and_another_body_is_refused(at_nine):
    client = at_nine.client()
    request = TicketRequest(request_id=str(uuid.uuid4()), business="tax")
    first = client.take_ticket("demo-hall", request)
    again = client.take_ticket("demo-hall", request)
    assert (again.number, again.again, first.again) == (first.number, True, False)
    with pytest.raises(TicketRefused) as refused:
        client.take_ticket("demo-hall", TicketRequest(request_id=request.request_id, business="household"))
    assert refused.value.code == "request_conflict"
    assert [t["number"] for t in at_nine.tickets()["tickets"]].count(first.number) == 1


def test_the_demo_queue_advances_with_its_clock(at_nine):
    hall = at_nine
    client = hall.client()
    numbers = [ticket(client, "household").number for _ in range(4)]    # 2 windows, 10 minutes each
    assert numbers == [f"B{n:03d}" for n in range(int(numbers[0][1:]), int(numbers[0][1:]) + 4)]
    before = client.hall_queues("demo-hall").business("household")
    assert before.waiting == 3 and before.now_serving == numbers[0]     # the first is called at once
    hall.queue_clock("--advance", "16")                                 # one every 5 minutes: 09:05, 09:10, 09:15
    after = client.hall_queues("demo-hall").business("household")
    assert after.waiting == 0 and after.now_serving == numbers[3] and after.estimated_wait_min == 0
    nxt = ticket(client, "household")
    assert nxt.waiting_before == 0


def test_outside_opening_hours_a_ticket_is_refused_with_when_the_business_opens(at_nine):
    hall = at_nine
    hall.queue_clock("--set", "2026-05-23T10:00:00+08:00")              # Saturday: social opens, property not
    client = hall.client()
    queues = client.hall_queues("demo-hall")
    assert queues.business("social").open_now and not queues.business("property").open_now
    assert queues.business("property").opens_at == dt.datetime(2026, 5, 25, 8, 30, tzinfo=ZONE)
    with pytest.raises(TicketRefused) as refused:
        ticket(client, "property")
    assert refused.value.code == "closed" and refused.value.opens_at == dt.datetime(2026, 5, 25, 8, 30, tzinfo=ZONE)
    with pytest.raises(TicketRefused) as unknown:
        ticket(client, "no-such-business")
    assert unknown.value.code == "unknown_business"


def test_an_appointment_checks_in_once_for_a_priority_ticket_called_before_ordinary_ones(at_nine):
    hall = at_nine
    client = hall.client()
    r = hall.operator("POST", "/api/v1/halls/demo-hall/appointments",
                      {"code": "80001001", "business": "social", "day": "2026-05-18", "slot": "10:30-11:00"})
    assert r.status_code == 201, r.text
    assert client.find_appointment("demo-hall", "80001001").state == "booked"
    assert client.find_appointment("demo-hall", "80009999") is None
    with pytest.raises(TicketRefused) as early:                         # check-in opens an hour before 10:30
        client.take_ticket("demo-hall", TicketRequest(request_id=str(uuid.uuid4()), appointment="80001001"))
    assert early.value.code == "too_early"
    hall.queue_clock("--set", "2026-05-18T09:40:00+08:00")
    ordinary = [ticket(client, "social").number for _ in range(3)]
    checked = client.take_ticket("demo-hall", TicketRequest(request_id=str(uuid.uuid4()), appointment="80001001"))
    assert checked.priority and checked.business == "social" and checked.waiting_before == 0
    again = client.take_ticket("demo-hall", TicketRequest(request_id=str(uuid.uuid4()), appointment="80001001"))
    assert again.number == checked.number and again.again             # never a second priority number
    assert client.find_appointment("demo-hall", "80001001").ticket == checked.number
    hall.queue_clock("--advance", "3")                                  # 3 windows, 8 minutes: one each 2.7 min
    queue = {t["number"]: t for t in hall.tickets()["tickets"]}
    assert queue[checked.number]["state"] == "called"                   # the appointment before those waiting
    assert [queue[n]["state"] for n in ordinary].count("waiting") >= 1


def test_an_appointment_of_another_day_or_past_its_slot_is_refused(at_nine):
    hall = at_nine
    for code, day in (("80001002", "2026-05-19"), ("80001003", "2026-05-18")):
        assert hall.operator("POST", "/api/v1/halls/demo-hall/appointments",
                             {"code": code, "business": "tax", "day": day, "slot": "09:00-09:15"}).status_code == 201
    hall.queue_clock("--set", "2026-05-18T10:00:00+08:00")
    client = hall.client()
    for code, why in (("80001002", "appointment_other_day"), ("80001003", "appointment_missed")):
        with pytest.raises(TicketRefused) as refused:
            client.take_ticket("demo-hall", TicketRequest(request_id=str(uuid.uuid4()), appointment=code))
        assert refused.value.code == why


def test_the_holders_appointments_today_are_found_by_keyed_hash(at_nine):
    client = at_nine.client()
    found = client.holder_appointments("demo-hall", holder_hash(HASH_KEY, DEMO_CARD))
    assert [(a.code, a.business, a.slot) for a in found] == [("80000002", "property", "10:30-11:00")]
    assert client.holder_appointments("demo-hall", "0" * 64) == []


def _ticket_item(seq: int, number: str, issued_at: str, request_id: str | None = None, offline: bool = True) -> dict:
    return {"id": str(uuid.uuid4()), "seq": seq, "kind": "ticket", "occurred_at": issued_at,
            "data": {"hall": "demo-hall", "business": "social", "number": number,
                     "request_id": request_id or str(uuid.uuid4()), "issued_at": issued_at, "priority": False,
                     "offline": offline, "holder_hash": None, "appointment": None, "waiting_before": None}}


def test_offline_tickets_are_put_into_the_queue_by_issue_time_and_never_twice(at_nine):
    hall = at_nine
    hall.queue_clock("--set", "2026-05-20T11:00:00+08:00")              # a Wednesday, its own numbers
    client = hall.client()
    online = ticket(client, "social")
    lost = TicketRequest(request_id=str(uuid.uuid4()), business="social")
    issued_but_lost = client.take_ticket("demo-hall", lost)             # the kiosk never saw this answer
    items = [_ticket_item(9001, "Z101", "2026-05-20T10:55:00+08:00"),
             _ticket_item(9002, "Z102", "2026-05-20T11:00:00+08:00", request_id=lost.request_id)]
    results = client.post_transactions(items).results
    assert [r.status for r in results] == ["accepted", "accepted"]
    assert [r.status for r in client.post_transactions(items).results] == ["duplicate", "duplicate"]
    clash = _ticket_item(9003, "Z101", "2026-05-20T11:01:00+08:00")     # another kiosk's overlapping block
    assert client.post_transactions([clash]).results[0].status == "accepted"   # stored, never refused
    listing = hall.tickets("2026-05-20")
    numbers = [t["number"] for t in listing["tickets"]]
    assert numbers.count("Z101") == 1 and numbers.count("Z102") == 1
    states = {t["number"]: t["state"] for t in listing["tickets"]}
    assert states[issued_but_lost.number] == "superseded"               # its place goes to the printed Z102
    assert [c["number"] for c in listing["clashes"]] == ["Z101"]
    z101 = next(t for t in listing["tickets"] if t["number"] == "Z101")
    assert z101["offline"] == 1 and z101["issued_at"] < next(t for t in listing["tickets"]
                                                              if t["number"] == online.number)["issued_at"]
