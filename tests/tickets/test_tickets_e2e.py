"""The kiosk's tickets end to end: the real receipt printer, card reader and scanner drivers on their
simulators (the wire protocols), the real central client, `kiosk central` as a subprocess with the demo hall,
and the real relay (`kiosk sync --once`). Offline numbering: tickets issued with the platform down and
across a restart of the kiosk, then synced and reconciled, and no number issued twice."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from kiosk import config, store
from kiosk.core.background import Inline
from kiosk.core.privacy import holder_hash
from kiosk.core.tickets import Step, TicketBook, TicketFlow
from kiosk.hardware.idcard import SamReader
from kiosk.hardware.receipt import ReceiptPrinter
from kiosk.hardware.scanner import SerialScanner
from kiosk.sim import registry
from kiosk.sim.idcard import demo_resident
from kiosk.sync import outbox
from kiosk.sync.client import CentralClient
from tests.sync.centralproc import kiosk_config, run_kiosk
from tests.tickets.hall import HASH_KEY, TicketHall

ZONE = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 5, 18, 9, 10, tzinfo=ZONE)


@pytest.fixture
def hall(tmp_path, platform_db):
    h = TicketHall(tmp_path / "central", queue_time=NOW.isoformat(), db=platform_db).start()
    yield h
    h.stop()


@pytest.fixture
def kiosk(hall, tmp_path):
    """The kiosk's parts over its own config pointed at the hall's platform; `make()` is a start of the kiosk."""
    path = kiosk_config(tmp_path / "kiosk", hall.url)
    settings = config.load(path)
    registry.reset_simulators()
    devices = {"printer": ReceiptPrinter("receipt_printer", "sim://receipt"),
               "reader": SamReader("idcard", "sim://idcard"), "scanner": SerialScanner("scanner", "sim://scanner")}
    kstore = store.Store.from_settings(settings)

    def make() -> TicketFlow:
        t = settings.tickets
        book = TicketBook(kstore, outbox, t.hall, prefix=t.offline_prefix, start=t.offline_start, end=t.offline_end)
        return TicketFlow(book, CentralClient.from_settings(settings), hall=t.hall, hall_name=settings.kiosk.hall,
                          kiosk_id=settings.kiosk.id, hash_key=settings.privacy.hash_key, printer=devices["printer"],
                          idcard=devices["reader"], scanner=devices["scanner"], executor=Inline(), now=lambda: NOW,
                          card_timeout_s=5, lookup_timeout_s=2)
    yield {"settings": settings, "path": path, "make": make, "store": kstore, **devices}
    for device in devices.values():
        device.close()
    registry.reset_simulators()


def _receipts():
    return registry.simulator("receipt").receipts()


def _take(flow, business: str = "social", card: bool = False) -> str:
    flow.begin()
    assert flow.step is Step.CHOOSE, flow.step
    flow.choose(business)
    if card:
        registry.simulator("idcard").insert_card(demo_resident())
        flow.read_card()
    else:
        flow.without_card()
    assert flow.step is Step.DONE and flow.printed, (flow.step, flow.notice)
    return flow.ticket.number


def test_a_ticket_with_the_id_card_prints_on_the_wire_and_the_window_sees_the_holder(hall, kiosk):
    flow = kiosk["make"]()
    number = _take(flow, "household", card=True)
    [paper] = _receipts()
    assert number in paper.text and "户籍证件" in paper.text and paper.cut == "full"
    assert paper.qr_codes and paper.qr_codes[0].startswith("kiosk-ticket:demo-hall:2026-05-18:" + number)
    mine = next(t for t in hall.tickets()["tickets"] if t["number"] == number)
    assert mine["holder_hash"] == holder_hash(HASH_KEY, demo_resident().id_number)
    assert demo_resident().id_number not in paper.text


def test_an_appointment_qr_code_on_the_scanner_checks_in_for_a_priority_ticket(hall, kiosk):
    flow = kiosk["make"]()
    hall.queue_clock("--set", "2026-05-18T09:45:00+08:00")       # the demo appointment's check-in is open
    flow.begin()
    flow.check_in()
    registry.simulator("scanner").scan("KIOSK-APPOINTMENT:80000001")
    code = kiosk["scanner"].read_code(5)
    flow.scanned(code)
    assert flow.step is Step.DONE and flow.ticket.priority and flow.ticket.appointment == "80000001"
    assert "预约" in _receipts()[0].text


def test_offline_tickets_across_a_restart_are_reconciled_and_no_number_is_issued_twice(hall, kiosk):
    flow = kiosk["make"]()
    online = [_take(flow), _take(flow)]                           # the list is kept for offline use
    hall.stop()                                                   # the platform cannot be reached
    offline = [_take(flow), _take(flow, "tax")]
    assert flow.offline and offline == ["Z001", "Z002"]
    flow = kiosk["make"]()                                        # the kiosk restarts, the platform still down
    offline.append(_take(flow))
    assert offline == ["Z001", "Z002", "Z003"]
    hall.start()
    sync = run_kiosk("sync", "--once", "--json", config=kiosk["path"])
    assert sync.returncode == 0, sync.stderr
    listing = hall.tickets()
    numbers = [t["number"] for t in listing["tickets"]]
    assert len(numbers) == len(set(numbers)), numbers           # no number twice
    assert set(online + offline) <= set(numbers) and not listing["clashes"]
    queued = {t["number"]: t for t in listing["tickets"]}
    assert all(queued[n]["offline"] == 1 for n in offline) and queued["Z002"]["business"] == "tax"
    after = _take(kiosk["make"]())                                 # online again: the platform's numbering goes on
    assert after not in numbers and not after.startswith("Z")
    sent = [json.loads(r[0]) for r in kiosk["store"].connect().execute(
        "SELECT body FROM outbox WHERE kind = 'ticket' ORDER BY seq")]
    assert [t["number"] for t in sent] == online + offline + [after]
