"""The staff recall screen: a view of `RecallFlow` (kiosk/core/locker/recall.py).

The list shows how many items wait to be taken out, overdue certificates beside
the materials citizens handed in, and the first of them (door, case number,
since when, and a hand-in's receipt number); staff open its door, take the item
out and confirm, and the next one comes up. The flow opens the doors and records on its own executor;
the screen renders each change.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty

from kiosk.screens.locker_widgets import LockerFlowScreen


class RecallScreen(LockerFlowScreen):
    step = StringProperty("list")
    count = NumericProperty(0)
    recalled = NumericProperty(0)
    handins = NumericProperty(0)        # of `count`, the materials handed in
    door = NumericProperty(0)
    case_number = StringProperty("")
    since = StringProperty("")
    what = StringProperty("certificate")    # the next item: certificate | handin
    receipt_no = StringProperty("")

    flow_name = "recall"

    def __init__(self, app, service, **kwargs):
        super().__init__(app, service, name="staff_recall", first_panel="list", **kwargs)

    def on_pre_enter(self, *_a):
        staff = self.app.screens.get_screen("staff").signed_in
        if self.flow is not None and staff:
            self.flow.begin(staff)

    def open(self) -> None:
        self.flow.open()

    def removed(self) -> None:
        self.flow.removed()

    def not_there(self) -> None:
        self.flow.not_there()

    def back(self) -> None:
        self.flow.back()

    def back_to_menu(self) -> None:
        self.app.screens.current = "staff"

    def render(self) -> None:
        flow = self._flow
        if flow is None:
            return
        self.step = flow.step.value
        self.count = len(flow.items)
        self.handins = sum(1 for i in flow.items if i.handed_in)
        self.recalled = flow.recalled
        item = flow.current or (flow.items[0] if flow.items else None)
        self.door = item.door if item else 0
        self.case_number = item.case_number if item else ""
        self.what = item.kind if item else "certificate"
        self.receipt_no = (item.receipt_no or "") if item else ""
        self.since = (dt.datetime.fromtimestamp(item.deposited_at).strftime("%Y-%m-%d")
                      if item and item.deposited_at else "")
        self.panels.show(self.step)


Builder.load_file(str(Path(__file__).with_name("staff_recall.kv")))
