"""The home screen holds every service at once: 1 to 9 tiles, normal and elder mode, zh_CN and en, portrait
and landscape, never a scroll.

The shared app (tests/ui/conftest.py) offers the real services and the stand-in `demo`; for the counts it
lacks, test-only stand-in services go after the real ones in its service list, titled with msgids the
catalogs have, as long as a service's title may be in either language (so that both languages show real
text, as the services still to come will). Each arrangement is checked: every tile on the window, in the
service list's order, none over another or over the page's other blocks, every text fitting its widget,
no title broken mid-word, touch targets at least a normal-mode tile; and screenshots of each go to
tests/artifacts/ui/.
"""
from __future__ import annotations

import pytest

from tests.ui.conftest import DEMO_SERVICE, assert_home_holds, assert_texts_fit, rect, tiles

# titles as long as a real service's may be (zh 4-6 characters, en up to 25), none of a real service; the
# longest first, so that they stay in the counts as real services take the first places
STAND_IN_TITLES = ("Thank you for your rating", "Open the door again", "Print a test receipt", "Scan a pickup code",
                   "Pay by bank card")
COUNTS = (1, 4, 7, 9)


def stand_ins():
    from kiosk.app.services import CitizenService

    return [CitizenService(f"standin{i}", title, (), lambda _parts: None, lambda *_a: None)
            for i, title in enumerate(STAND_IN_TITLES, 1)]


@pytest.fixture
def services(ui):
    """services(n): the app's home screen with its first n services (the real ones first, then stand-ins)."""
    app = ui.app
    before = app.services
    real = [s for s in before if s.key != DEMO_SERVICE]

    def show(n: int) -> list:
        app.services = (real + stand_ins())[:n]
        app._show_tiles()
        ui.pump(4)
        return app.services

    yield show
    app.services = before
    app._show_tiles()
    ui.pump(4)


def assert_a_device_down_moves_nothing(ui) -> None:
    """The tiles of the locker's services show the reason where they are, and their texts still fit."""
    from kiosk.core.offer import DeviceProblem
    from kiosk.hardware.device import State

    before = [rect(t) for t in tiles(ui.app)]
    ui.app.set_device_problem("locker", DeviceProblem("no_answer", State.OFFLINE))
    ui.pump(4)
    try:
        down = [t for t in tiles(ui.app) if t.disabled]
        assert down and all(t.reason for t in down)
        assert [rect(t) for t in tiles(ui.app)] == before
        assert_texts_fit(ui, ui.app.home)
    finally:
        ui.app.set_device_problem("locker", None)
        ui.pump(4)


def each_mode_and_language(ui):
    for elder in (False, True):
        if elder != ui.app.elder:
            ui.tap(ui.app.header.ids.elder_toggle)
        for lang in ("zh_CN", "en"):
            ui.app.set_language(lang)
            ui.pump(4)
            yield f"{'elder' if elder else 'normal'}-{lang}"


@pytest.mark.parametrize("count", COUNTS)
def test_every_service_has_a_whole_tile_on_the_screen_in_both_modes_and_languages(ui, services, shot, count):
    shown = services(count)
    for case in each_mode_and_language(ui):
        assert_home_holds(ui, shown)
        assert_a_device_down_moves_nothing(ui)
        shot(f"{count}-{case}")


@pytest.mark.parametrize("count", COUNTS)
def test_a_landscape_screen_holds_every_service_too(ui, services, landscape, shot, count):
    # 1080 px high: in elder mode, four rows of tiles come out shorter than a normal-mode tile (not a floor
    # here), and seven or nine tiles with long titles take the next title size down (kiosk/screens/home.py)
    shown = services(count)
    for case in each_mode_and_language(ui):
        assert_home_holds(ui, shown, floor=False)
        assert_a_device_down_moves_nothing(ui)
        shot(f"landscape-{count}-{case}")


def test_nine_tiles_with_a_device_down_keep_their_places_and_say_why(ui, services, shot):
    from kiosk.core.offer import DeviceProblem
    from kiosk.hardware.device import State

    shown = services(9)
    ui.tap(ui.app.header.ids.elder_toggle)
    ui.app.set_language("en")
    ui.app.set_device_problem("locker", DeviceProblem("no_answer", State.OFFLINE))
    ui.pump(4)
    try:
        assert_home_holds(ui, shown)
        down = {t.key: t for t in tiles(ui.app) if t.disabled}
        assert set(down) == {"pickup", "handin"}
        for tile in down.values():
            assert tile.ids.reason.text == "Out of service" and tile.ids.reason.opacity == 1
        assert_texts_fit(ui, ui.app.home)
        shot("elder-en-locker-down")
    finally:
        ui.app.set_device_problem("locker", None)
        ui.pump(4)
