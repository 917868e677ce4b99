"""`kiosk tour` steps of case progress (办件进度): a case scanned from the acceptance slip, its receipt, the
same in English; all the cases of the ID card's holder, one past its promised date in elder mode; the
rating; the platform down, said calmly with the hotline, in elder mode.

The steps act through the real window and play the citizen's part at the simulators (`sim://scanner`,
`sim://idcard`, `sim://receipt`). The demo platform knows the demo cases and their steps (`kiosk central
seed`, kiosk/central/demo.py DEMO_CASES: dates relative to the day it is seeded), the simulator's demo card
being the holder of three of them. Before the card is read the kiosk's outbox is pushed to the platform
(`kiosk sync --once`, as the agent does in a hall), so a case the tour's staff deposited earlier shows its
locker door. Listed by kiosk/tour/runner.py after the hand-in's, run only on a kiosk that offers the service.
"""
from __future__ import annotations

import subprocess

from kiosk.tour.step import Step

# demo cases of the simulator's demo card: being handled, past its promised date, and finished (its certificate
# deposited by the tour's staff in kiosk/tour/steps_pickup.py, when that flow ran before)
IN_PROGRESS, LATE, FINISHED = "2026051800097", "2026051800096", "2026051800099"
_state: dict = {}

# the flows, in the order the tour runs them (listed by kiosk/tour/runner.py)
FLOWS: dict[str, list[Step]] = {}


def _sim(name: str):
    from kiosk.sim.registry import simulator

    return simulator(name)


def _flow(d):
    from kiosk.app.root import PROGRESS

    return d.app.kiosk.flow(PROGRESS)


def _screen(d):
    return d.app.screen("progress")


def _wait_panel(d, *panels: str, what: str = "", timeout: float = 30.0) -> None:
    d.wait_for(lambda: _screen(d).panels.current in panels, timeout, what or "/".join(panels), settle=3)


def _expect(panel: str, check=None):
    def expect(d) -> str | None:
        screen = _screen(d)
        if d.app.screens.current != "progress" or screen.panels.current != panel:
            return f"expected progress/{panel}, showing {d.app.screens.current}/{screen.panels.current}"
        return check(d) if check else None
    return expect


def _open(d) -> None:
    _sim("idcard").remove_card()
    d.tap_tile("progress")
    _wait_panel(d, "choose", "enter_case", what="the progress service")


def _scan_slip(d) -> None:
    d.tap(_screen(d).ids.by_case)
    _wait_panel(d, "enter_case", what="the keypad")
    d.pump(3)                           # the flow listens to the scanner once the keypad shows
    _sim("scanner").scan(IN_PROGRESS)
    _wait_panel(d, "result", "offline", "not_found", what="the case's progress")


def _showing(case: str, *words: str):
    def check(d) -> str | None:
        flow = _flow(d)
        if flow.case is None or flow.case.case_number != case:
            return f"showing case {flow.case.case_number if flow.case else None}, expected {case}"
        shown = _screen(d).next_text + _screen(d).promised
        missing = [w for w in words if w not in shown]
        return f"{missing} not on the screen" if missing else None
    return check


def _print(d) -> None:
    _sim("receipt").clear()
    d.tap(_screen(d).ids.print_receipt)
    d.wait_for(lambda: _screen(d).printed in ("yes", "no"), 30, "the receipt", settle=3)


def _printed(d) -> str | None:
    receipts = _sim("receipt").receipts()
    if _screen(d).printed != "yes" or not receipts or IN_PROGRESS not in receipts[-1].text:
        return "no progress receipt with the case number came out of the receipt printer"
    return None


def _english(d) -> None:
    d.tap(d.app.header.ids.lang_en)
    d.pump(3)


def _push_outbox(d) -> None:
    """As the agent does: the kiosk's transactions (a deposit of the tour's staff among them) to the platform."""
    from kiosk.tour.hall import KIOSK

    subprocess.run([str(KIOSK), "--config", str(d.app.settings.source), "sync", "--once", "--json"],
                   capture_output=True, timeout=120)


