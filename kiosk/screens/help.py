"""The answer to "Call staff": a card over the screen the citizen pressed it on.

A view of the `HelpFlow` (kiosk/core/help.py): once the request is recorded the card says staff were
called, or, pressed again on the same screen, that they already were; when the kiosk has not reached the
platform lately, that the request is saved and goes out as soon as the network is back, and to call if
help is needed now; and in every case the hall's phone number. If the request could not be recorded it says so, with the number. OK closes it and
the citizen goes on where they were. Built once per process; it follows the flow through a trigger.
"""
from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.modalview import ModalView

from kiosk.i18n import N_
from kiosk.screens import widgets  # noqa: F401  (the shared rules must load first)

SENT = N_("Staff have been called")
SAVED = N_("Your call for staff is saved")
ALREADY = N_("Staff have already been called")
FAILED = N_("Staff could not be called")
COMING = N_("A member of staff is on the way. Please stay at this kiosk.")
OFFLINE = N_("The network is down at the moment: your request will reach staff as soon as it is back.")
NOT_SENT = N_("Please ask at the service desk, or call the number below.")
CALL_NOW = N_("If you need help now, please call the number below.")
PHONE = N_("Staff phone: {number}")


class HelpOverlay(ModalView):
    title = StringProperty()        # msgid
    message = StringProperty()      # msgid
    extra = StringProperty()        # msgid, or ""
    number = StringProperty()

    def __init__(self, flow, **kwargs):
        super().__init__(**kwargs)
        self.flow = flow
        self.number = flow.hotline
        self._redraw = Clock.create_trigger(lambda _dt: self.follow())
        flow.on_change(lambda _flow: self._redraw())

    def follow(self) -> None:
        from kiosk.core.help import HelpState

        flow = self.flow
        if flow.state is HelpState.SENT:
            # offline, nobody is on the way yet: the request waits for the network, the phone works now
            self.title = ALREADY if flow.repeat else (SAVED if flow.offline else SENT)
            self.message = CALL_NOW if flow.offline else COMING
            self.extra = OFFLINE if flow.offline else ""
        elif flow.state is HelpState.FAILED:
            self.title, self.message, self.extra = FAILED, NOT_SENT, ""
        else:
            self.close()
            return
        if self.parent is None:
            self.open(animation=False)

    def done(self) -> None:
        self.flow.close()
        self.close()

    def close(self) -> None:
        if self.parent is not None:
            self.dismiss(animation=False)


Builder.load_file(str(Path(__file__).with_name("help.kv")))
