"""Staff take items out of the locker (RecallFlow): list them, open each door, confirm the removal.

    LIST --open (an item)--> OPENING --> DOOR_OPEN --removed--> LIST   (recall recorded)
                                                  --not there--> LIST   (nothing recorded; alarm)
    OPENING --door does not open after a retry--> DOOR_FAILED --> LIST

The list holds overdue certificates, deposits a restart interrupted, and the
materials citizens handed in (kiosk/core/locker/handin.py), which wait for the
staff from the moment they are in. A `recall` says which it took out: `"what":
"certificate"` or `"handin"`. The intent is committed before the unlock, so a
power cut while a door stands open is recorded on restart as an unconfirmed
recall.

A flow on the one base (kiosk/core/flow.py, kiosk/core/locker/base.py): the
list, the intents, the doors and the records are read, opened and written on
the flow's executor, which reports each change back to the flow's thread.

Leaving the visit (kiosk/core/flow.py): a door being unlocked finishes first,
and a door standing open waits for the staff member to say whether the item
came out: only they know, and the intent is recorded either way.
"""
from __future__ import annotations

import enum
import time
from typing import Callable

from kiosk.core.background import Executor
from kiosk.core.flow import FREE, Clock, Leave, Leaving
from kiosk.core.locker.base import LockerFlow
from kiosk.core.locker.model import DEVICE, Item, LockerModel
from kiosk.hardware.device import CancelToken


class Step(str, enum.Enum):
    LIST = "list"
    OPENING = "opening"
    DOOR_OPEN = "door_open"
    DOOR_FAILED = "door_failed"


LEAVING = {
    Step.OPENING: Leaving(Leave.FINISH, "door_opening"),
    Step.DOOR_OPEN: Leaving(Leave.CONFIRM, "recall_door_open"),
}


class RecallFlow(LockerFlow[Step]):
    name = "recall"
    transitions = {
        Step.LIST: {Step.OPENING},
        Step.OPENING: {Step.DOOR_OPEN, Step.DOOR_FAILED},
        Step.DOOR_OPEN: {Step.LIST, Step.OPENING, Step.DOOR_FAILED},
        Step.DOOR_FAILED: {Step.LIST},
    }

    def __init__(self, model: Callable[[], LockerModel], locker, *, clock: Clock = time.monotonic,
                 executor: Executor | None = None):
        super().__init__(Step.LIST, model, locker, executor=executor, clock=clock)
        self.staff_id: str | None = None
        self.items: list[Item] = []
        self.current: Item | None = None
        self.recalled = 0

    def leaving(self, idle: bool) -> Leaving:
        return LEAVING.get(self.step, FREE)

    def cancel_in_flight(self) -> None:
        """Nothing to call back: a recall's open door waits for the staff member's word."""

    def begin(self, staff_id: str) -> None:
        """A staff member opens recall: the list (read on the executor)."""
        self._restart()
        self.staff_id = staff_id
        self.recalled = 0
        self.current = None
        self._cancel = CancelToken()
        self._work(self._refresh)

    def refresh(self) -> None:
        self._work(self._refresh)

    def _refresh(self) -> None:
        self.items = self.model.recallable()
        self.current = None
        self._report(Step.LIST)

    def open(self, item_id: int | None = None) -> None:
        """Open the door of `item_id` (default: the first on the list)."""
        if self.step is not Step.LIST or not self.items:
            return
        item = next((i for i in self.items if i.id == item_id), self.items[0]) if item_id else self.items[0]
        self.current = item
        self.help_asked = 0
        self._work(lambda: self._open(item))

    def _open(self, item: Item) -> None:
        model = self.model
        self._report(Step.OPENING)
        model.begin(item, "recall", staff_id=self.staff_id)
        opened = self._unlock(item, "a recall")
        if not opened:
            model.abandon(item)
            if opened is False:
                self._report(Step.DOOR_FAILED)
            return
        self._report(Step.DOOR_OPEN)

    def removed(self) -> None:
        """Staff took the item out."""
        if self.step is not Step.DOOR_OPEN or self.current is None:
            return
        item = self.current

        def work() -> None:
            if self.model.finish(item):
                self.recalled += 1
            self._refresh()
        self._work(work)

    def not_there(self) -> None:
        """The door opened but the item was not inside: nothing recorded, staff are alerted."""
        if self.step is not Step.DOOR_OPEN or self.current is None:
            return
        item = self.current

        def work() -> None:
            self.model.abandon(item)
            self.model.alarms.raise_alarm(DEVICE, f"item_missing:{item.door}",
                                          f"recall: door {item.door} should hold case {item.case_number} "
                                          "but it was empty")
            self._refresh()
        self._work(work)

    def door_did_not_open(self) -> None:
        """DOOR_OPEN, but the door did not open: unlocked once more; the second time staff are alerted."""
        if self.step is not Step.DOOR_OPEN or self.current is None:
            return
        item = self.current

        def work() -> None:
            if self._open_once_more(item, "a recall", Step.OPENING, Step.DOOR_OPEN) is False:
                self.model.abandon(item)
                self._report(Step.DOOR_FAILED)
        self._work(work)

    def back(self) -> None:
        if self.step is Step.DOOR_FAILED:
            self._work(self._refresh)

    def cancel(self) -> None:
        self._cancel.cancel()
