"""`kiosk tour` steps of the pickup locker: deposit, pickup by code, by QR, with the ID card, a wrong
code and the lockout, a door left open, recall; in zh_CN, some in elder mode.

The steps act through the real window (taps, the hidden press on the hall's
name, the session clock) and play the citizen's and the staff's part at the
simulators (`sim://locker`, `sim://scanner`, `sim://idcard`): closing a door,
showing a QR code, putting a card on the reader (kiosk/sim/). Listed by
kiosk/tour/runner.py, run only on a kiosk that offers the pickup.
"""
from __future__ import annotations

from kiosk.tour.step import Step

STAFF_ID, STAFF_PIN = "1001", "246810"   # the demo member of config/kiosk.toml
_state: dict = {}

# the flows, in the order the tour runs them (listed by kiosk/tour/runner.py)
FLOWS: dict[str, list[Step]] = {}


def _sim(name: str):
    from kiosk.sim.registry import simulator

    return simulator(name)


def _screen(d, name):
    return d.app.screen(name)


def _panel(d, screen: str, panel: str) -> bool:
    return d.app.screens.current == screen and _screen(d, screen).panels.current == panel


def _expect_panel(screen: str, panel: str):
    def check(d):
        s = _screen(d, screen)
        if d.app.screens.current != screen or s.panels.current != panel:
            return f"expected {screen}/{panel}, showing {d.app.screens.current}/{s.panels.current}"
        return None
    return check


def _type(d, keypad, text: str) -> None:
    for ch in text:
        d.tap_key(keypad, ch)


# --- staff -----------------------------------------------------------------------------------------

def _long_press_hall_name(d) -> None:
    from kivy.base import EventLoop

    from kiosk.tour.driver import Finger

    d.app.go_home()
    d.pump()
    label = d.app.home.ids.hall_name
    x, y = label.to_window(*label.center)
    finger = Finger(x, y)
    EventLoop.post_dispatch_input("begin", finger)
    d.pump(2)
    d.advance(3.2)
    finger.update_time_end()
    EventLoop.post_dispatch_input("end", finger)
    d.pump(3)


def _sign_in(d) -> None:
    staff = _screen(d, "staff")
    _type(d, staff.ids.keypad, STAFF_ID)
    d.tap(staff.ids.pin)
    _type(d, staff.ids.keypad, STAFF_PIN)
    d.tap(staff.ids.sign_in)
    d.wait_for(lambda: staff.panels.current == "menu", what="the staff menu")


def _deposit_case(d) -> None:
    d.tap(_screen(d, "staff").ids.deposit)
    dep = _screen(d, "staff_deposit")
    _type(d, dep.ids.keypad, "2026051800017")
    d.tap(dep.ids.next_step)
    # the platform is asked about the case meanwhile: the picture shows what it said
    d.wait_for(lambda: dep.lookup != "looking", what="the platform's answer about the case")


def _deposit_holder(d) -> None:
    dep = _screen(d, "staff_deposit")
    d.tap(dep.ids.options_next)
    d.wait_for(lambda: dep.panels.current == "holder", what="the holder panel")


def _deposit_read_card(d) -> None:
    _sim("idcard").insert_card("resident")
    dep = _screen(d, "staff_deposit")
    d.tap(dep.ids.read_card)
    d.wait_for(lambda: dep.panels.current == "door_open", what="the door open for the deposit")


def _deposit_close(d) -> None:
    dep = _screen(d, "staff_deposit")
    _sim("locker").close_door(int(dep.door))
    d.wait_for(lambda: dep.panels.current == "code", what="the pickup code")
    _state["id_code"], _state["id_door"] = dep.code, int(dep.door)


# a finished case the demo platform knows (`kiosk central seed`, kiosk/central/demo.py DEMO_CASES): its holder is
# the simulator's demo card, and the platform texts the code to the applicant's (fictional) mobile
SCANNED_CASE = "2026051800099"


def _deposit_scanned_case(d) -> None:
    """The next item: staff scan the case's barcode on the approval form; the platform knows the case, so
    the item's name, the ID card rule, the holder and the masked mobile come from it."""
    dep = _screen(d, "staff_deposit")
    d.tap(dep.ids.next_item)
    d.wait_for(lambda: dep.panels.current == "case", what="the case step")
    d.tap(dep.ids.scan)
    _sim("scanner").scan(SCANNED_CASE)
    d.wait_for(lambda: dep.panels.current == "options" and dep.lookup == "found",
               what="the case found on the platform")


