"""The clocks tests inject, in one place: nothing in a test sleeps to make time pass.

    ManualClock    seconds as a callable (`kiosk.core.flow.Clock`: the flows, the outbox, the
                   session), moved by the test: `clock.t += 5` or `clock.advance(5)`
    VirtualClock   the drivers' clock (`monotonic()`, and `sleep()` that advances instead of
                   waiting), from kiosk/hardware/device.py
    SteerableClock the UI's session clock that the UI tests and the tour steer (kiosk/core/session.py)
"""
from __future__ import annotations

from kiosk.core.session import SteerableClock
from kiosk.hardware.device import VirtualClock

__all__ = ["ManualClock", "SteerableClock", "VirtualClock"]


class ManualClock:
    """Seconds that move only when the test moves them."""

    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds
