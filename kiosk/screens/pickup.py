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
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.i18n import N_, _, format_date
from kiosk.screens.locker_widgets import CitizenLockerScreen

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


class PickupScreen(CitizenLockerScreen):
    digits = StringProperty("")
    code_length = NumericProperty(6)
    tries_left = NumericProperty(5)
    seconds_locked = NumericProperty(0)
    can_submit = BooleanProperty(False)
    ended_at = NumericProperty(0)     # when the item of a spent code was collected (unix seconds)

    flow_name = "pickup"
    scan_steps = ("code", "locked")

    def __init__(self, app, service, path, **kwargs):
        super().__init__(app, service, path, name="pickup", first_panel="code", **kwargs)
        self.code_length = app.settings.pickup.code_length
        self.every(self._tick, 0.5)

    def on_pre_enter(self, *_a):
        self.digits = ""
        super().on_pre_enter()

    # --- taps -------------------------------------------------------------------------------------
    def confirm(self) -> None:
        flow = self.flow
        if flow is not None and flow.can_submit:
            flow.submit()

    def item_left_finish(self) -> None:
        self.flow.finish_with_item_left()

    # --- showing the flow -------------------------------------------------------------------------
    def render(self) -> None:
        flow = self._flow
        if flow is None:
            return
        self.digits = flow.digits
        self.tries_left = flow.tries_left
        self.ended_at = flow.ended_at or 0
        self.can_submit = flow.can_submit
        self.seconds_locked = flow.seconds_locked()
        self.show_flow(flow)

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


def build_screen(app, service, path):
    """The pickup screen over the locker `service` (kiosk/app/pickup.py), with the visit `path`."""
    return PickupScreen(app, service, path)


Builder.load_file(str(Path(__file__).with_name("pickup.kv")))
