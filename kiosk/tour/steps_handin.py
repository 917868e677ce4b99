"""`kiosk tour` steps of materials handed in through the locker (补交材料): a citizen hands them in
(the acceptance slip's barcode on the scanner, the ID card, a larger door, the receipt, the rating),
then staff collect them with Recall; in zh_CN.

The steps act through the real window and play the citizen's and the staff's part at the simulators
(`sim://scanner`, `sim://idcard`, `sim://locker`): showing the slip, putting the card on the reader,
closing the door. Listed by kiosk/tour/runner.py after the pickup's, run only on a kiosk that offers
the hand-in.
"""
from __future__ import annotations

from kiosk.tour.step import Step
from kiosk.tour.steps_pickup import (
    _expect_panel, _long_press_hall_name, _on_to_rating, _recall_confirm, _recall_open, _screen, _sign_in, _sim,
)

SLIP = "SZ20260518-0031"   # the case number on the acceptance slip's barcode

# the flows, in the order the tour runs them (listed by kiosk/tour/runner.py)
FLOWS: dict[str, list[Step]] = {}


def _panel(d, panel: str, what: str) -> None:
    screen = _screen(d, "handin")
    d.wait_for(lambda: screen.panels.current == panel, what=what)


def _open_handin(d) -> None:
    _sim("idcard").remove_card()
    d.tap_tile("handin")
    _panel(d, "case", "the case number keypad")


def _scan_slip(d) -> None:
    _sim("scanner").scan(SLIP)
    _panel(d, "id_card", "the ID card step")


def _insert_card(d) -> None:
    _sim("idcard").insert_card("resident")
    _panel(d, "size", "the door size")


def _larger_door(d) -> None:
    screen = _screen(d, "handin")
    d.tap(screen.ids.size_medium)
    d.wait_for(lambda: screen.door_size == "medium", what="a medium door chosen")


def _open_door(d) -> None:
    d.tap(_screen(d, "handin").ids.open_door)
    _panel(d, "door_open", "the door open")


def _close_door(d) -> None:
    _sim("locker").close_door(int(_screen(d, "handin").door))
    _panel(d, "done", "the hand-in done")


def _done_shown(d) -> str | None:
    screen = _screen(d, "handin")
    problem = _expect_panel("handin", "done")(d)
    if problem is None and not screen.receipt_no:
        problem = "no receipt number on the done screen"
    return problem


FLOWS["handin"] = [
    Step("case-number", _open_handin, _expect_panel("handin", "case")),
    Step("slip-scanned", _scan_slip, _expect_panel("handin", "id_card")),
    Step("door-size", _insert_card, _expect_panel("handin", "size")),
    Step("larger-door", _larger_door, _expect_panel("handin", "size")),
    Step("door-open", _open_door, _expect_panel("handin", "door_open")),
    Step("receipt", _close_door, _done_shown),
    _on_to_rating("handin"),
]


# --- staff ------------------------------------------------------------------------------------------

def _recall_list(d) -> None:
    _long_press_hall_name(d)
    _sign_in(d)
    d.tap(_screen(d, "staff").ids.recall)
    rec = _screen(d, "staff_recall")
    d.wait_for(lambda: rec.panels.current == "list" and rec.handins > 0, what="handed-in materials on the list")
    # anything listed before them (an item of an earlier flow) is taken out first
    while rec.what != "handin":
        _recall_open(d)
        _recall_confirm(d)


def _handin_next(d) -> str | None:
    rec = _screen(d, "staff_recall")
    problem = _expect_panel("staff_recall", "list")(d)
    if problem is None and rec.what != "handin":
        problem = f"the next item is a {rec.what}, not the handed-in materials"
    return problem


FLOWS["handin-staff-collect"] = [
    Step("list", _recall_list, _handin_next),
    Step("door-open", _recall_open, _expect_panel("staff_recall", "door_open")),
    Step("recorded", _recall_confirm, _expect_panel("staff_recall", "list")),
]
