"""The technician mode in `kiosk tour`: the hidden entry, each panel, each check, and a fault with its alarm.

Listed by kiosk/tour/runner.py. Every step acts through the real widgets —
the corner held for five seconds, the PIN typed on the pad, taps on devices,
checks, doors and the simulator's fault toggles — then waits, frame by frame and bounded, for the worker to
report back, and checks what the screen shows. The injected fault (the receipt
printer's cover opened) is followed to its alarm on the system panel and back
to "no active alarms" once the cover is closed. One pass in elder mode shows
that the technician screens keep their layout there.
"""
from __future__ import annotations

from typing import Callable

from kiosk import i18n
from kiosk.core.technician import wording
from kiosk.core.technician.mode import Phase
from kiosk.tour.driver import SETTLE_FRAMES, SETTLE_LONG_FRAMES, Finger, UiDriver
from kiosk.tour.step import Step

DEMO_PIN = "135790"        # the demo hash in config/kiosk.toml [technician]; a real kiosk has its own
WRONG_PIN = "000000"
DOORS_SHOWN_OPENING = 4    # the every-door run is stopped after this many, to show it live and the Stop button

def ui(d: UiDriver):
    return d.app.technician_ui


def hold_corner(d: UiDriver, seconds: float) -> None:
    """A finger held on the top-left corner for `seconds` (on the session clock), then lifted."""
    from kivy.base import EventLoop
    from kivy.core.window import Window

    finger = Finger(20, Window.height - 20)
    EventLoop.post_dispatch_input("begin", finger)
    d.pump(1)
    d.advance(seconds)
    finger.update_time_end()
    EventLoop.post_dispatch_input("end", finger)
    d.pump(2)


def type_pin(d: UiDriver, pin: str) -> None:
    keys = {k.text: k for k in ui(d).pin_screen.ids.keypad.children}
    for digit in pin:
        d.tap(keys[digit])


def submit_pin(d: UiDriver) -> None:
    d.tap(ui(d).pin_screen.ids.ok)
    d.settle(lambda: not ui(d).pin_screen.checking)
    d.pump(3)


def finished(d: UiDriver, name: str, check: str) -> Callable[[], bool]:
    def done() -> bool:
        r = ui(d).bench.results.get(name)
        return r is not None and r.check == check and not r.running and not ui(d).bench.busy(name)
    return done


# -- checks ------------------------------------------------------------------------------------------

def _t(msgid: str) -> str:
    return i18n._(msgid)


def on_pin_pad(message_msgid: str | None = None, dots: int | None = None):
    def check(d):
        if d.app.screens.current != "tech_pin":
            return f"screen is {d.app.screens.current!r}, expected the PIN pad"
        ps = ui(d).pin_screen
        if message_msgid and not ps.message.startswith(_t(message_msgid).split("{")[0]):
            return f"the PIN pad says {ps.message!r}"
        if dots is not None and ps.dots != "●" * dots:
            return f"the PIN shows {ps.dots!r}, expected {dots} dots"
        if ps.locked:
            return "entry is locked"
    return check


def on_panel(panel: str, *more: Callable[[UiDriver], str | None]):
    def check(d):
        t = ui(d)
        if d.app.screens.current != "tech" or t.mode.phase is not Phase.OPEN:
            return f"screen is {d.app.screens.current!r} ({t.mode.phase.value}), expected the technician mode"
        if t.screen.panel != panel or t.screen.ids.panels.current != panel:
            return f"panel is {t.screen.ids.panels.current!r}, expected {panel!r}"
        problems = [p for p in (fn(d) for fn in more) if p]
        return "; ".join(problems) or None
    return check


def every_device_known(d):
    unknown = [n for n, r in ui(d).bench.rows.items() if r.state == "unknown"]
    if unknown:
        return f"no status yet for {', '.join(unknown)}"


def passed(name: str, check: str, *texts: str):
    """The check passed, its result says `texts` (in English: the language shown may be any), and the
    screen shows each of its lines in the kiosk's language."""
    def fn(d):
        t = ui(d)
        r = t.bench.results.get(name)
        if t.bench.selected != name:
            return f"{t.bench.selected} is selected, expected {name}"
        if r is None or r.check != check:
            return f"no {check} result on {name}"
        if not r.ok:
            return f"{name} {check} failed: {' / '.join(map(str, r.lines))}"
        english = "\n".join(map(str, r.lines))
        missing = [x for x in texts if x not in english]
        if missing:
            return f"the result does not say {missing}: {english!r}"
        from kiosk.screens.tech import RESULT_LINES   # what the panel keeps of a long result

        unshown = [line.render(_t) for line in r.lines[-RESULT_LINES:] if line.render(_t) not in t.screen.result_text]
        if unshown:
            return f"the screen does not show {unshown}: {t.screen.result_text!r}"
    return fn


