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

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from kiosk.i18n import N_, _
from kiosk.screens.locker_widgets import CASE_NUMBER_NOTICES, CitizenLockerScreen

NOTICES = {
    **CASE_NUMBER_NOTICES,
    "no_id_reader": N_("This case needs your ID card, and the card reader is not working. Please ask at the "
                       "service desk."),
    "id_mismatch": N_("This ID card is not the applicant's for this case. Please use the applicant's ID card."),
    "no_card": N_("No ID card was read. Place the card flat on the reader and tap \"Read the card\"."),
    "card_not_read": N_("The card could not be read. Take it off, place it again and tap \"Read the card\"."),
    "close_the_door": N_("The door is still open. Push it until it clicks shut."),
}


class HandinScreen(CitizenLockerScreen):
    typed = StringProperty("")
    case_number = StringProperty("")
    door_size = StringProperty("small")
    receipt_no = StringProperty("")
    handed_in_at = StringProperty("")
    printed = BooleanProperty(True)

    flow_name = "handin"
    scan_steps = ("case",)

    def __init__(self, app, service, path, **kwargs):
        super().__init__(app, service, path, name="handin", first_panel="case", **kwargs)

    def on_pre_enter(self, *_a):
        self.typed = ""
        super().on_pre_enter()

    # --- taps -------------------------------------------------------------------------------------
    def submit(self) -> None:
        self.flow.submit()

    def choose_size(self, size: str) -> None:
        self.flow.choose_size(size)

    def open_door(self) -> None:
        self.flow.open_door()

    def finish(self) -> None:
        if self.flow is not None:
            self.flow.receipt_number_noted()   # the citizen goes on from the number on screen
        super().finish()

    # --- showing the flow -------------------------------------------------------------------------
    def render(self) -> None:
        flow = self._flow
        if flow is None:
            return
        self.typed = flow.typed
        self.case_number = flow.case_number
        self.door_size = flow.size
        self.receipt_no = flow.receipt_no
        self.handed_in_at = flow.handed_in_at.strftime("%Y-%m-%d %H:%M") if flow.handed_in_at else ""
        self.printed = flow.printed is not False
        self.show_flow(flow)

    # --- text -------------------------------------------------------------------------------------
    def notice_text(self, notice: str, *_lang) -> str:
        return _(NOTICES[notice]) if notice in NOTICES else ""

    def typed_text(self, typed: str) -> str:
        return typed or "_"


def build_screen(app, service, path):
    """The hand-in screen over the locker `service` (kiosk/app/pickup.py), with the visit `path`."""
    return HandinScreen(app, service, path)


Builder.load_file(str(Path(__file__).with_name("handin.kv")))
