"""The pickup locker in the real window: the keypad, the door screen, the lockout, the board going silent.

The shared app of tests/ui/conftest.py runs the default config, so its devices
are the built-in simulators of this process (`sim://locker`, ...), brought up by
kiosk/app/device_runtime.py. The pickup screens are added to it here once.
"""
from __future__ import annotations

import time

import pytest

from tests.ui.conftest import deposit_item as _deposit
from tests.ui.conftest import locker_sim as _sim
from tests.ui.conftest import pickup_service


def _open(ui):
    ui.app.show("pickup")
    screen = ui.app.screen("pickup")
    ui.wait_for(lambda: screen.panels.current in ("code", "locked"), what="the keypad")
    return screen


def _type(ui, screen, text):
    """Tap each key (scrolled into the window, which may be small in tests) and wait until the flow
    has it (the scroll view hands a tap on a moment later)."""
    flow = pickup_service(ui.app).pickup
    for ch in text:
        before = (flow.digits, flow.tries_left, flow.step)
        ui.tap_key(screen.ids.keypad, ch)
        ui.wait_for(lambda: (flow.digits, flow.tries_left, flow.step) != before or screen.worker.pending,
                 what=f"key {ch} taken")


def test_a_code_typed_on_the_keypad_opens_the_door_and_shows_which_one(pickup_ui, shot):
    ui = pickup_ui
    door, code = _deposit(ui.app, "UI-0001")
    screen = _open(ui)
    _type(ui, screen, code[:4])
    # the keys sit in a scroll view, which hands a tap to them a moment after the finger lifts
    ui.wait_for(lambda: len(pickup_service(ui.app).pickup.digits) == 4, what="four digits typed")
    assert screen.ids.code_shown.text.replace(" ", "").startswith(code[:4])
    _type(ui, screen, code[4:])
    ui.wait_for(lambda: screen.panels.current == "door_open", what="the door open")
    assert screen.ids.door_number.text == str(door) and _sim().is_open(door)
    assert "请取出您的证照" in screen.ids.take_and_close.text
    assert ui.app.session.held
    shot("door-open")
    _sim().close_door(door)
    ui.wait_for(lambda: screen.panels.current == "done", what="done")
    assert not ui.app.session.held
    shot("done")


def test_the_code_of_an_item_already_collected_says_so_and_when(pickup_ui, shot):
    import datetime as dt

    from kiosk.i18n import format_date

    ui = pickup_ui
    flow = pickup_service(ui.app).pickup
    door, code = _deposit(ui.app, "UI-0002")
    screen = _open(ui)
    _type(ui, screen, code)
    ui.wait_for(lambda: screen.panels.current == "door_open", what="the door open")
    _sim().close_door(door)
    ui.wait_for(lambda: screen.panels.current == "done", what="done")
    ui.app.end_visit("done")
    ui.pump(3)
    ui.app.show("pickup")      # the next citizen types the same code
    screen = _open(ui)
    tries = flow.tries_left
    _type(ui, screen, code)
    ui.wait_for(lambda: flow.notice is not None and flow.notice.value == "already_collected", what="the notice")
    day = format_date(dt.datetime.fromtimestamp(flow.ended_at).date(), "zh_CN")
    assert screen.ids.notice.text == f"该物品已于{day}领取。"
    assert flow.tries_left == tries and screen.panels.current == "code" and _sim().is_open(door) is False
    shot("already-collected")
    ui.app.set_language("en")
    ui.pump(3)
    assert screen.ids.notice.text.startswith("This item was already collected on ")
    assert screen.ids.notice.texture_size[0] <= screen.ids.notice.width + 2
    shot("already-collected-en")
    ui.app.set_language("zh_CN")


def test_five_wrong_codes_show_the_countdown_and_the_keypad_returns_when_it_ends(pickup_ui, shot):
    ui = pickup_ui
    screen = _open(ui)
    for _ in range(5):
        _type(ui, screen, "000000")
        ui.wait_for(lambda: not screen.worker.pending and not pickup_service(ui.app).pickup.digits, what="the code checked")
    ui.wait_for(lambda: screen.panels.current == "locked", what="the lockout")
    assert int(screen.ids.countdown.text) == 60
    shot("locked")
    ui.advance(30)
    time.sleep(0.6)
    ui.wait_for(lambda: int(screen.ids.countdown.text) <= 30, what="the countdown")
    ui.advance(31)
    ui.wait_for(lambda: screen.panels.current == "code", what="the keypad back")


def test_a_silent_lock_board_makes_pickup_unavailable_with_the_reason(pickup_ui):
    from kiosk.app.root import CITIZEN_SERVICES
    from kiosk.core.offer import unavailable_reason

    ui = pickup_ui
    poller = next(p for p in ui.app.kiosk.parts.runtime.pollers if p.device.name == "locker")
    _sim().silence(1)
    try:
        poller.poll_once()
        ui.pump()
        from kiosk.hardware.device import State

        assert ui.app.device_problems["locker"].state is State.OFFLINE
        pickup = next(s for s in CITIZEN_SERVICES if s.key == "pickup")
        assert unavailable_reason(pickup, ui.app.device_problems) == "Out of service"
    finally:
        _sim().silence(1, False)
        poller.poll_once()
        ui.pump()
    assert "locker" not in ui.app.device_problems

