"""What a citizen service of the touch UI is declared as, and what every area is built from.

A `CitizenService[F]` is one entry of the composition root's list
(kiosk/app/root.py `CITIZEN_SERVICES`, in home-screen order): its key (also
the name of its screen), its title, the devices it needs, how its flow is
made from the `Parts` and how its screen is made from the app, that flow and
the visit path (each time a visit first opens it: the screen is given back
after the visit), and any way into it other than its tile. `F` is whatever the service's screen renders: one flow, or an
area's few flows (the pickup locker's). A new service is one more entry here
plus its own files (its flow in kiosk/core/, its composition in kiosk/app/,
its screen in kiosk/screens/); nothing is added to the app.

`Parts` is made once per process by `make_kiosk()`, before any service: the
settings, the store, the device runtime, the visitor session, the clocks, the
font, the device-problem relay, the central client, the visit path (the
payment and the rating a service hands over to, kiosk/app/visit.py), the help flow behind every
citizen screen's "Call staff" (kiosk/app/help.py) and the
`Background` that makes every area's worker threads and stops them with the
kiosk.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Generic, TypeVar

from kiosk.config import Settings
from kiosk.core.flow import Clock
from kiosk.core.background import Threads
from kiosk.core.offer import DeviceProblem
from kiosk.core.session import VisitorSession

if TYPE_CHECKING:  # pragma: no cover
    from kiosk.core.voice import Voice
    from kivy.uix.screenmanager import Screen

    from kiosk.app.device_runtime import DeviceRuntime
    from kiosk.core.help import HelpFlow
    from kiosk.core.visit import VisitPath
    from kiosk.fonts import FontChoice
    from kiosk.screens.shell import KioskApp
    from kiosk.store import Store
    from kiosk.sync.client import CentralClient

log = logging.getLogger(__name__)

F = TypeVar("F")


def main_thread_delivery(fn: Callable[[], None]) -> None:
    """A worker's result back on the Kivy main thread."""
    from kivy.clock import Clock as KivyClock

    KivyClock.schedule_once(lambda _dt: fn(), 0)


class ProblemRelay:
    """Device problems (`report(name, DeviceProblem | None)`, kiosk/core/offer.py) from the parts,
    passed on to whoever shows them (the app's tiles), once that exists; from any thread."""

    def __init__(self):
        self._targets: list[Callable[[str, DeviceProblem | None], None]] = []

    def to(self, target: Callable[[str, DeviceProblem | None], None]) -> None:
        self._targets.append(target)

    def __call__(self, name: str, problem: DeviceProblem | None) -> None:
        for target in list(self._targets):
            target(name, problem)


class Background:
    """The worker threads of every area (`threads(name)`) and whatever else must stop with the kiosk
    (`at_stop(fn)`); `stop()` stops them, the last one started first."""

    def __init__(self):
        self._stops: list[Callable[[], None]] = []

    def threads(self, name: str, workers: int = 1) -> Threads:
        """Worker threads named kiosk-<name> for an area's blocking steps, reporting back on the Kivy
        main thread."""
        threads = Threads(main_thread_delivery, workers=workers, name=f"kiosk-{name}")
        self.at_stop(threads.shutdown)
        return threads

    def at_stop(self, fn: Callable[[], None]) -> None:
        self._stops.append(fn)

    def stop(self) -> None:
        for fn in reversed(self._stops):
            try:
                fn()
            except Exception:  # the process is ending: the others still stop
                log.exception("stopping %r failed", fn)


@dataclass(frozen=True)
class Parts:
    """What every area of the UI process is built from; made once per process by `make_kiosk()`."""

    settings: Settings
    store: "Store"
    runtime: "DeviceRuntime"                   # the devices, up in the background (`on_ready`)
    session: VisitorSession
    clock: Clock                               # the session's monotonic clock (steered by tests and the tour)
    now: Callable[[], dt.datetime]             # wall time, for what is shown and printed
    font: "FontChoice"
    problems: ProblemRelay                     # device problems, to the home screen's tiles
    central: "CentralClient"                   # the one client of the central platform
    visit: "VisitPath"                         # a visit's chain: a service, its payment, the rating
    help: "HelpFlow"                           # "Call staff", on every citizen screen's header
    background: Background = field(default_factory=Background)
    voice: "Voice | None" = None                # voice guidance (kiosk/app/voice.py); None: no voice


@dataclass(frozen=True)
class CitizenService(Generic[F]):
    """One citizen service of the home screen; `F` is what its screen renders (its flow)."""

    key: str                                   # also the name of its screen
    title: str                                 # msgid, e.g. N_("Collect a certificate")
    needs: tuple[str, ...]                     # device names of [devices], e.g. ("locker",)
    make_flow: Callable[[Parts], F]            # once per process, where the config offers the service
    make_screen: Callable[["KioskApp", F, "VisitPath"], "Screen"]   # when a visit first opens it
    # once per process, as the app is built: the service's ways in beside its tile (the locker's staff press)
    ways_in: Callable[["KioskApp", F], None] | None = None


__all__ = ["Background", "CitizenService", "Parts", "ProblemRelay", "main_thread_delivery"]
