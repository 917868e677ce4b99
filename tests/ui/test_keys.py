"""Pads of keys drawn as one widget (kiosk/screens/keys.py), in the real window."""
from __future__ import annotations

import pytest

from tests.ui.conftest import screen_widgets, small_keys


@pytest.fixture
def pad(ui):
    from kivy.core.window import Window

    from kiosk.screens.keys import KeyGrid

    taps = []
    grid = KeyGrid(rows=[["1", "2", "3"], ["back", "0"]], widths={"back": 2}, edit_keys=["back"],
                   captions={"back": "Delete"}, row_height=100, spacing=20,
                   size_hint=(None, None), size=(640, 220), pos=(40, 300))
    grid.bind(on_key=lambda _g, key: taps.append(key))
    Window.add_widget(grid)
    ui.pump()
    yield grid, taps
    Window.remove_widget(grid)


def finger(ui, x, y):
    from kivy.base import EventLoop

    from kiosk.tour.driver import Finger

    touch = Finger(x, y)
    EventLoop.post_dispatch_input("begin", touch)
    ui.pump(1)
    return touch


def move(ui, touch, x, y):
    from kivy.base import EventLoop
    from kivy.core.window import Window

    touch.move({"x": x / max(1.0, Window.width - 1.0), "y": y / max(1.0, Window.height - 1.0)})
    EventLoop.post_dispatch_input("update", touch)
    ui.pump(1)


def lift(ui, touch):
    from kivy.base import EventLoop

    touch.update_time_end()
    EventLoop.post_dispatch_input("end", touch)
    ui.pump(1)


def test_keys_share_their_row_by_width_top_row_first(pad):
    grid, _ = pad
    assert grid.minimum_height == 2 * 100 + 20
    assert grid.key_rect("1") == (40, 420, 200, 100)       # (640 - 2 * 20) / 3 wide, on top
    assert grid.key_rect("3") == (480, 420, 200, 100)
    back, zero = grid.key_rect("back"), grid.key_rect("0")
    assert back[1] == zero[1] == 300 and back[2] == pytest.approx(2 * zero[2])
    assert back[0] + back[2] + 20 == pytest.approx(zero[0]) and zero[0] + zero[2] == pytest.approx(680)
    with pytest.raises(KeyError, match="no key 'x'.*1, 2, 3, back, 0"):
        grid.key_rect("x")


def test_a_tap_gives_the_key_and_the_key_shows_pressed_while_the_finger_is_down(ui, pad):
    from kiosk.screens import theme

    grid, taps = pad
    ui.tap_key(grid, "2")
    ui.tap_key(grid, "back")
    assert taps == ["2", "back"] and grid.pressed == ""
    touch = finger(ui, *grid.to_window(*grid.key_center("3")))
    assert grid.pressed == "3" and tuple(grid._fills["3"].rgba) == pytest.approx(theme.ACCENT_SOFT)
    assert tuple(grid._fills["2"].rgba) == pytest.approx(theme.SURFACE)
    lift(ui, touch)
    assert taps == ["2", "back", "3"] and tuple(grid._fills["3"].rgba) == pytest.approx(theme.SURFACE)


def test_a_finger_that_slides_off_its_key_or_lands_between_keys_types_nothing(ui, pad):
    grid, taps = pad
    touch = finger(ui, *grid.to_window(*grid.key_center("1")))
    move(ui, touch, *grid.to_window(*grid.key_center("2")))
    assert grid.pressed == ""
    lift(ui, touch)
    x, y, w, h = grid.key_rect("1")
    ui.tap_at(*grid.to_window(x + w + 10, y + h / 2))    # in the 20 px between 1 and 2
    assert taps == [] and grid.pressed == ""


def test_a_disabled_pad_takes_no_key_and_looks_disabled(ui, pad):
    from kiosk.screens import theme

    grid, taps = pad
    grid.disabled = True
    ui.pump()
    ui.tap_key(grid, "1")
    assert taps == []
    assert all(tuple(fill.rgba) == pytest.approx(theme.DISABLED) for fill in grid._fills.values())
    grid.disabled = False
    ui.pump()
    ui.tap_key(grid, "1")
    assert taps == ["1"]


def test_captions_are_drawn_and_follow_a_new_caption(ui, pad):
    from kivy.graphics import Rectangle

    grid, _ = pad

    def caption_textures():
        return [i.texture for i in grid.canvas.children if type(i) is Rectangle]  # not RoundedRectangle

    before = caption_textures()
    assert len(before) == 5 and all(t.width > 0 and t.height > 0 for t in before)
    wide = next(t for t in before if t.width == max(t.width for t in before))  # "Delete"
    grid.captions = {"back": "Del"}
    ui.pump()
    after = caption_textures()
    assert len(after) == 5 and wide not in after and max(t.width for t in after) < wide.width


def test_every_locker_key_is_a_60_dp_target_and_says_delete_and_clear_in_the_language(pickup_ui):
    from kivy.metrics import dp

    from kiosk.screens.locker_widgets import Keypad

    ui = pickup_ui
    pads = [w for w in screen_widgets(ui.app) if isinstance(w, Keypad)]
    assert len(pads) == 8                        # pickup, hand-in (case), staff sign-in, deposit (case, ID),
    #                                              tickets (the appointment code), progress (the case number),
    #                                              fees (the notice number)
    assert all(not pad.children for pad in pads)  # one widget a pad
    try:
        for elder in (False, True):
            if ui.app.elder != elder:
                ui.app.toggle_elder()
                ui.pump()
            for pad in pads:
                if pad.width < dp(500):   # a panel never shown yet has not been laid out
                    pad.width = ui.app.root.width - 2 * dp(48)
                assert not small_keys(pad), (elder, small_keys(pad))
        ui.app.set_language("en")
        ui.pump()
        assert all(pad.captions == {"clear": "Clear", "back": "Delete"} for pad in pads)
    finally:
        ui.reset()
    assert all(pad.captions["back"] == "删除" for pad in pads)
