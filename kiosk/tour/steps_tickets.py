"""`kiosk tour` steps of queue tickets and appointment check-in (取号 / 预约签到).

In zh_CN: the hall's business types with their waiting counts, a number with the ID card (the window sees
the holder), an appointment checked in by its QR code on the scanner and one with the ID card (priority
tickets), a number while the platform cannot be reached (the kiosk's own block, the kept list with its
age), and the hall closed at night (when to come back). Then in English and in elder mode: the list, the
appointment code typed, the ticket.

The steps play the citizen's part at the simulators (`sim://idcard`, `sim://scanner`) and the hall's at the
demo platform: other citizens take numbers at the hall's other kiosk first, and the demo queue's clock
(`kiosk central queue-clock`, kiosk/tour/hall.py opens the hall on a Monday morning) is moved to the
evening for the closed hall. Listed by kiosk/tour/runner.py, run only on a kiosk that offers tickets.
"""
from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from kiosk.tour.step import Step
from kiosk.tour.steps_pickup import _expect_panel, _screen, _sim

FLOWS: dict[str, list[Step]] = {}
APPOINTMENT_QR = "KIOSK-APPOINTMENT:80000001"   # kiosk/central/demo_hall.py DEMO_APPOINTMENT, as its QR code
APPOINTMENT_CODE = "80000002"                   # typed; the demo card holder's appointment (also by card)
MORNING, EVENING = "2026-05-18T09:30:00+08:00", "2026-05-18T21:00:00+08:00"


def _flow(d):
    from kiosk.app.root import TICKETS

    return d.app.kiosk.flow(TICKETS)


def _panel(d, panel: str, what: str, timeout: float = 20) -> None:
    screen = _screen(d, "tickets")
    d.wait_for(lambda: d.app.screens.current == "tickets" and screen.panels.current == panel
               and not screen.worker.pending, timeout, what)


def _demo_db(d) -> Path | None:
    """The demo platform's database of the tour's private hall (kiosk/tour/hall.py); None with --live."""
    db = d.app.settings.data_path.parent / "central.db"
    return db if db.exists() else None


def _queue_clock(d, at: str) -> None:
    db = _demo_db(d)
    if db is not None:
        subprocess.run([str(Path(sys.executable).parent / "kiosk"), "central", "queue-clock", "--db", str(db),
                        "--set", at], check=True, capture_output=True, timeout=60)


def _open(d) -> None:
    d.wait_for(lambda: _flow(d).printer is not None, 30, "the receipt printer bound")
    _sim("idcard").remove_card()
    d.tap_tile("tickets")
    screen = _screen(d, "tickets")
    d.wait_for(lambda: d.app.screens.current == "tickets" and screen.panels.current in
               ("choose", "closed", "unavailable") and not screen.worker.pending, 20, "the list of business types")


def _others_take_numbers(d) -> None:
    """Other citizens took numbers at the hall's other kiosk: the list shows people waiting."""
    from kiosk.wire.queues import TicketRequest

    flow = _flow(d)
    _queue_clock(d, MORNING)
    for business in ("social", "social", "social", "social", "property"):
        flow.port.take_ticket(flow.hall, TicketRequest(request_id=str(uuid.uuid4()), business=business))
    _open(d)


def _choose(code: str):
    def act(d) -> None:
        row = next(r for r in _screen(d, "tickets").business_rows if r.key == code)
        d.tap(row)
        _panel(d, "id_card", "the optional ID card")
    return act


def _card_on_reader(d) -> None:
    _sim("idcard").insert_card()
    _panel(d, "done", "the ticket")


def _finish(d) -> None:
    d.tap(_screen(d, "tickets").ids.finish)
    d.wait_for(lambda: d.app.screens.current == "home", 10, "home after Finish")
    _sim("idcard").remove_card()


def _check_in(d) -> None:
    _open(d)
    d.tap(_screen(d, "tickets").ids.check_in)
    _panel(d, "check_in", "the appointment check-in")


def _scan_appointment(d) -> None:
    _sim("scanner").scan(APPOINTMENT_QR)
    _panel(d, "done", "the priority ticket")


