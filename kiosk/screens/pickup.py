"""The citizen's pickup screen: a view of `PickupFlow` (kiosk/core/locker/pickup.py).

One panel per flow step (pickup.kv). Taps go to the flow; its blocking steps
(checking the code, the ID card, the door) run on the flow's own executor,
and the flow's changes come back on the main thread, where the screen renders
them. What leaving the visit does at each step is the flow's to say
(kiosk/core/flow.py); when the visit ends the flow forgets it after the step
under way and the screen shows an empty keypad. Built once per process; every
visit starts from `flow.begin()`.
"""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from kiosk.i18n import N_, _, format_date
from kiosk.screens import locker_widgets
from kiosk.screens.locker_widgets import LockerFlowScreen

log = logging.getLogger(__name__)

NOTICES = {
    "wrong_code": N_("That code is not right. {tries} more wrong codes and pickup pauses for a while."),
    "overdue": N_("This item is waiting to be taken back by the staff. Please ask at the service desk."),
    "not_a_pickup_code": N_("That is not a pickup code. Please show the QR code from your pickup message."),
    "id_mismatch": N_("This ID card does not belong to the person the certificate is for. "
                      "Please use the holder's ID card."),
    "no_card": N_("No ID card was read. Place the card flat on the reader and tap \"Read the card\"."),
    "card_not_read": N_("The card could not be read. Take it off, place it again and tap \"Read the card\"."),
    "no_id_reader": N_("This certificate can only be handed over with the holder's ID card, and the card "
                       "reader is not working. Please ask at the service desk."),
    "door_busy": N_("That door is being opened right now. Please wait a moment and try again."),
    "already_collected": N_("This item was already collected on {date}."),
    "recalled": N_("This item has been returned to the service window. Please ask the hall staff."),
}


class PickupScreen(LockerFlowScreen):
    step = StringProperty("code")
    digits = StringProperty("")
    code_length = NumericProperty(6)
    notice = StringProperty("")
    tries_left = NumericProperty(5)
    seconds_locked = NumericProperty(0)
    door = NumericProperty(0)
    column = NumericProperty(0)
    row = NumericProperty(0)
    position = ListProperty(["", ""])
    can_submit = BooleanProperty(False)
    has_scanner = BooleanProperty(False)
    hotline = StringProperty("")
    ended_at = NumericProperty(0)     # when the item of a spent code was collected (unix seconds)

    flow_name = "pickup"

    def __init__(self, app, service, path, **kwargs):
        super().__init__(app, service, name="pickup", first_panel="code", **kwargs)
        self.path = path    # kiosk.core.visit.VisitPath: a finished pickup hands over to the rating
        self._scan_when_ready = False
        self.code_length = app.settings.pickup.code_length
        self.hotline = app.settings.kiosk.hotline
        Clock.schedule_interval(self._tick, 0.5)
        app.session.on("wipe", self._on_wipe)

    def flow_bound(self, service, flow) -> None:
        plan = service.plan
        self.ids.locker_map.set_plan(plan.columns, plan.rows, plan.numbering, len(plan.doors))
        self.has_scanner = flow.scanner is not None

    # --- visits -----------------------------------------------------------------------------------
    def on_pre_enter(self, *_a):
        flow = self.flow
        self.digits, self.notice = "", ""
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
            flow.leave()                # a wait under way stops now; what it must record, it records

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
        elif flow.press(key):
            flow.submit()
        self.render()

    def confirm(self) -> None:
        flow = self.flow
        if flow is not None and flow.can_submit:
            flow.submit()

    def read_card(self) -> None:
        flow = self.flow
        if flow is not None and not flow.reading_card:
            self.notice = ""
            flow.read_card()

    def open_again(self) -> None:
        self.flow.open_again()

    def item_left_finish(self) -> None:
        self.flow.finish_with_item_left()

    def finish_open(self) -> None:
        flow = self.flow
        if flow is not None:
            flow.finish_open()

    def door_did_not_open(self) -> None:
        flow = self.flow
        if flow is not None:
            flow.door_did_not_open()

    def finish(self) -> None:
        flow = self.flow
        if flow is not None and flow.recorded:
            self.path.rate("pickup", flow.transaction_id)
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
        self.digits = flow.digits
        self.notice = flow.notice.value if flow.notice else ""
        self.tries_left = flow.tries_left
        self.ended_at = flow.ended_at or 0
        self.can_submit = flow.can_submit
        self.seconds_locked = flow.seconds_locked()
        self.door, self.column, self.row = flow.door or 0, flow.column, flow.row
        self.position = list(flow.position)
        self.ids.locker_map.lit = flow.door or 0
        self.panels.show(step)
        if self._scan_when_ready and step in ("code", "locked"):
            self._scan_when_ready = False
            flow.start_scanning()   # the flow listens to the scanner; the screen never touches it
        if step == "id_card" and not flow.notice and not flow.reading_card:
            flow.read_card()

    def _tick(self, _dt):
        flow = self._flow
        if flow is not None and self.app.screens.current == "pickup" and flow.step.value == "locked":
            self.seconds_locked = flow.seconds_locked()
            if flow.unlock_if_due():
                self.render()

    # --- text -------------------------------------------------------------------------------------
    def notice_text(self, notice: str, tries: int, ended_at: float = 0, *_lang) -> str:
        if notice not in NOTICES:
            return ""
        day = format_date(datetime.fromtimestamp(ended_at).date()) if ended_at else ""
        return _(NOTICES[notice]).format(tries=tries, date=day)

    def code_text(self, digits: str, length: int) -> str:
        return "  ".join(list(digits) + ["_"] * max(0, length - len(digits)))

    def place_text(self, column: int, row: int, position, *_lang) -> str:
        return locker_widgets.door_place(column, row, tuple(position))


def build_screen(app, service, path):
    """The pickup screen over the locker `service` (kiosk/app/pickup.py), with the visit `path`."""
    from kiosk.screens import staff

    screen = PickupScreen(app, service, path)
    staff.install(app, service)      # the staff screens, reached by a long press on the hall's name
    return screen


Builder.load_file(str(Path(__file__).with_name("pickup.kv")))
