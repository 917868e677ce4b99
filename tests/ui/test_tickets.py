"""Queue tickets and appointment check-in (取号 / 预约签到) in the real window, against the REAL platform.

The shared app of tests/ui/conftest.py (simulated receipt printer, card reader and scanner on the wire,
the wall clock fixed on Monday 2026-05-18 09:30) with its tickets flow pointed at `kiosk central` as a
subprocess, the demo hall seeded and the demo queue's clock at the same moment. A citizen takes a number
without and with the ID card, checks an appointment in by its code in elder mode, takes a number while
the platform cannot be reached (the kiosk's own block), and finds the hall closed at night. Screenshots
in zh_CN, en and elder mode go to tests/artifacts/ui/.
"""
from __future__ import annotations

import pytest

DEMO_SECRET = "demo-secret-demo-hall-k01-0000000000"   # config/kiosk.toml's, provisioned on the test platform


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    from tests.tickets.hall import TicketHall

    hall = TicketHall(tmp_path_factory.mktemp("tickets-hall"), queue_time="2026-05-18T09:30:00+08:00",
                      kiosk_id="demo-hall-k01", secret=DEMO_SECRET).start()
    yield hall
    hall.stop()


@pytest.fixture
def tickets_ui(ui, platform):
    """The app with its tickets flow on the test platform, the receipt printer bound, paper in, no card."""
    from kiosk.app.root import TICKETS
    from kiosk.sim.registry import simulator

    app = ui.app
    flow = app.kiosk.flow(TICKETS)
    ui.wait_for(lambda: flow.printer is not None, 30, "the receipt printer bound")
    saved = flow.port
    flow.port = platform.client()
    sims = {name: simulator(name) for name in ("receipt", "idcard", "scanner")}
    sims["receipt"].set_paper("ok")
    sims["receipt"].clear()
    sims["idcard"].remove_card()
    ui.flow, ui.sims, ui.platform = flow, sims, platform
    yield ui
    flow.port = saved
    sims["idcard"].insert_card()
    if app.elder:
        app.session.set_elder(False)
    app.set_language("zh_CN")
    ui.reset()


def _open(ui):
    app = ui.app
    app.session.touch()
    app.kiosk.parts.visit.enter("tickets")
    app.show("tickets")
    screen = app.screen("tickets")
    ui.wait_for(lambda: screen.panels.current in ("choose", "closed", "unavailable") and not screen.worker.pending,
                15, "the list of business types")
    return screen


def _row(screen, key):
    return next(r for r in screen.business_rows if r.key == key)


def _panel(ui, screen, panel: str, what: str) -> None:
    ui.wait_for(lambda: screen.panels.current == panel, 20, what)


def _fits(ui, screen) -> None:
    """Everything of the panel on screen fits the window: nothing to scroll to."""
    body = screen.ids.body
    assert body.height <= screen.height + 1, f"the {screen.panels.current} panel is {body.height:.0f} px, " \
                                             f"the screen {screen.height:.0f} px"


