"""The citizen flows with a USB keypad or a keyboard's arrow keys alone (kiosk/screens/focus.py): focus in
reading order with a visible ring, Enter presses, Escape is Back, digits type; EN 301 549 5.1.3, ADA 707.6.
Every step here is a key event through the window (`ui.key`), never a tap."""
from __future__ import annotations


import pytest

from tests.ui.conftest import deposit_item, locker_sim, pickup_service, tiles

DOWN, UP, RIGHT, LEFT, TAB, ENTER, KP_ENTER, ESCAPE, BACKSPACE = 274, 273, 275, 276, 9, 13, 271, 27, 8


def real(widget):
    """The widget an `ids` entry (a weak proxy) stands for."""
    return getattr(widget, "__self__", widget)


def focused(ui):
    return ui.app.keypad_focus.target


def down_to(ui, wanted, what: str, most: int = 60, key: int = DOWN) -> None:
    """Press Down (or `key`) until the focused target is `wanted(target)`."""
    for _ in range(most):
        ui.key(key)
        if focused(ui) is not None and wanted(focused(ui)):
            return
    raise AssertionError(f"focus never reached {what}; it is on {focused(ui) and focused(ui).text()!r}")


def digit(ui, ch: str, keypad: bool = False) -> None:
    """A digit key: the keyboard's row (keycode of the character) or the keypad's (256-265, numlock on)."""
    ui.key(256 + int(ch) if keypad else ord(ch), 0, ch)


def tile_of(ui, key: str):
    tile = next(t for t in tiles(ui.app) if t.key == key)
    ui.wait_for(lambda: not tile.disabled, 90, f"the {key} tile enabled")
    return tile


def open_by_keys(ui, key: str) -> None:
    """From home: Down to the tile of service `key`, Enter."""
    tile = tile_of(ui, key)
    down_to(ui, lambda t: t.widget is tile, f"the {key} tile")
    ui.key(ENTER)
    ui.wait_for(lambda: ui.app.screens.current == key, 10, f"the {key} screen")


def ring_bands(ui):
    """The ring's outer band as (left, bottom, right, top, width) and its colours (outer, inner)."""
    ring = ui.app.keypad_focus.ring
    below, _above, left, right = ring.outer_bars
    return ((left.pos[0], below.pos[1], right.pos[0] + right.size[0], _above.pos[1] + _above.size[1], left.size[0]),
            (tuple(ring.outer.rgba), tuple(ring.inner.rgba)))


def test_the_first_key_shows_focus_on_the_first_element_and_the_tiles_follow_in_reading_order(ui, shot):
    from kivy.core.window import Window
    from kivy.metrics import dp

    from kiosk.screens import theme

    app = ui.app
    assert focused(ui) is None and not app.keypad_focus.ring.shown
    ui.key(DOWN)
    header_first = focused(ui)
    assert header_first.widget is real(app.header.ids.lang_zh_CN)   # Home is not shown at home: the first chip
    _, (outer, _inner) = ring_bands(ui)
    assert outer == pytest.approx(theme.SURFACE)               # a white ring on the dark header bar
    # every tile, row by row from the top, left to right: the service list's order
    on_home = tiles(app)
    seen = []
    for _ in range(len(on_home) + 3):
        ui.key(DOWN)
        if focused(ui).widget in on_home and focused(ui).widget not in seen:
            seen.append(focused(ui).widget)
    assert [t.key for t in seen] == [t.key for t in on_home]
    # back to the first tile: Up, Left and Shift-Tab go back, Right and Tab forward
    down_to(ui, lambda t: t.widget is on_home[0], "the first tile", key=UP)
    ui.key(RIGHT)
    assert focused(ui).widget is on_home[1]
    ui.key(LEFT)
    assert focused(ui).widget is on_home[0]
    ui.key(TAB)
    assert focused(ui).widget is on_home[1]
    Window.dispatch("on_key_down", TAB, 0, None, ["shift"])
    ui.pump(2)
    assert focused(ui).widget is on_home[0]
    ui.key(UP)
    assert focused(ui).widget is real(app.header.ids.help_button)   # the header's last chip (Call staff), above the tiles

    ui.key(DOWN)
    tile = on_home[0]
    (left, bottom, right, top, width), (outer, inner) = ring_bands(ui)
    x0, y0 = tile.to_window(tile.x, tile.y)
    assert width >= dp(3) - 0.01
    assert left <= x0 - width and bottom <= y0 - width
    assert right >= x0 + tile.width + width and top >= y0 + tile.height + width
    assert outer == pytest.approx(theme.HEADER) and inner == pytest.approx(theme.SURFACE)
    assert app.keypad_focus.ring.group in Window.canvas.after.children
    shot("first-tile-focused")


def test_a_touch_or_the_end_of_the_visit_takes_the_focus_away(ui):
    from kivy.core.window import Window

    app = ui.app
    ui.key(DOWN)
    assert app.keypad_focus.ring.shown
    ui.tap(app.home.ids.hall_name)
    assert focused(ui) is None and app.keypad_focus.ring.group not in Window.canvas.after.children
    ui.key(DOWN)
    ui.reset()
    assert focused(ui) is None and not app.keypad_focus.ring.shown


def test_pickup_by_keys_alone_arrow_to_the_tile_enter_type_the_code_and_the_door_opens(pickup_ui, shot):
    ui = pickup_ui
    door, code = deposit_item(ui.app, "KEY-0001")
    open_by_keys(ui, "pickup")
    screen = ui.app.screen("pickup")
    flow = pickup_service(ui.app).pickup
    ui.wait_for(lambda: screen.panels.current == "code", 10, "the keypad")
    assert focused(ui) is None   # focus cleared with the screen change
    digit(ui, code[0])
    digit(ui, code[1], keypad=True)
    digit(ui, "9")
    ui.wait_for(lambda: len(flow.digits) == 3, 5, "three digits typed")
    ui.key(BACKSPACE)            # the pad has a delete key: Backspace deletes, it is not Back
    ui.wait_for(lambda: len(flow.digits) == 2, 5, "the 9 deleted")
    assert ui.app.screens.current == "pickup"
    ui.key(DOWN)
    ui.key(DOWN)
    shot("keypad-focus")
    for ch in code[2:]:
        digit(ui, ch)
    ui.wait_for(lambda: screen.panels.current == "door_open", 20, "the door open")
    assert locker_sim().is_open(door)
    shot("door-open")
    locker_sim().close_door(door)
    ui.wait_for(lambda: screen.panels.current == "done", 20, "done")


def test_the_keypad_keys_take_focus_and_enter_types_the_focused_key(pickup_ui):
    ui = pickup_ui
    open_by_keys(ui, "pickup")
    screen = ui.app.screen("pickup")
    flow = pickup_service(ui.app).pickup
    ui.wait_for(lambda: screen.panels.current == "code", 10, "the keypad")
    pad = real(screen.ids.keypad)
    down_to(ui, lambda t: t.widget is pad, "the keypad")
    assert focused(ui).key == "1"
    ui.key(RIGHT)
    ui.key(KP_ENTER)
    assert flow.digits == "2"
    # the keys in their rows, then Cancel under them
    order = []
    for _ in range(12):
        ui.key(DOWN)
        order.append(focused(ui).key or focused(ui).widget.text)
    assert order[:10] == ["3", "4", "5", "6", "7", "8", "9", "clear", "0", "back"]
    assert "取消" in order[10:]
    ui.key(ESCAPE)               # Back: the screen's Cancel, which ends the visit
    ui.wait_for(lambda: ui.app.screens.current == "home", 10, "home")


def test_guides_by_keys_a_theme_a_guide_and_back(ui, guides_screen, shot):
    from kiosk.screens.guides_home import GroupTile
    from kiosk.screens.guides_widgets import GuideRow

    open_by_keys(ui, "guides")
    flow = guides_screen.flow
    ui.wait_for(lambda: guides_screen.pages.current == "home" and guides_screen.current_view.ids.themes.children,
                10, "the themes")
    down_to(ui, lambda t: isinstance(t.widget, GroupTile), "a theme")
    theme_name = focused(ui).widget.group
    shot("theme-focused")
    ui.key(ENTER)
    ui.wait_for(lambda: guides_screen.pages.current == "list", 10, "the theme's guides")
    down_to(ui, lambda t: isinstance(t.widget, GuideRow), "a guide")
    down_to(ui, lambda t: isinstance(t.widget, GuideRow) and t.widget.code, "a guide")
    code = focused(ui).widget.code
    ui.key(ENTER)
    ui.wait_for(lambda: guides_screen.pages.current == "detail" and flow.item is not None, 10, "the guide")
    assert flow.item.code == code
    shot("guide")
    ui.key(ESCAPE)
    ui.wait_for(lambda: guides_screen.pages.current == "list", 10, "back to the list")
    ui.key(ESCAPE)
    ui.wait_for(lambda: guides_screen.pages.current == "home", 10, "back to the themes")
    assert theme_name
    ui.key(ESCAPE)               # no Back on the guides' first view: the header's Home ends the visit
    ui.wait_for(lambda: ui.app.screens.current == "home", 10, "home")


def test_documents_by_keys_its_first_step(ui):
    from kiosk.app.root import DOCUMENTS

    app = ui.app
    ui.wait_for(lambda: app.makes_screen("documents") and "document_printer" not in app.device_problems, 60,
                "the A4 printer")
    flow = app.kiosk.flow(DOCUMENTS)
    from kiosk.sim.registry import simulator

    simulator("idcard").remove_card()
    open_by_keys(ui, "documents")
    screen = app.screen("documents")
    first = real(screen.ids.option_0)
    down_to(ui, lambda t: t.widget is first, "the first action")
    ui.key(ENTER)
    ui.wait_for(lambda: flow.state.value != "idle", 10, "the first step")
    assert flow.state.value == "read_card"
    ui.key(ESCAPE)
    ui.wait_for(lambda: app.screens.current == "home", 10, "home")


def test_with_voice_on_the_focused_element_is_said_and_the_screen_is_not_read_again(ui, monkeypatch):
    app = ui.app
    voice = app.voice
    said = []
    monkeypatch.setattr(voice, "screen", lambda lines, lang: said.append(("screen", list(lines))))
    monkeypatch.setattr(voice, "say", lambda lines, lang: said.append(("say", list(lines))))
    app.toggle_voice()
    try:
        # the screen reader reads the home screen once (it looks every 0.4 s: waited for, not slept on)
        ui.wait_for(lambda: any(kind == "screen" and app.hall in lines for kind, lines in said), 20,
                    "the home screen read")
        said.clear()
        ui.key(DOWN)
        ui.key(DOWN)
        assert said == [("screen", ["中文"]), ("screen", ["English"])]
        app.screen_reader._look()       # the reader looks again: the screen has not changed, nothing is read
        app.screen_reader._look()
        assert said == [("screen", ["中文"]), ("screen", ["English"])]
    finally:
        if voice.on:
            app.toggle_voice()
