"""The app the tour (and the UI tests and the soak bench) drive: production's, with the simulators' controls.

It is built by the same composition root as `kiosk ui` (kiosk/app/root.py
`build`); the tour adds only what production never has: the simulators'
fault controls in the technician mode (kiosk/sim/faults.py), on this
process's simulators, which the steps also switch directly.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable


def build_app(settings, *, clock, now: Callable[[], dt.datetime] | None = None, services=None):
    """The kiosk app over `settings` with the session clock `clock` (a SteerableClock the driver moves)."""
    from kiosk.app.root import build
    from kiosk.sim import registry
    from kiosk.sim.faults import SimFaults

    registry.install()
    kwargs = {"now": now} if now is not None else {}
    return build(settings, clock=clock, services=services, faults=SimFaults(registry.simulator), **kwargs)
