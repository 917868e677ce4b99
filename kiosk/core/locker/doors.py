"""Opening a locker door and watching it close: the device steps every locker flow shares.

`open_door` retries an unlock once before giving up (a sticky latch often
opens on the second pulse) and says why it failed: `not_opened` (the door did
not report open) or `no_answer` (the board is silent). `watch_closed` polls the
door until it reports closed, a timeout passes or the flow is canceled; a board
that misses a poll is asked again, not taken for a closed door.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from kiosk.core.flow import Clock
from kiosk.hardware.device import CancelToken, Completion, DeviceError

log = logging.getLogger(__name__)

POLL_S = 0.3


class DoorFailure(Exception):
    def __init__(self, door: int, reason: str, message: str):
        super().__init__(message)
        self.door = door
        self.reason = reason        # not_opened | no_answer | canceled
        self.message = message


@dataclass(frozen=True)
class Closed:
    closed: bool                  # False: the timeout passed with the door still open
    item_present: bool | None     # None: the board has no item sensor (or it was not read)


def open_door(locker, door: int, cancel: CancelToken | None = None, attempts: int = 2) -> None:
    last: DeviceError | None = None
    for attempt in range(1, attempts + 1):
        try:
            locker.open_door(door, cancel)
            return
        except DeviceError as exc:
            if exc.completion is Completion.CANCELED:
                raise DoorFailure(door, "canceled", "canceled") from None
            last = exc
            log.warning("door %d: unlock attempt %d of %d failed: %s", door, attempt, attempts, exc.message)
    reason = "no_answer" if last.detail == "no_answer" else "not_opened"
    raise DoorFailure(door, reason, last.message)


def open_once_more(locker, door: int, cancel: CancelToken | None = None) -> bool | None:
    """The person at the locker says an open door did not open: unlock it once more.

    True: it reports open again; False: it did not (staff must come); None: the flow was canceled.
    """
    try:
        open_door(locker, door, cancel)
    except DoorFailure as exc:
        if exc.reason == "canceled":
            return None
        log.warning("door %d did not open again: %s", door, exc.message)
        return False
    return True


def has_item_sensor(locker) -> bool:
    return "item_sensor" in getattr(locker, "capabilities", ())


def watch_closed(locker, door: int, timeout: float, cancel: CancelToken | None = None,
                 clock: Clock | None = None) -> Closed:
    """`clock` (the flow's) times the wait, so the UI's steered session clock can end it; the
    polls sleep on the driver's clock."""
    now = clock or locker.clock.monotonic
    deadline = now() + timeout
    while True:
        if cancel is not None and cancel.canceled:
            raise DoorFailure(door, "canceled", "canceled")
        try:
            state = locker.door_state(door)
            if state.closed:
                return Closed(True, state.item_present if has_item_sensor(locker) else None)
        except DeviceError as exc:
            log.warning("door %d: state not read (%s); asking again", door, exc.detail or exc.message)
        if now() >= deadline:
            return Closed(False, None)
        locker.clock.sleep(POLL_S)
