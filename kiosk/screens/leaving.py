"""Leaving a visit while something is under way: "正在取消…", or why the visit cannot end yet.

A view of the session's "leaving" and "stay" events (kiosk/core/session.py,
kiosk/core/flow.py): while a flow calls back a step (a code payment being
reversed, a door being recorded) the card says so and has no button, because
nothing the citizen taps can speed it up; when a step must finish or be
confirmed first, it says which and what to do, with one button back to the
flow's screen. The shell dismisses it when the visit ends or the step is over.
Built once per process.
"""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.modalview import ModalView

from kiosk.i18n import N_
from kiosk.screens import widgets  # noqa: F401  (the shared rules must load first)

CANCELING = N_("Canceling…")
WAIT = N_("Please wait a moment")
# what is being called back (leaving), or what must happen first (stay), by the flow's `why` (msgids)
WHY = {
    "code_payment": N_("The payment request is being called back. Nothing will be charged once it is canceled."),
    "door_open": N_("Your pickup is being recorded. Please close the locker door."),
    "item_left": N_("Your pickup is being recorded. Staff will take care of what is left in the locker."),
    "card_terminal": N_("The card terminal is waiting for your card. To stop, press Cancel on the card terminal; "
                        "you can leave once it has answered."),
    "printing": N_("Printing cannot be stopped halfway. You can leave as soon as it is done."),
    "door_opening": N_("A locker door is being opened. This takes a few seconds."),
    "deposit_door_open": N_("Put the item in and close the door first: the pickup code appears then."),
    "handin_door_open": N_("Please put your materials in and close the locker door first."),
    "receipt_printing": N_("Your receipt is being printed. This takes a few seconds."),
    "handin_receipt": N_("The receipt could not be printed. Please note the receipt number on the screen first."),
    "code_shown_once": N_("The pickup code is shown only once. Note it, then tap \"Next item\"."),
    "recall_door_open": N_("Tap whether the item came out of the door first."),
    "reference": N_("Please take your slip, or note the reference number on the screen, then tap \"Finish\"."),
    "refund": N_("Your payment is being returned. This takes a few seconds."),
    "slip": N_("Your slip is being printed. This takes a few seconds."),
    "ticket_issuing": N_("Your number is being issued. This takes a few seconds."),
    "ticket_number": N_("The ticket could not be printed. Please note your number on the screen first."),
    "fee_confirming": N_("Your payment is being registered with the issuing department. This takes a few seconds."),
    "fee_receipt": N_("The receipt could not be printed. Please note the reference number on the screen, then tap "
                      "\"Finish\"."),
}
OTHER = N_("Something is still under way. Please wait a moment.")


class LeaveOverlay(ModalView):
    title = StringProperty()        # msgid
    message = StringProperty()      # msgid
    canceling = BooleanProperty(False)
    why = StringProperty()          # the flow's step this card is about

    def show_leaving(self, why: str) -> None:
        self._show(CANCELING, why, canceling=True)

    def show_stay(self, why: str) -> None:
        self._show(WAIT, why, canceling=False)

    def _show(self, title: str, why: str, canceling: bool) -> None:
        self.title, self.message, self.canceling, self.why = title, WHY.get(why, OTHER), canceling, why
        if self.parent is None:
            self.open(animation=False)

    def close(self) -> None:
        if self.parent is not None:
            self.dismiss(animation=False)


Builder.load_file(str(Path(__file__).with_name("leaving.kv")))