def _by_card(d) -> None:
    d.tap(d.app.header.ids.lang_zh_CN)
    _push_outbox(d)
    d.tap(_screen(d).ids.back_or_another)
    _wait_panel(d, "choose", what="the choice")
    d.tap(_screen(d).ids.by_card)
    _wait_panel(d, "read_card", what="the card step")
    _sim("idcard").insert_card("resident")
    _wait_panel(d, "results", "result", "offline", "not_found", what="the holder's cases")


def _listed(d) -> str | None:
    numbers = [c.case_number for c in _flow(d).cases]
    if not {IN_PROGRESS, LATE} <= set(numbers):
        return f"the holder's cases are {numbers}"
    return None


def _choose(d, case: str) -> None:
    """Touch the case's row in the list."""
    index = next(i for i, c in enumerate(_flow(d).cases) if c.case_number == case)
    row = next(r for r in _screen(d).ids.cases.children[0].children if r.index == index)
    d.tap(row)


def _finished(d) -> None:
    _choose(d, FINISHED)
    _wait_panel(d, "result", what="the finished case")


def _where_to_collect(d) -> str | None:
    """In a locker door (the tour's staff deposited it, and the outbox reached the platform), or on its way;
    in the whole tour the staff's recall after the eight overdue days has taken it back to the window."""
    step = _flow(d).case.next if _flow(d).case else None
    if step is None or step.action not in ("collect_from_locker", "wait_for_locker", "go_to_window"):
        return f"the finished case says {step.action if step else None}"
    if step.action == "collect_from_locker" and f"{step.door}" not in _screen(d).next_text:
        return "the locker door is not on the screen"
    return None


def _late_elder(d) -> None:
    d.tap(_screen(d).ids.back_or_another)
    _wait_panel(d, "results", what="back to the list")
    _choose(d, LATE)
    _wait_panel(d, "result", what="the late case")
    d.tap(d.app.header.ids.elder_toggle)
    d.pump(3)


def _elder_on(d) -> str | None:
    return None if d.app.elder else "elder mode is off"


def _platform_down(d) -> None:
    central = _flow(d).lookup
    _state["base"] = central.base
    central.base = "http://127.0.0.1:9"               # nothing listens there: the platform is unreachable
    _open(d)
    if not d.app.elder:
        d.tap(d.app.header.ids.elder_toggle)          # the calm sentence in elder mode
    d.tap(_screen(d).ids.by_case)
    _wait_panel(d, "enter_case", what="the keypad")
    for ch in IN_PROGRESS:
        d.tap_key(_screen(d).ids.keypad, ch)
    d.tap(_screen(d).ids.case_next)
    _wait_panel(d, "offline", "result", what="the platform's answer")


def _platform_back(d) -> None:
    if "base" in _state:
        _flow(d).lookup.base = _state.pop("base")
    if d.app.elder:
        d.tap(d.app.header.ids.elder_toggle)
    d.app.end_visit("home")
    d.wait_for(lambda: d.app.screens.current == "home", 10, "home")


def _hotline_said(d) -> str | None:
    hotline = d.app.settings.kiosk.hotline
    return None if hotline in _screen(d).ids.offline.text else f"the hotline {hotline} is not on the offline screen"


FLOWS["progress"] = [
    Step("choose", _open, _expect("choose")),
    Step("slip-scanned", _scan_slip, _expect("result", _showing(IN_PROGRESS, "审查"))),
    Step("receipt", _print, _printed),
    Step("en", _english, _expect("result", _showing(IN_PROGRESS, "Nothing for you to do"))),
    Step("by-card", _by_card, _expect("results", _listed)),
    Step("finished", _finished, _expect("result", _where_to_collect)),
    Step("late-elder", _late_elder, _expect("result", lambda d: _showing(LATE, "12345")(d) or _elder_on(d))),
    Step("rating", lambda d: (d.tap(_screen(d).ids.finish), d.pump(3)),
         lambda d: None if d.app.screens.current == "rating" else f"showing {d.app.screens.current}, expected rating"),
]
FLOWS["progress-offline"] = [
    Step("offline-elder", _platform_down, _expect("offline", lambda d: _hotline_said(d) or _elder_on(d))),
    Step("home", _platform_back, lambda d: None if d.app.screens.current == "home" else
         f"showing {d.app.screens.current}"),
]