def no_full_identity(d):
    shown = ui(d).screen.result_text
    if "张示例" in shown or any(len(w) == 18 and w[:17].isdigit() for w in shown.split()):
        return "a full name or ID number is on screen"


def doors_open(expected: Callable[[set[int]], bool], what: str):
    def fn(d):
        t = ui(d)
        shown = {n for n in range(1, t.bench.door_count() + 1) if not t.door_button(n).closed}
        if not expected(shown):
            return f"doors shown open {sorted(shown)}, expected {what}"
    return fn


def row_shows(name: str, detail: str):
    """The device's row shows its status with `detail`, in the kiosk's language."""
    def fn(d):
        row, v = ui(d).bench.rows[name], ui(d).row_view(name)
        expected = wording.status(row.state, detail).render(_t)
        if row.detail != detail or v.state_text != expected:
            return f"the {name} row shows {v.state_text!r}, expected {expected!r}"
    return fn


def alarm_listed(present: bool, code: str):
    def fn(d):
        text = ui(d).screen.alarms_text
        if (code in text) != present:
            return f"active alarms show {text!r}; {code} expected {'listed' if present else 'gone'}"
    return fn


def system_read(d):
    t = ui(d)
    if not t.system.snapshot or not t.screen.outbox_text:
        return "the outbox counts are not shown"
    if t.system.reachability is None:
        return "the central platform was not probed"


def bundle_written(d):
    t = ui(d)
    if not t.system.message_ok or ".zip" not in t.system.message:
        return f"the bundle was not written: {t.system.message!r}"


def at_home(d):
    if d.app.screens.current != "home" or ui(d).mode.phase is not Phase.CLOSED:
        return f"screen is {d.app.screens.current!r}, expected the citizens' home screen"


# -- acts ---------------------------------------------------------------------------------------------

def act_hold(elder: bool = False):
    def act(d):
        if elder != d.app.elder:
            d.tap(d.app.header.ids.elder_toggle)
        hold_corner(d, ui(d).mode.hold_s + 0.1)
    return act


def act_wrong_pin(d):
    type_pin(d, WRONG_PIN)
    submit_pin(d)


def act_type_pin(d):
    type_pin(d, DEMO_PIN)


def act_open(d):
    submit_pin(d)
    d.settle(lambda: not every_device_known(d))


def act_select(name: str):
    def act(d):
        d.tap(ui(d).row_view(name))
        d.pump(2)
    return act


def _lay_demo_card(_d) -> None:
    from kiosk.sim.registry import simulator

    simulator("idcard").insert_card("resident")


def act_run(name: str, check: str, frames: int = SETTLE_FRAMES, before: Callable[[UiDriver], None] | None = None):
    def act(d):
        if ui(d).bench.selected != name:
            act_select(name)(d)
        if before:
            before(d)
        d.tap(ui(d).check_button(check))
        d.settle(finished(d, name, check), frames)
    return act


def act_toggle(key: str):
    def act(d):
        d.tap(ui(d).control_toggle(key))
        d.pump(2)
    return act


def act_open_door(door: int):
    def act(d):
        act_select("locker")(d)
        act_toggle("close_all")(d)      # doors opened by earlier tours shut, by hand
        d.tap(ui(d).door_button(door))
        d.tap(ui(d).check_button("open_door"))
        d.settle(finished(d, "locker", "open_door"))
    return act


def act_open_all_then_stop(d):
    t = ui(d)
    act_toggle("close_all")(d)
    d.tap(t.check_button("open_all"))
    d.settle(lambda: sum(not x["closed"] for x in t.bench.doors) >= DOORS_SHOWN_OPENING)
    d.pump(2)


def act_stop(d):
    t = ui(d)
    d.tap(t.stop_button)
    d.settle(finished(d, "locker", "open_all"))