def _type_code(d) -> None:
    screen = _screen(d, "tickets")
    for ch in APPOINTMENT_CODE:
        before = screen.typed
        d.tap_key(screen.ids.keypad, ch)
        d.wait_for(lambda: screen.typed != before, 5, f"key {ch}")


def _submit_code(d) -> None:
    d.tap(_screen(d, "tickets").ids.code_next)
    _panel(d, "done", "the priority ticket")


def _platform_away(d) -> None:
    """The platform cannot be reached: the flow's port pointed at a closed loopback port (the real client
    and its real failure), until the next step puts it back."""
    from kiosk.sync.client import CentralClient

    flow = _flow(d)
    d.tour_port = flow.port
    flow.port = CentralClient("http://127.0.0.1:9", d.app.settings.kiosk.id, d.app.settings.central.secret,
                              lookup_timeout_s=1)
    _open(d)


def _offline_number(d) -> None:
    try:
        _choose("tax")(d)
        d.tap(_screen(d, "tickets").ids.without_card)
        _panel(d, "done", "the kiosk's own number")
    finally:
        port = getattr(d, "tour_port", None)
        if port is not None:
            _flow(d).port = port


def _evening(d) -> None:
    d.app.end_visit("done")
    d.wait_for(lambda: d.app.screens.current == "home", 10, "home")
    _queue_clock(d, EVENING)
    try:
        _open(d)
    finally:
        _queue_clock(d, MORNING)


def _ticket(priority: bool | None = None, offline: bool = False):
    def check(d) -> str | None:
        problem = _expect_panel("tickets", "done")(d)
        ticket = _flow(d).ticket
        if problem is None and (ticket is None or not ticket.number):
            problem = "no number on the done screen"
        elif problem is None and priority is not None and ticket.priority is not priority:
            problem = f"ticket {ticket.number}: priority {ticket.priority}, expected {priority}"
        elif problem is None and ticket.offline is not offline:
            problem = f"ticket {ticket.number}: offline {ticket.offline}, expected {offline}"
        elif problem is None and not _flow(d).printed:
            problem = f"ticket {ticket.number} was not printed"
        return problem
    return check


def _closed(d) -> str | None:
    if _demo_db(d) is None:
        return None   # --live: the hall's own clock decides
    return _expect_panel("tickets", "closed")(d)


def _offline_list(d) -> str | None:
    problem = _expect_panel("tickets", "choose")(d)
    if problem is None and not _flow(d).offline:
        problem = "the list is not the kept one"
    return problem


def _language(lang: str):
    def act(d) -> None:
        if d.app.lang != lang:
            d.tap(d.app.header.ids[f"lang_{lang}"])
    return act


def _elder_on(d) -> None:
    if not d.app.elder:
        d.tap(d.app.header.ids.elder_toggle)


FLOWS["tickets"] = [
    Step("choose", _others_take_numbers, _expect_panel("tickets", "choose")),
    Step("id-card", _choose("social"), _expect_panel("tickets", "id_card")),
    Step("ticket", _card_on_reader, _ticket(priority=False)),
    Step("check-in", lambda d: (_finish(d), _check_in(d)), _expect_panel("tickets", "check_in")),
    Step("appointment-scanned", _scan_appointment, _ticket(priority=True)),
    Step("check-in-card", lambda d: (_finish(d), _check_in(d), _card_on_reader(d)), _ticket(priority=True)),
    Step("offline-list", lambda d: (_finish(d), _platform_away(d)), _offline_list),
    Step("offline-number", _offline_number, _ticket(offline=True)),
    Step("closed", _evening, _closed),
]

FLOWS["tickets-en-elder"] = [
    # elder mode switched on at the service's screen (the home screen's elder layout is issue 18 item 4's)
    Step("choose", lambda d: (_language("en")(d), _open(d), _elder_on(d), d.pump(3)), _expect_panel("tickets", "choose")),
    Step("check-in", lambda d: (d.tap(_screen(d, "tickets").ids.check_in), _panel(d, "check_in", "check-in"),
                                _type_code(d)), _expect_panel("tickets", "check_in")),
    Step("ticket", _submit_code, _ticket()),
]