def _deposit_scanned_case_code(d) -> None:
    dep = _screen(d, "staff_deposit")
    d.tap(dep.ids.options_next)     # no holder step: the platform gave the holder
    d.wait_for(lambda: dep.panels.current == "door_open", what="the door open")
    _sim("locker").close_door(int(dep.door))
    d.wait_for(lambda: dep.panels.current == "code", what="the code, to be texted")


def _deposit_without_id_rule(d, case: str) -> str:
    """From the case-number keypad: one item anyone with its code may collect; its pickup code."""
    dep = _screen(d, "staff_deposit")
    _type(d, dep.ids.keypad, case)
    d.tap(dep.ids.next_step)
    d.tap(dep.ids.id_no)
    d.tap(dep.ids.options_next)
    d.wait_for(lambda: dep.panels.current == "door_open", what="the door open")
    _sim("locker").close_door(int(dep.door))
    d.wait_for(lambda: dep.panels.current == "code", what="the code")
    return dep.code


def _more_deposits(d) -> None:
    """Three more items without the ID card rule, for the pickups that follow (through the same screens)."""
    dep = _screen(d, "staff_deposit")
    codes = []
    for n in range(3):
        d.tap(dep.ids.next_item)
        codes.append(_deposit_without_id_rule(d, f"202605180002{n}"))
    _state["codes"] = codes
    d.tap(dep.ids.next_item)
    d.app.show("staff")
    d.pump()
    d.tap(_screen(d, "staff").ids.sign_out)


FLOWS["pickup-deposit"] = [
    Step("staff-sign-in", _long_press_hall_name, _expect_panel("staff", "sign_in")),
    Step("staff-menu", _sign_in, _expect_panel("staff", "menu")),
    Step("case-number", _deposit_case, _expect_panel("staff_deposit", "options")),
    Step("holder", _deposit_holder, _expect_panel("staff_deposit", "holder")),
    Step("door-open", _deposit_read_card, _expect_panel("staff_deposit", "door_open")),
    Step("code", _deposit_close, _expect_panel("staff_deposit", "code")),
    Step("case-scanned", _deposit_scanned_case, _expect_panel("staff_deposit", "options")),
    Step("case-scanned-code", _deposit_scanned_case_code, _expect_panel("staff_deposit", "code")),
    Step("home-after", _more_deposits, lambda d: None if d.app.screens.current == "home" else "not home"),
]


# --- citizens --------------------------------------------------------------------------------------

def _open_pickup(elder: bool = False):
    def act(d):
        if elder and not d.app.elder:
            d.tap(d.app.header.ids.elder_toggle)
        d.tap_tile("pickup")
        screen = _screen(d, "pickup")
        d.wait_for(lambda: screen.panels.current in ("code", "locked"), what="the keypad")
    return act


def _type_code(code_of, upto: int | None = None):
    def act(d):
        screen = _screen(d, "pickup")
        code = code_of()
        _type(d, screen.ids.keypad, code[:upto] if upto else code)
        if not upto:
            d.wait_for(lambda: screen.panels.current in ("opening", "door_open", "id_card", "code", "locked",
                                                           "door_failed"), what="the code checked")
    return act


def _wait_door_open(d) -> None:
    screen = _screen(d, "pickup")
    d.wait_for(lambda: screen.panels.current == "door_open", what="the door open")


def _close_door(d) -> None:
    screen = _screen(d, "pickup")
    _sim("locker").close_door(int(screen.door))
    d.wait_for(lambda: screen.panels.current == "done", what="the pickup done")


def _scan(code_of):
    def act(d):
        _sim("scanner").scan(f"KIOSK-PICKUP:{code_of()}")
        _wait_door_open(d)
    return act


def _finish(d) -> None:
    d.tap(_screen(d, "pickup").ids.finish)
    d.wait_for(lambda: d.app.screens.current != "pickup", what="leaving the pickup screen")


def _on_to_rating(screen: str) -> Step:
    """The done step's Continue on `screen`: the rating, as after every finished service."""
    def act(d) -> None:
        d.tap(_screen(d, screen).ids.finish)
        d.pump(3)

    def check(d) -> str | None:
        current = d.app.screens.current
        return None if current == "rating" else f"after the {screen}: {current}, expected rating"
    return Step("rating", act, check)