def act_scan(d):
    act_select("scanner")(d)
    d.tap(ui(d).check_button("scan"))
    d.pump(2)
    d.tap(ui(d).control_toggle("scan_payment"))   # the simulator stands in for a phone held to the scanner
    d.settle(finished(d, "scanner", "scan"))


def act_fault(d):
    t = ui(d)
    act_select("receipt_printer")(d)
    act_toggle("cover_open")(d)
    d.settle(lambda: t.bench.rows["receipt_printer"].detail == "cover_open")


def act_tab(panel: str, done: Callable[[UiDriver], bool] | None = None):
    def act(d):
        d.tap(ui(d).screen.ids[f"tab_{panel}"])
        if done:
            d.settle(lambda: done(d))
    return act


def act_clear_fault(d):
    t = ui(d)
    act_tab("devices")(d)
    act_toggle("cover_open")(d)
    d.settle(lambda: t.bench.rows["receipt_printer"].detail != "cover_open"
           and not any(a["code"] == "cover_open" for a in t.tech.alarms.active))
    act_tab("system")(d)


def system_ready(d) -> bool:
    t = ui(d)
    return bool(t.system.snapshot) and t.system.reachability is not None and not t.system.working


def act_export(d):
    t = ui(d)
    t.screen.ids.system_panel.scroll_to(t.screen.ids.export, animate=False)
    d.pump(2)
    d.tap(t.screen.ids.export)
    d.settle(lambda: "export" not in t.system.working and bool(t.system.message), SETTLE_LONG_FRAMES)


def act_exit(d):
    d.tap(ui(d).screen.ids.exit)
    d.pump(3)


FLOWS: dict[str, list[Step]] = {}   # the flows, in the order the tour runs them (kiosk/tour/runner.py)
FLOWS["technician"] = [
    Step("corner-held-5s", act_hold(), on_pin_pad("Enter the technician PIN")),
    Step("pin-wrong", act_wrong_pin, on_pin_pad("Wrong PIN. {n} tries left.")),
    Step("pin-typed", act_type_pin, on_pin_pad(dots=len(DEMO_PIN))),
    Step("devices", act_open, on_panel("devices", every_device_known)),
    # the technician lays the demo card on the reader (a citizen's flow before may have taken it away)
    Step("idcard-read-card", act_run("idcard", "read_card", before=_lay_demo_card),
         on_panel("devices", passed("idcard", "read_card", "张*", "110***********"), no_full_identity)),
    Step("locker-open-door-7", act_open_door(7),
         on_panel("devices", passed("locker", "open_door"), doors_open(lambda s: s == {7}, "door 7 only"))),
    Step("locker-every-door-live", act_open_all_then_stop,
         on_panel("devices", doors_open(lambda s: len(s) >= DOORS_SHOWN_OPENING, "the first doors open"))),
    Step("locker-every-door-stopped", act_stop, on_panel("devices", doors_open(bool, "some doors open"))),
    Step("receipt-test", lambda d: (act_toggle("close_all")(d), act_run("receipt_printer", "print_receipt")(d)),
         on_panel("devices", passed("receipt_printer", "print_receipt"))),
    Step("a4-test-page", act_run("document_printer", "print_a4", SETTLE_LONG_FRAMES),
         on_panel("devices", passed("document_printer", "print_a4", "completed"))),
    Step("payment-sale-refund", act_run("payment", "test_sale"),
         on_panel("devices", passed("payment", "test_sale", "approved", "refund"))),
    Step("scanner-test", act_scan, on_panel("devices", passed("scanner", "scan", "1345**********6789"))),
    Step("fault-cover-open", act_fault, on_panel("devices", row_shows("receipt_printer", "cover_open"))),
    Step("fault-alarm", act_tab("system", lambda d: "cover_open" in ui(d).screen.alarms_text),
         on_panel("system", alarm_listed(True, "cover_open"))),
    Step("fault-cleared", act_clear_fault, on_panel("system", alarm_listed(False, "cover_open"))),
    Step("system", lambda d: d.settle(lambda: system_ready(d)), on_panel("system", system_read)),
    Step("bundle-exported", act_export, on_panel("system", bundle_written)),
    Step("exit", act_exit, at_home),
]
FLOWS["technician-elder"] = [
    Step("pin-pad", act_hold(elder=True), on_pin_pad("Enter the technician PIN")),
    Step("devices", lambda d: (act_type_pin(d), act_open(d)), on_panel("devices", every_device_known)),
]
