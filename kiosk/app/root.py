"""Composition root of the touch UI: settings in, one typed `Kiosk` and the Kivy app over it out.

`build()` finds the Chinese font, configures Kivy for a kiosk, and makes every
part of the UI process before the app exists: the visitor session, the store,
the device runtime, and each hall area's flows (kiosk/app/pickup.py,
printing.py, guides.py, tech.py). They form one `Kiosk`, handed to the app
through its constructor; the screens take their flows from it. The citizen
services, in home-screen order, are `CITIZEN_SERVICES` (kiosk/core/offer.py):
each declares the devices it needs and how its screen is made. A service
whose device has no section in the config is not offered; one whose device is
down shows a disabled tile with the reason.

Devices come up in the background once the app starts: the flows exist from
the start and get their devices when they are there, and the home screen
never waits for them.

Kivy reads its environment when first imported, so `configure_kivy()` runs
before anything imports kivy; this module imports kivy only inside `build()`.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from kiosk import fonts, memory
from kiosk.config import Settings
from kiosk.core.offer import CitizenService, DeviceProblem, offered
from kiosk.core.flow import Clock
from kiosk.core.session import VisitorSession
from kiosk.i18n import N_

if TYPE_CHECKING:  # pragma: no cover
    from kiosk.app.device_runtime import DeviceRuntime
    from kiosk.app.pickup import PickupService
    from kiosk.app.printing import Printing
    from kiosk.app.tech import Technician
    from kiosk.core.guides.flow import GuideFlow
    from kiosk.core.technician.bench import FaultControls
    from kiosk.core.visit import VisitPath
    from kiosk.fonts import FontChoice
    from kiosk.screens.shell import KioskApp
    from kiosk.store import Store

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class Kiosk:
    """Everything the UI process runs on, made once per process by `build()`."""

    settings: Settings
    clock: Clock                               # the session's monotonic clock (steered by tests and the tour)
    now: Callable[[], dt.datetime]             # wall time, for what is shown and printed
    font: "FontChoice"
    session: VisitorSession
    store: "Store"
    runtime: "DeviceRuntime"                   # the devices, up in the background
    problems: ProblemRelay
    pickup: "PickupService | None"             # None where no locker is configured
    printing: "Printing"                       # documents, payment, rating, forms
    guides: "GuideFlow"
    technician: "Technician"
    visit: "VisitPath"                         # a visit's chain: a service, its payment, the rating

    def start(self) -> None:
        """The devices come up (off the main thread)."""
        self.runtime.start()

    def stop(self) -> None:
        self.technician.stop()
        self.printing.stop()
        if self.pickup is not None:
            self.pickup.stop()
        self.guides.executor.shutdown()
        self.runtime.stop()


# --- the citizen services, in home-screen order ---------------------------------------------------------

def _pickup_screen(app):
    from kiosk.screens.pickup import build_screen  # kivy only once configure_kivy() has run

    return build_screen(app)


def _guides_screen(app):
    from kiosk.screens.guides import build_screen

    return build_screen(app.kiosk.guides)


def _documents_screen(app):
    from kiosk.screens.documents import DocumentsScreen

    return DocumentsScreen(name="documents", flow=app.kiosk.printing.documents, path=app.kiosk.visit)


CITIZEN_SERVICES: tuple[CitizenService, ...] = (
    CitizenService("pickup", N_("Collect a certificate"), ("locker",), _pickup_screen),
    # reading needs no device; the print buttons follow the printers
    CitizenService("guides", N_("Service guides"), (), _guides_screen),
    CitizenService("documents", N_("Print documents"), ("document_printer",), _documents_screen),
)


def _quiet(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


def kivy_home(settings: Settings):
    return settings.data_path / "kivy"


def configure_kivy(settings: Settings) -> None:
    """Kiosk settings for Kivy: our argparse, no file logs, nothing under ~/.kivy, Kivy's
    log through our (redacting) handler, no exit on Escape, no multitouch emulation."""
    home = kivy_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    if "kivy" not in sys.modules:
        os.environ.update({
            "KIVY_HOME": str(home),
            "KIVY_NO_ARGS": "1",
            "KIVY_NO_FILELOG": "1",
            "KIVY_NO_CONFIG": "1",  # every Kivy setting comes from here, none from an .ini
            "KIVY_LOG_MODE": "PYTHON",  # records propagate to the root handler and its redaction
        })
    # Kivy's start-up chatter only when debugging, its warnings always. A filter, because
    # Kivy sets its logger's level itself while it is being imported.
    kivy_log = logging.getLogger("kivy")
    if os.environ.get("KIOSK_LOG_LEVEL", "INFO").upper() != "DEBUG" and _quiet not in kivy_log.filters:
        kivy_log.addFilter(_quiet)

    from kivy.config import Config

    ui = settings.ui
    width, height = (ui.height, ui.width) if ui.rotation in (90, 270) else (ui.width, ui.height)
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "log_enable", "0")
    Config.set("kivy", "window_icon", "")
    # a mouse stands in for a finger; no red multitouch dots on right click
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "rotation", str(ui.rotation))
    Config.set("graphics", "fullscreen", "auto" if ui.fullscreen else "0")
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "show_cursor", "1" if not ui.fullscreen else "0")
    Config.set("graphics", "multisamples", str(ui.multisamples))


def make_kiosk(settings: Settings, *, clock: Clock = time.monotonic,
               now: Callable[[], dt.datetime] = dt.datetime.now, font: "FontChoice",
               faults: "FaultControls | None" = None) -> Kiosk:
    """Every part of the UI process, over the settings; nothing waits for a device. `faults`: the
    simulators' fault controls for the technician mode (kiosk/sim/faults.py), only where the kiosk runs
    on simulators and whoever runs it hands them in; None on a real kiosk."""
    from kiosk.app import guides, pickup, printing, tech
    from kiosk.app.device_runtime import DeviceRuntime
    from kiosk.app.printing import main_thread_delivery
    from kiosk.core.background import Threads
    from kiosk.core.printing.documents import DocState
    from kiosk.core.visit import VisitPath
    from kiosk.store import Store

    session = VisitorSession(idle_timeout_s=settings.kiosk.idle_timeout_s,
                             warning_s=settings.kiosk.idle_warning_s,
                             extensions=settings.kiosk.idle_extensions, clock=clock)
    store = Store.from_settings(settings)
    problems = ProblemRelay()
    runtime = DeviceRuntime(settings, store, report_problem=problems)
    # the locker's steps: one worker thread each for the citizen's and the staff's, as the guides'
    locker = pickup.make(settings, store, runtime, session, monotonic=clock,
                         executor_for=lambda name: Threads(main_thread_delivery, workers=1, name=f"kiosk-{name}"))
    paper = printing.make(settings, runtime, session, now)
    visit = VisitPath(payment=paper.payment, rating=paper.rating, session=session)
    visit.pays_through(paper.documents.SERVICE, paper.documents, lambda: paper.documents.state is DocState.PAYING)
    return Kiosk(
        settings=settings, clock=clock, now=now, font=font, session=session, store=store, runtime=runtime,
        problems=problems, pickup=locker, printing=paper, visit=visit,
        guides=guides.make(settings, store, runtime, session, font_path=font.path, now=now,
                           report_problem=problems,
                           # one thread: a printer is asked and printed on in order
                           executor=Threads(main_thread_delivery, workers=1, name="kiosk-guides")),
        technician=tech.make(settings, clock, runtime, store, pickup_watches_doors=locker is not None,
                             faults=faults))


def build(settings: Settings, *, clock: Clock = time.monotonic,
          now: Callable[[], dt.datetime] = dt.datetime.now,
          services: tuple[CitizenService, ...] | list[CitizenService] | None = None,
          faults: "FaultControls | None" = None) -> "KioskApp":
    """The kiosk app, ready to run. Raises fonts.FontError when no Chinese font is installed.
    The tour and the UI tests build it here too, with their clock and the simulators' `faults`."""
    font = fonts.find_chinese_font(settings.resolve(settings.ui.font) if settings.ui.font else None)
    memory.tune()  # before the window and the screens allocate anything large (kiosk/memory.py)
    configure_kivy(settings)
    kiosk = make_kiosk(settings, clock=clock, now=now, font=font, faults=faults)
    from kiosk.screens.shell import KioskApp

    chosen = [s for s in (CITIZEN_SERVICES if services is None else services) if offered(s, settings.devices)]
    return KioskApp(kiosk, services=chosen)
