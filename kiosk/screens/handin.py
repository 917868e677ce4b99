"""The citizen's hand-in screen (补交材料): a view of `HandinFlow` (kiosk/core/locker/handin.py).

One panel per flow step (handin.kv), in the pickup screen's manner: big keys,
one thing to do at a time, Chinese first. Taps go to the flow; its blocking
steps (the case look-up, the ID card, the door, the record and the receipt)
run on the flow's own executor, and its changes come back on the main thread,
where the screen renders them. The flow listens to the scanner while the case
number is asked for; the screen never touches a device. When the visit ends
the flow settles its door after the step under way and forgets the visit.
Built once per process; every visit starts from `flow.begin()`.
"""
from __future__ import annotations

import logging
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from kiosk.i18n import N_, _
from kiosk.screens import locker_widgets
from kiosk.screens.locker_widgets import LockerFlowScreen

log = logging.getLogger(__name__)

NOTICES = {
    "bad_case_number": N_("A case number has 4 to 40 letters, digits or dashes. Please check it on your slip."),
    "case_number_looks_like_id": N_("That looks like an ID number, not a case number. Please enter the case "
                                    "number on your acceptance slip."),
    "not_a_case_number": N_("That is not a case number. Please show the barcode on your acceptance slip, or "
                            "type the number."),
    "no_id_reader": N_("This case needs your ID card, and the card reader is not working. Please ask at the "
                       "service desk."),
    "id_mismatch": N_("This ID card is not the applicant's for this case. Please use the applicant's ID card."),
    "no_card": N_("No ID card was read. Place the card flat on the reader and tap \"Read the card\"."),
    "card_not_read": N_("The card could not be read. Take it off, place it again and tap \"Read the card\"."),
    "close_the_door": N_("The door is still open. Push it until it clicks shut."),
}


class HandinScreen(LockerFlowScreen):
    step = StringProperty("case")
    typed = StringProperty("")
    notice = StringProperty("")
    case_number = StringProperty("")
    door_size = StringProperty("small")
    door = NumericProperty(0)
    column = NumericProperty(0)
    row = NumericProperty(0)
    position = ListProperty(["", ""])
    receipt_no = StringProperty("")
    handed_in_at = StringProperty("")
    printed = BooleanProperty(True)
    has_scanner = BooleanProperty(False)
    hotline = StringProperty("")

    flow_name = "handin"

    def __init__(self, app, service, path, **kwargs):
        super().__init__(app, service, name="handin", first_panel="case", **kwargs)
        self.path = path    # kiosk.core.visit.VisitPath: a finished hand-in hands over to the rating
        self._scan_when_ready = False
        self.hotline = app.settings.kiosk.hotline
        app.session.on("wipe", self._on_wipe)

    def flow_bound(self, service, flow) -> None:
        plan = service.plan
        self.ids.locker_map.set_plan(plan.columns, plan.rows, plan.numbering, len(plan.doors))
        self.has_scanner = flow.scanner is not None

    # --- visits -----------------------------------------------------------------------------------
    def on_pre_enter(self, *_a):
        flow = self.flow
        self.typed = self.notice = ""
        self.panels.show("checking")
        if flow is None:
            return
        self._scan_when_ready = True    # once the flow has begun (render)
        flow.begin()

    def on_leave(self, *_a):
        self._scan_when_ready = False
        flow = self.flow
        if flow is not None:
            flow.stop_scanning()
            flow.cancel()               # a card read under way stops; the door is settled when the visit ends

    def _on_wipe(self, _reason):
        self._scan_when_ready = False
        flow = self._flow
        if flow is not None:
            flow.stop_scanning()
            flow.end_visit()            # after the step under way

    # --- taps -------------------------------------------------------------------------------------
    def key(self, key: str) -> None:
        flow = self.flow
        if flow is None:
            return
        if key == "clear":
            flow.clear()
        elif key == "back":
            flow.backspace()
        else:
            flow.press(key)

    def submit(self) -> None:
        self.flow.submit()

    def read_card(self) -> None:
        flow = self.flow
        if flow is not None and not flow.reading_card:
            self.notice = ""
            flow.read_card()

    def choose_size(self, size: str) -> None:
        self.flow.choose_size(size)

    def open_door(self) -> None:
        self.flow.open_door()

    def another_door(self) -> None:
        self.flow.another_door()

    def open_again(self) -> None:
        self.flow.open_again()

    def finish_open(self) -> None:
        self.flow.finish_open()

    def door_did_not_open(self) -> None:
        self.flow.door_did_not_open()

    def finish(self) -> None:
        flow = self.flow
        if flow is not None:
            flow.receipt_number_noted()
        if flow is not None and flow.recorded:
            self.path.rate(flow.name, flow.transaction_id)
            return
        self.app.end_visit("done")

    def cancel(self) -> None:
        self.app.end_visit("canceled")

    # --- showing the flow -------------------------------------------------------------------------
    def render(self) -> None:
        flow = self._flow
        if flow is None:
            return
        step = flow.step.value
        self.step = step
        self.typed = flow.typed
        self.notice = flow.notice.value if flow.notice else ""
        self.case_number = flow.case_number
        self.door_size = flow.size
        self.door, self.column, self.row = flow.door or 0, flow.column, flow.row
        self.position = list(flow.position)
        self.receipt_no = flow.receipt_no
        self.handed_in_at = flow.handed_in_at.strftime("%Y-%m-%d %H:%M") if flow.handed_in_at else ""
        self.printed = flow.printed is not False
        self.ids.locker_map.lit = flow.door or 0
        self.panels.show(step)
        if self._scan_when_ready and step == "case":
            self._scan_when_ready = False
            flow.start_scanning()   # the flow listens to the scanner; the screen never touches it
        if step == "id_card" and not flow.notice and not flow.reading_card:
            flow.read_card()

    # --- text -------------------------------------------------------------------------------------
    def notice_text(self, notice: str, *_lang) -> str:
        return _(NOTICES[notice]) if notice in NOTICES else ""

    def typed_text(self, typed: str) -> str:
        return typed or "_"

    def place_text(self, column: int, row: int, position, *_lang) -> str:
        return locker_widgets.door_place(column, row, tuple(position))


def build_screen(app, service, path):
    """The hand-in screen over the locker `service` (kiosk/app/pickup.py), with the visit `path`."""
    from kiosk.screens import staff

    screen = HandinScreen(app, service, path)
    staff.install(app, service)      # the staff screens (their recall collects what is handed in)
    return screen


Builder.load_file(str(Path(__file__).with_name("handin.kv")))