FLOWS["pickup-code"] = [
    Step("keypad", lambda d: (_open_pickup()(d), _type_code(lambda: _state["codes"][0], 3)(d)),
         _expect_panel("pickup", "code")),
    Step("door-open", lambda d: (_type_code(lambda: _state["codes"][0][3:])(d), _wait_door_open(d)),
         _expect_panel("pickup", "door_open")),
    Step("done", _close_door, _expect_panel("pickup", "done")),
    _on_to_rating("pickup"),
]

FLOWS["pickup-qr-elder"] = [
    Step("keypad", _open_pickup(elder=True), _expect_panel("pickup", "code")),
    Step("door-open", _scan(lambda: _state["codes"][1]), _expect_panel("pickup", "door_open")),
    Step("done", _close_door, _expect_panel("pickup", "done")),
]


def _remove_card(d) -> None:
    _sim("idcard").remove_card()


def _insert_card(d) -> None:
    _sim("idcard").insert_card("resident")
    _wait_door_open(d)


FLOWS["pickup-id-card"] = [
    Step("id-card", lambda d: (_remove_card(d), _open_pickup()(d), _type_code(lambda: _state["id_code"])(d),
                               d.wait_for(lambda: _screen(d, "pickup").panels.current == "id_card")),
         _expect_panel("pickup", "id_card")),
    Step("door-open", _insert_card, _expect_panel("pickup", "door_open")),
    Step("done", _close_door, _expect_panel("pickup", "done")),
]


def _wrong(times: int):
    def act(d):
        screen = _screen(d, "pickup")
        for _ in range(times):
            _type(d, screen.ids.keypad, "000000")
            d.wait_for(lambda: not screen.worker.pending, what="the code checked")
    return act


def _countdown_ends(d) -> None:
    d.advance(61)
    screen = _screen(d, "pickup")
    d.wait_for(lambda: screen.panels.current == "code", what="the keypad back")


FLOWS["pickup-lockout"] = [
    Step("wrong-code", lambda d: (_open_pickup()(d), _wrong(1)(d)), _expect_panel("pickup", "code")),
    Step("locked", _wrong(4), _expect_panel("pickup", "locked")),
    Step("locked-elder", lambda d: d.tap(d.app.header.ids.elder_toggle), _expect_panel("pickup", "locked")),
    Step("unlocked", _countdown_ends, _expect_panel("pickup", "code")),
]


def _left_open(d) -> None:
    d.advance(61)
    screen = _screen(d, "pickup")
    d.wait_for(lambda: screen.panels.current == "door_left_open", what="the door-left-open screen")


def _close_late(d) -> None:
    screen = _screen(d, "pickup")
    _sim("locker").close_door(int(screen.door))
    d.wait_for(lambda: screen.panels.current == "done", what="done after closing")


FLOWS["pickup-door-left-open"] = [
    Step("door-open-elder", lambda d: (_open_pickup(elder=True)(d), _type_code(lambda: _state["codes"][2])(d),
                                       _wait_door_open(d)), _expect_panel("pickup", "door_open")),
    Step("left-open", _left_open, _expect_panel("pickup", "door_left_open")),
    Step("closed", _close_late, _expect_panel("pickup", "done")),
]


def _recall_list(d) -> None:
    # a week and a day later: an item deposited for recall, left uncollected
    _long_press_hall_name(d)
    _sign_in(d)
    d.tap(_screen(d, "staff").ids.deposit)
    _deposit_without_id_rule(d, "2026051800099")
    d.tap(_screen(d, "staff_deposit").ids.next_item)
    d.app.end_visit("done")
    d.pump()
    # staff come back and sign in again: a signed-in screen never outlives its visit
    d.advance(8 * 86400)
    _long_press_hall_name(d)
    _sign_in(d)
    d.tap(_screen(d, "staff").ids.recall)
    rec = _screen(d, "staff_recall")
    d.wait_for(lambda: rec.count > 0, what="the recall list")


def _recall_open(d) -> None:
    rec = _screen(d, "staff_recall")
    d.tap(rec.ids.open)
    d.wait_for(lambda: rec.panels.current == "door_open", what="the recall door open")


def _recall_confirm(d) -> None:
    rec = _screen(d, "staff_recall")
    done = rec.recalled
    _sim("locker").close_door(int(rec.door))
    d.tap(rec.ids.removed)
    d.wait_for(lambda: rec.panels.current == "list" and rec.recalled == done + 1, what="the recall recorded")


FLOWS["pickup-recall"] = [
    Step("list", _recall_list, _expect_panel("staff_recall", "list")),
    Step("door-open", _recall_open, _expect_panel("staff_recall", "door_open")),
    Step("recorded", _recall_confirm, _expect_panel("staff_recall", "list")),
]