def test_take_a_number_check_in_and_offline(tickets_ui, shot):
    """A citizen takes a number, checks an appointment in, and gets a number while the platform is away."""
    from kiosk.sync.client import CentralClient

    import uuid

    from kiosk.wire.queues import TicketRequest

    ui, app = tickets_ui, tickets_ui.app
    others = ui.platform.client("demo-hall-k01", DEMO_SECRET)      # the hall's other citizens, at the other kiosk
    for business in ("social", "social", "social", "social", "property", "property"):
        others.take_ticket("demo-hall", TicketRequest(request_id=str(uuid.uuid4()), business=business))
    # zh_CN: without the ID card
    screen = _open(ui)
    assert [r.title for r in screen.business_rows if r.shown] == ["社保医保", "户籍证件", "不动产登记", "税务发票"]
    assert not _row(screen, "social").soft
    _fits(ui, screen)
    shot("choose")
    ui.tap(_row(screen, "social"))
    _panel(ui, screen, "id_card", "the optional ID card")
    _fits(ui, screen)
    shot("id-card")
    ui.tap(screen.ids.without_card)
    _panel(ui, screen, "done", "the ticket")
    number = screen.number
    assert number.startswith("A") and screen.printed
    _fits(ui, screen)
    shot("done")
    [paper] = ui.sims["receipt"].receipts()
    assert number in paper.text and "社保医保" in paper.text and paper.qr_codes and paper.cut
    shot("done-paper", text=paper.text + "\n" + "\n".join(f"[QR {q}]" for q in paper.qr_codes))
    ui.tap(screen.ids.finish)
    ui.wait_for(lambda: app.screens.current == "home", 10, "home after Finish")

    # en: with the ID card, the window sees the holder (its keyed hash)
    app.set_language("en")
    ui.sims["receipt"].clear()
    screen = _open(ui)
    ui.tap(_row(screen, "household"))
    _panel(ui, screen, "id_card", "the optional ID card")
    shot("id-card-en")
    ui.sims["idcard"].insert_card()
    _panel(ui, screen, "done", "the ticket after the card")
    assert screen.number.startswith("B")
    tickets = ui.platform.tickets()["tickets"]
    assert next(t for t in tickets if t["number"] == screen.number)["holder_hash"]
    _fits(ui, screen)
    shot("done-en")
    ui.sims["idcard"].remove_card()
    app.end_visit("done")
    ui.wait_for(lambda: app.screens.current == "home", 10, "home")
    app.set_language("zh_CN")

    # elder mode: the appointment code typed, a priority ticket
    app.session.touch()
    ui.tap(app.header.ids.elder_toggle)
    screen = _open(ui)
    _fits(ui, screen)
    shot("choose-elder")
    ui.tap(screen.ids.check_in)
    _panel(ui, screen, "check_in", "the appointment check-in")
    for ch in "80000001":
        before = screen.typed
        ui.tap_key(screen.ids.keypad, ch)
        ui.wait_for(lambda: screen.typed != before, 5, f"key {ch}")
    _fits(ui, screen)
    shot("check-in-elder")
    ui.tap(screen.ids.code_next)
    _panel(ui, screen, "done", "the priority ticket")
    assert screen.priority and screen.number.startswith("A")
    _fits(ui, screen)
    shot("done-elder")
    app.end_visit("done")
    ui.wait_for(lambda: app.screens.current == "home", 10, "home")
    app.session.touch()
    ui.tap(app.header.ids.elder_toggle)                  # the visit's end turned elder mode off: on again

    # elder mode, the platform cannot be reached: the kept list with its age, a number from the kiosk's block
    platform_port = ui.flow.port
    ui.flow.port = CentralClient("http://127.0.0.1:9", "demo-hall-k01", DEMO_SECRET, lookup_timeout_s=1)
    try:
        screen = _open(ui)
        assert screen.offline and "09:30" in screen.intro and app.elder
        _fits(ui, screen)
        shot("choose-offline-elder")
        ui.tap(_row(screen, "tax"))
        _panel(ui, screen, "id_card", "the optional ID card")
        ui.tap(screen.ids.without_card)
        _panel(ui, screen, "done", "the offline ticket")
        assert screen.number.startswith("Z") and ui.flow.ticket.offline
        _fits(ui, screen)
        shot("done-offline-elder")
        app.end_visit("done")
        ui.wait_for(lambda: app.screens.current == "home", 10, "home")
    finally:
        ui.flow.port = platform_port

    # at night the hall is closed: when to come back (the visit's end turned elder mode off)
    ui.platform.queue_clock("--set", "2026-05-18T21:00:00+08:00")
    try:
        screen = _open(ui)
        assert screen.panels.current == "closed" and "08:30" in screen.come_back
        _fits(ui, screen)
        shot("closed")
    finally:
        ui.platform.queue_clock("--set", "2026-05-18T09:30:00+08:00")
