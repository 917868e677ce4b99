"""`kiosk tour` steps of a pickup done with a keypad's keys alone (kiosk/screens/focus.py): arrow to the
pickup tile, Enter, type the code with the digit keys, the door opens; the pictures show the focus ring.

Staff first put an item in through their own screens (as in the `pickup-deposit` flow), so this flow
needs no other flow before it. Every citizen step is a key event through the window (`driver.key`),
never a tap. Listed by kiosk/tour/runner.py, run only on a kiosk that offers the pickup.
"""
from __future__ import annotations

from kiosk.tour import steps_pickup
from kiosk.tour.step import Step

DOWN, ENTER, KP_ENTER = 274, 13, 271
_state: dict = {}

FLOWS: dict[str, list[Step]] = {}


def _deposit(d) -> None:
    """Staff sign in by the hidden press, put one item in without the ID card rule, sign out."""
    steps_pickup._long_press_hall_name(d)
    steps_pickup._sign_in(d)
    staff = d.app.screen("staff")
    d.tap(staff.ids.deposit)
    _state["code"] = steps_pickup._deposit_without_id_rule(d, "2026051800031")
    d.tap(d.app.screen("staff_deposit").ids.next_item)
    d.app.show("staff")
    d.pump()
    d.tap(staff.ids.sign_out)
    d.wait_for(lambda: d.app.screens.current == "home", what="home after the deposit")


def _focused(d):
    return d.app.keypad_focus.target


def _down_to(d, wanted, what: str, most: int = 40) -> None:
    for _ in range(most):
        d.key(DOWN)
        if _focused(d) is not None and wanted(_focused(d)):
            return
    raise AssertionError(f"focus never reached {what}")


def _first_key(d) -> None:
    d.key(DOWN)


def _to_pickup_tile(d) -> None:
    tile = next(t for t in d.app.home.ids.tiles.children if t.key == "pickup")
    d.wait_for(lambda: not tile.disabled, 90, "the pickup tile enabled")
    _down_to(d, lambda t: t.widget is tile, "the pickup tile")


def _enter(d) -> None:
    d.key(ENTER)
    screen = d.app.screen("pickup")
    d.wait_for(lambda: d.app.screens.current == "pickup" and screen.panels.current == "code", what="the keypad")


def _digits(upto: int | None):
    def act(d) -> None:
        code = _state["code"]
        for ch in (code[:upto] if upto else code[3:]):
            d.key(ord(ch), 0, ch)
        if upto:   # the focus ring onto the keypad, to be seen beside what was typed
            pad = d.app.screen("pickup").ids.keypad
            _down_to(d, lambda t: t.key is not None and t.widget is getattr(pad, "__self__", pad), "the keypad")
            d.key(DOWN)
            d.key(DOWN)
    return act


def _door_open(d) -> None:
    screen = d.app.screen("pickup")
    d.wait_for(lambda: screen.panels.current == "door_open", what="the door open")
    _down_to(d, lambda t: t.widget is getattr(screen.ids.door_open_finish, "__self__", None), "Finish")


def _close(d) -> None:
    screen = d.app.screen("pickup")
    steps_pickup._sim("locker").close_door(int(screen.door))
    d.wait_for(lambda: screen.panels.current == "done", what="the pickup done")
    _down_to(d, lambda t: t.widget is getattr(screen.ids.finish, "__self__", None), "Continue")


def _expect_focus_on(what: str, wanted):
    def check(d) -> str | None:
        target = _focused(d)
        if target is None or not d.app.keypad_focus.ring.shown:
            return f"no focus ring shown; expected it on {what}"
        return None if wanted(d, target) else f"focus on {target.text()!r}, expected {what}"
    return check


def _panel(name: str):
    def check(d) -> str | None:
        screen = d.app.screen("pickup")
        if d.app.screens.current != "pickup" or screen.panels.current != name:
            return f"expected pickup/{name}, showing {d.app.screens.current}/{screen.panels.current}"
        return _expect_focus_on("a button", lambda _d, _t: True)(d)
    return check


FLOWS["keypad"] = [
    Step("deposit", _deposit, lambda d: None if d.app.screens.current == "home" else "not home"),
    Step("first-key", _first_key,
         _expect_focus_on("the first header chip", lambda d, t: t.widget is d.app.header.ids.lang_zh_CN.__self__)),
    Step("pickup-tile", _to_pickup_tile, _expect_focus_on("the pickup tile", lambda d, t: getattr(t.widget, "key", "") == "pickup")),
    Step("keypad", lambda d: (_enter(d), _digits(3)(d)), _panel("code")),
    Step("door-open", lambda d: (_digits(None)(d), _door_open(d)), _panel("door_open")),
    Step("done", _close, _panel("done")),
]
