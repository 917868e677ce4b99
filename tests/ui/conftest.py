"""The real kiosk app in a real Kivy window, shared by the UI tests.

Kivy allows one window per process, so one app serves every test here and is
reset to a fresh home screen between tests. When there is no display the
suite starts Xvfb itself and stops it by pid afterwards. Kivy is imported only
inside these fixtures, so the other tests never load it. The session clock is
steered by the tests (`ui.advance(s)`), the wall clock is fixed, and
screenshots go to tests/artifacts/ui/.
"""
from __future__ import annotations

import datetime as dt
import gc
import os
import re
from pathlib import Path

import pytest

from kiosk.wire import sealed

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts" / "ui"
WALL_CLOCK = dt.datetime(2026, 5, 18, 9, 30)
DEMO_SERVICE = "demo"
NOTICE_KEY = sealed.public_key_text(sealed.new_private_key().public_key())   # a notifier's; its private half unused


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.ui)


def _config(directory: Path) -> Path:
    text = (ROOT / "config" / "kiosk.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^data_dir = .*$', 'data_dir = "var"', text)
    text = re.sub(r'(?m)^seed_file = "(.*)"', lambda m: f'seed_file = "{ROOT / "config" / m.group(1)}"', text)
    # a platform notifier's key: deposits seal their codes to it, and staff are told the code is texted
    text = re.sub(r'(?m)^notice_key = .*\n', "", text, count=1)   # the default config's demo key, replaced
    text = text.replace("[central]\n", f'[central]\nnotice_key = "{NOTICE_KEY}"\n', 1)
    # the voice writes what it says to files (tests/ui/test_voice.py) rather than to a sound card
    text = re.sub(r'(?m)^record_dir = "".*$', 'record_dir = "voice"', text)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def ui_cupsd():
    """The A4 printer: the default config's CUPS queue "sim" on a private cupsd (kiosk/tour/cupsd.py), for the app
    and for `kiosk tour` run from here (both find it through $CUPS_SERVER); None where CUPS cannot run."""
    from kiosk.tour.cupsd import PrivateCupsd

    cups, saved_cups_server = None, os.environ.get("CUPS_SERVER")
    if PrivateCupsd.unavailable() is None:
        cups = PrivateCupsd().start()
        cups.add_queue("sim")
        os.environ["CUPS_SERVER"] = cups.socket
    try:
        yield cups
    finally:
        if cups:
            cups.stop()
            if saved_cups_server is None:
                os.environ.pop("CUPS_SERVER", None)
            else:
                os.environ["CUPS_SERVER"] = saved_cups_server


@pytest.fixture(scope="session")
def kiosk_ui(tmp_path_factory, ui_cupsd):
    from kiosk import config
    from kiosk.app.root import CITIZEN_SERVICES
    from kiosk.app.services import CitizenService
    from kiosk.core.session import SteerableClock
    from kiosk.tour.compose import build_app
    from kiosk.tour.xvfb import VirtualDisplay, needs_virtual_display

    settings = config.load(_config(tmp_path_factory.mktemp("ui-kiosk")))
    display = VirtualDisplay(settings.ui.width, settings.ui.height) if needs_virtual_display() else None
    if display:
        display.start()
    driver = None
    try:
        clock = SteerableClock(follow_real_time=False)

        def demo_screen(_app, _flow, _visit):
            from kivy.uix.label import Label
            from kivy.uix.screenmanager import Screen

            screen = Screen(name=DEMO_SERVICE)
            screen.add_widget(Label(text="demo service", color=(0, 0, 0, 1)))
            return screen

        # a stand-in service with no flow, for the tile behaviour: its tile is the last one
        demo = CitizenService(DEMO_SERVICE, "Home", ("locker",), lambda _parts: None, demo_screen)
        # built as the tour builds it: the production composition root, plus the simulators' fault controls
        app = build_app(settings, clock=clock, now=lambda: WALL_CLOCK, services=[*CITIZEN_SERVICES, demo])
        from kiosk.tour.driver import UiDriver

        driver = UiDriver(app, clock)
        driver.start()
        # what exists now (pytest, the collected test modules, the app as started) lives for the whole
        # run: out of the cycle collector's reach, so the collection after each visit (kiosk/memory.py)
        # walks what the tests made since, not a third of a million objects
        gc.freeze()
        yield driver
    finally:
        if driver:
            driver.stop()
        if display:
            display.stop()


@pytest.fixture
def ui(kiosk_ui):
    """The app on a fresh home screen: zh_CN, normal mode, no visit running, devices up."""
    for device in ["locker", *kiosk_ui.app.device_problems]:   # devices up: no tile left showing a problem
        kiosk_ui.app.set_device_problem(device, None)
    kiosk_ui.reset()
    kiosk_ui.pump()
    yield kiosk_ui
    kiosk_ui.reset()
    # the simulators as every test finds them: the demo card on the reader (a test that took it off for
    # its own steps left the technician's card check, later in the run, with no card)
    from kiosk.sim.registry import simulator

    simulator("idcard").insert_card()


def pickup_service(app):
    """The shared app's pickup locker service (kiosk/app/pickup.py PickupService)."""
    from kiosk.app.root import PICKUP

    return app.kiosk.flow(PICKUP)


@pytest.fixture
def guides_screen(kiosk_ui):
    """The guides screen of the shared app, once the receipt printer is up (made for this test's visit:
    the one before gave its own back)."""
    app = kiosk_ui.app
    runtime = app.kiosk.parts.runtime
    runtime.devices.get("receipt_printer") or runtime.wait_ready(10)
    return app.screen("guides")


def screen_widgets(app, exclude: tuple[str, ...] = ()) -> list:
    """Every widget of the app's screens, in their step panels and inner screens shown or not (each
    screen made now, as a visit would: they are made when first opened)."""
    from kiosk.screens.widgets import widget_tree

    for name in app.screen_names():
        if name not in exclude:
            app.screen(name)
    found, seen = [], set()
    for screen in app.screens.screens:
        if screen.name in exclude:
            continue
        for root in (screen, *getattr(getattr(screen, "panels", None), "panels", {}).values()):
            for w in widget_tree(root):
                if id(w) not in seen:
                    seen.add(id(w))
                    found.append(w)
    return found


def assert_texts_fit(ui, panel) -> None:
    """Every text shown on the panel fits its widget and the window: nothing cut or running off. What a
    hidden parent hides (no opacity, or no height) is not shown, so not checked."""
    from kivy.core.window import Window
    from kivy.uix.label import Label

    ui.pump(3)
    stack = [panel]
    while stack:
        w = stack.pop()
        if w.opacity == 0 or w.height <= 0:
            continue
        stack.extend(w.children)
        if not isinstance(w, Label) or not w.text.strip():
            continue
        tw, th = w.texture_size
        assert tw <= w.width + 2, f"{w.text!r} is {tw:.0f} px wide in a {w.width:.0f} px widget"
        assert th <= w.height + 2, f"{w.text!r} is {th:.0f} px high in a {w.height:.0f} px widget"
        left, _ = w.to_window(w.x, w.y)
        assert left >= -1 and left + w.width <= Window.width + 1, f"{w.text!r} runs off the window"


def rect(w) -> tuple[float, float, float, float]:
    x, y = w.to_window(w.x, w.y)
    return x, y, x + w.width, y + w.height


def overlap(a, b) -> bool:
    return a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1


def tiles(app) -> list:
    return list(reversed(app.home.ids.tiles.children))


@pytest.fixture
def landscape(ui):
    """The window turned to landscape, 1920 x 1080 (as `[ui] width = 1920, height = 1080` or a rotation
    of 90 makes it), and back to portrait afterwards."""
    from kivy.core.window import Window

    before = Window.size
    Window.size = (1920, 1080)
    ui.pump(6)
    assert ui.app.home.wide
    yield
    Window.size = before
    ui.pump(6)
    assert not ui.app.home.wide


def assert_home_holds(ui, shown: list, floor: bool = True) -> None:
    """Every tile on the window in the service list's order, no overlaps, texts fitting, big enough (with
    `floor`: at least as tall as a normal-mode tile)."""
    from kivy.core.text import Label as CoreLabel
    from kivy.core.window import Window
    from kivy.metrics import dp

    from kiosk.screens import theme

    app, home = ui.app, ui.app.home
    ui.pump(3)
    on_home = tiles(app)
    assert [t.key for t in on_home] == [s.key for s in shown]
    header = rect(app.header)
    rects = [rect(t) for t in on_home]
    for tile, r in zip(on_home, rects):
        assert r[0] >= -1 and r[1] >= -1 and r[2] <= Window.width + 1 and r[3] <= header[1] + 1, \
            f"{tile.key} at {r} is not wholly on the window under the header"
        assert tile.width >= dp(theme.TOUCH_MIN_DP) and tile.height >= dp(theme.TOUCH_MIN_DP)
        assert not floor or tile.height >= dp(theme.TILE_DP), f"{tile.key} is {tile.width:.0f} x {tile.height:.0f} px"
    for i, a in enumerate(rects):
        for j in range(i + 1, len(rects)):
            assert not overlap(a, rects[j]), f"{on_home[i].key} overlaps {on_home[j].key}"
    # in reading order: row by row from the top, left to right within a row
    order = sorted(range(len(rects)), key=lambda i: (-round(rects[i][3]), rects[i][0]))
    assert order == list(range(len(rects)))
    ids = home.ids
    blocks = [ids.hall_slot, ids.welcome_slot, ids.clock_slot, ids.status_slot, ids.help_slot]
    for block in blocks:
        if block.opacity and block.height > 0:
            for tile, r in zip(on_home, rects):
                assert not overlap(r, rect(block)), f"{tile.key} lies over the home screen's {block} block"
    assert_texts_fit(ui, home)
    for tile in on_home:
        title = tile.ids.title
        measure = CoreLabel(text=title.text, font_size=title.font_size, bold=True)
        measure.resolve_font_name()
        for word in title.text.split():
            assert measure.get_extents(word)[0] <= title.width + 1, f"{word!r} is broken in its tile"


def small_keys(pad) -> list:
    """The keys of a KeyGrid under the 60 dp touch target, with their rects."""
    from kivy.metrics import dp

    return [(key, pad.key_rect(key)) for key in pad.keys()
            if pad.key_rect(key)[2] < dp(60) or pad.key_rect(key)[3] < dp(60)]


def locker_sim():
    from kiosk.sim.registry import simulator

    return simulator("locker")


def _steps_done(flow, timeout: float = 30.0) -> None:
    """The flow's steps run on its worker thread and report back on the main thread (this one): run
    frames until every step started has reported back."""
    import time

    from kivy.base import EventLoop

    end = time.monotonic() + timeout
    while flow.executor.pending and time.monotonic() < end:
        EventLoop.idle()
        time.sleep(0.01)


def deposit_item(app, case: str, close_after_s: float = 1.5, holder: str | None = None) -> tuple[int, str]:
    """Staff deposit an item through the flow (the door closes `close_after_s` after it opened): (door, code).
    With `holder` (an ID number) the item is handed over only with that holder's card."""
    import threading

    flow = pickup_service(app).deposit
    flow.begin("1001")
    assert flow.set_case(case)
    flow.choose(size="medium", require_id=holder is not None)
    closer = lambda f: f.step.value == "door_open" and threading.Timer(close_after_s, locker_sim().close_door,
                                                                        (f.door,)).start()
    flow.listeners.append(closer)
    try:
        flow.confirm_options()
        if holder is not None:
            assert flow.set_holder_number(holder)
        _steps_done(flow)
    finally:
        flow.listeners.remove(closer)
    assert flow.step.value == "code"
    door, code = flow.door, flow.code
    flow.code_seen()
    return door, code


def open_deposit(ui):
    """The staff deposit screen, as after staff 1001 signed in and tapped Deposit."""
    staff = ui.app.screen("staff")
    ui.app.session.touch()
    staff.signed_in = "1001"
    ui.app.show("staff_deposit")
    ui.pump(3)
    return ui.app.screen("staff_deposit")


@pytest.fixture
def pickup_ui(ui):
    """The app with the locker service up (its screens: pickup, staff)."""
    app = ui.app
    ui.pump()
    ui.wait_for(lambda: pickup_service(app).ready, what="the locker service")
    yield ui
    app.go_home()
    ui.pump()


@pytest.fixture
def shot(request, ui):
    """shot("name") saves what the window shows to tests/artifacts/ui/<test>-<name>.png;
    shot("name", text=...) saves what a device printed (a receipt slip) beside it as <test>-<name>.txt."""
    def save(name: str, text: str | None = None) -> Path:
        if text is not None:
            path = ARTIFACTS / f"{request.node.name}-{name}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return path
        return ui.screenshot(ARTIFACTS / f"{request.node.name}-{name}.png")
    return save


def pytest_collection_finish(session):
    """Kivy reads its configuration when first imported: a test module that imports it at the top
    (directly or through kiosk.screens) would configure it before the app does. Say so plainly."""
    import sys

    if "kivy" in sys.modules:
        raise pytest.UsageError("kivy was imported while collecting the tests: import kivy and kiosk.screens "
                                "inside the tests or fixtures of tests/ui, never at the top of a test module")
