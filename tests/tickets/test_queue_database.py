"""The demo queue (kiosk/central/queues.py DemoQueue) in process on the platform's database, on each engine: numbers
in order, a request answered twice with one ticket, offline tickets reconciled inside the batch's transaction. On
PostgreSQL, where several workers serve at once: two platforms (each its own CentralDB on the same database) issuing
tickets for one business at the same moment never give two kiosks the same number, the same request sent to both
gets one ticket, and an appointment checked in at both gets one priority ticket."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from kiosk.central import demo_hall
from kiosk.central.db import CentralDB, CheckedItem
from kiosk.central.queues import AppointmentDefinition, DemoQueue, ticket_intake
from kiosk.wire.queues import TicketRequest
from tests.conftest import together

ZONE = dt.timezone(dt.timedelta(hours=8))
MONDAY_0900 = dt.datetime(2026, 5, 18, 9, 0, tzinfo=ZONE)
KIOSK = demo_hall.DEMO_KIOSK


def open_queue(db_url: str) -> tuple[CentralDB, DemoQueue]:
    db = CentralDB(db_url)
    return db, DemoQueue(db)


@pytest.fixture
def hall(platform_db):
    """The demo hall seeded (its kiosk and two more), the queue's clock on Monday 09:00."""
    db, queue = open_queue(platform_db)
    queue.set_clock(MONDAY_0900)
    demo_hall.seed(queue, None, kiosks=["k2", "k3"])
    yield platform_db, db, queue
    db.close()


def request(business: str | None = "social", **kw) -> TicketRequest:
    return TicketRequest(request_id=str(uuid.uuid4()), business=business, **kw)


def test_tickets_are_numbered_in_order_and_a_request_again_gets_the_same_ticket(hall):
    _url, _db, queue = hall
    first = queue.issue("demo-hall", KIOSK, request())
    second_request = request()
    second = queue.issue("demo-hall", "k2", second_request)
    assert (first["number"], second["number"]) == ("A001", "A002") and not second["again"]
    again = queue.issue("demo-hall", "k2", second_request)
    assert again["number"] == "A002" and again["again"]
    assert [t["number"] for t in queue.tickets("demo-hall", "2026-05-18")] == ["A001", "A002"]
    social = next(b for b in queue.queues("demo-hall")["businesses"] if b["code"] == "social")
    assert social["now_serving"] == "A001" and social["waiting"] == 1   # one called each 8/3 minutes


def test_an_appointment_is_booked_moved_and_not_moved_once_checked_in(hall):
    _url, _db, queue = hall
    booking = AppointmentDefinition(code="80002001", business="tax", day=dt.date(2026, 5, 18), slot="09:00-09:30")
    assert queue.add_appointment("demo-hall", booking)
    assert queue.add_appointment("demo-hall", booking.model_copy(update={"slot": "09:15-09:45"}))
    assert queue.appointment("demo-hall", "80002001")["slot"] == "09:15-09:45"
    ticket = queue.issue("demo-hall", KIOSK, request(None, appointment="80002001"))
    assert ticket["priority"] and ticket["number"] == "D001"
    assert not queue.add_appointment("demo-hall", booking)
    assert queue.appointment("demo-hall", "80002001")["state"] == "checked_in"


def offline_ticket(number: str, request_id: str | None = None) -> CheckedItem:
    import json

    data = {"hall": "demo-hall", "business": "social", "number": number, "request_id": request_id or str(uuid.uuid4()),
            "issued_at": "2026-05-18T08:59:00+08:00", "priority": False, "offline": True, "holder_hash": None,
            "appointment": None, "waiting_before": None}
    tx = str(uuid.uuid4())
    return CheckedItem(tx, {"id": tx, "seq": 1, "kind": "ticket", "occurred_at": data["issued_at"], "boot_id": None,
                            "uptime_s": None, "data": json.dumps(data), "body": json.dumps(data),
                            "body_sha256": uuid.uuid4().hex * 2})


def test_offline_tickets_go_into_the_queue_inside_the_batch_and_a_clash_is_kept(hall):
    _url, db, queue = hall
    db.intake_hooks.append(ticket_intake(queue))
    for kiosk in (KIOSK, "k2"):
        db.add_kiosk(kiosk)
    lost = request()
    issued = queue.issue("demo-hall", KIOSK, lost)                      # the kiosk never saw this answer
    results = db.store_batch(KIOSK, [offline_ticket("Z001", lost.request_id), offline_ticket("Z002")])
    assert [r["status"] for r in results] == ["accepted", "accepted"]
    assert db.store_batch("k2", [offline_ticket("Z002")])[0]["status"] == "accepted"   # an overlapping block
    states = {t["number"]: t["state"] for t in queue.tickets("demo-hall", "2026-05-18")}
    assert states[issued["number"]] == "superseded" and "Z001" in states and "Z002" in states
    assert [(c["kiosk_id"], c["number"]) for c in queue.clashes("demo-hall")] == [("k2", "Z002")]


# --- several workers at once (PostgreSQL) -------------------------------------------------------------

@pytest.fixture
def pg_hall(pg_cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_CENTRAL_KEY_FILE", str(tmp_path / "central.key"))
    url = pg_cluster.fresh()
    db, queue = open_queue(url)
    queue.set_clock(MONDAY_0900)
    demo_hall.seed(queue, None, kiosks=["k2", "k3"])
    db.close()
    return url


def at_once(url: str, work, n: int = 2) -> list:
    """`work(queue, i)` in `n` threads, each with a platform of its own (its own CentralDB) on `url`, started
    together; their results in thread order (an exception is re-raised)."""
    return together([open_queue(url) for _ in range(n)], lambda platform, i: work(platform[1], i))


def test_two_workers_issuing_at_once_never_give_one_number_twice(pg_hall):
    per_worker = 15

    def issue(queue: DemoQueue, i: int) -> list[str]:
        kiosk = (KIOSK, "k2")[i]
        return [queue.issue("demo-hall", kiosk, request("household"))["number"] for _ in range(per_worker)]

    numbers = at_once(pg_hall, issue)
    issued = numbers[0] + numbers[1]
    assert len(set(issued)) == 2 * per_worker
    assert sorted(issued) == [f"B{n:03d}" for n in range(1, 2 * per_worker + 1)]
    db, queue = open_queue(pg_hall)
    try:
        stored = [t["number"] for t in queue.tickets("demo-hall", "2026-05-18")]
    finally:
        db.close()
    assert sorted(stored) == sorted(issued)


def test_the_same_request_at_two_workers_at_once_gets_one_ticket(pg_hall):
    for _ in range(5):
        same = request("tax")
        answers = at_once(pg_hall, lambda queue, _i: queue.issue("demo-hall", KIOSK, same))
        assert answers[0]["number"] == answers[1]["number"]
        assert sorted(a["again"] for a in answers) == [False, True]


def test_an_appointment_checked_in_at_two_workers_at_once_gets_one_priority_ticket(pg_hall):
    db, queue = open_queue(pg_hall)
    queue.add_appointment("demo-hall", AppointmentDefinition(code="80003001", business="property",
                                                             day=dt.date(2026, 5, 18), slot="09:30-10:00"))
    db.close()
    answers = at_once(pg_hall, lambda q, i: q.issue("demo-hall", (KIOSK, "k2")[i],
                                                    request(None, appointment="80003001")))
    assert answers[0]["number"] == answers[1]["number"] and answers[0]["priority"]
    assert sorted(a["again"] for a in answers) == [False, True]
