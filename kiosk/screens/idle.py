"""The idle warning: a countdown over every screen with a large "more time" button.

A view of `VisitorSession`: the shell opens it on the session's "warning",
refreshes the figures on each tick and dismisses it on "extend" or "wipe".
Built once per process and reopened for each warning.
"""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty
from kivy.uix.modalview import ModalView

from kiosk.screens import widgets  # noqa: F401  (the shared rules must load first)


class IdleOverlay(ModalView):
    seconds_left = NumericProperty(0)
    can_extend = BooleanProperty(True)

    def show_state(self, seconds_left: int, extensions_left: int) -> None:
        self.seconds_left = seconds_left
        self.can_extend = extensions_left > 0


Builder.load_file(str(Path(__file__).with_name("idle.kv")))
