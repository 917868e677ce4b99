"""Composition root of the touch UI: settings in, one typed `Kiosk` and the Kivy app over it out.

`build()` finds the Chinese font, configures Kivy for a kiosk, and makes every
part of the UI process before the app exists (`make_kiosk()`): first the
`Parts` every area is built from (kiosk/app/services.py: the visitor session,
the store, the device runtime, the clocks, the central client, the visit path
with the payment and the rating, the help flow of "Call staff"), then the flow of each citizen service the
config offers, then the technician mode. They form one `Kiosk`, handed to the
app through its constructor.

The citizen services, in home-screen order, are `CITIZEN_SERVICES`: each one
(`CitizenService`) declares its key, title and the devices it needs, how its
flow is made from the parts and how its screen is made from the app, its
flow and the visit path. A service whose device has no section in the config
is not offered (no flow, no tile); one the config switches off (`[services]
disabled`) keeps its flow but has no tile, so that it can come back live; one
whose device is down shows a disabled tile with the reason. A new service is one
more entry here plus its own files (and its key in kiosk/config.py SERVICE_KEYS).

Devices come up in the background once the app starts: the flows exist from
the start and get their devices when they are there, and the home screen
never waits for them.

Kivy reads its environment when first imported, so `configure_kivy()` runs
before anything imports kivy; this module imports kivy only inside `build()`,
and the areas' modules it lists import their screens only when making them.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, TypeVar

from kiosk import fonts, memory
from kiosk.app import documents, fees, forms, guides, pickup, progress, tickets
from kiosk.app.services import Background, CitizenService, Parts, ProblemRelay
from kiosk.config import Settings
from kiosk.core.flow import Clock
from kiosk.core.offer import offered
from kiosk.core.session import VisitorSession
from kiosk.i18n import N_

if TYPE_CHECKING:  # pragma: no cover
    from kivy.uix.screenmanager import Screen

    from kiosk.app.pickup import PickupService
    from kiosk.app.tech import Technician
    from kiosk.core.guides.flow import GuideFlow
    from kiosk.core.fees import FeeFlow
    from kiosk.core.forms.flow import FormFlow
    from kiosk.core.printing.documents import DocumentPrintFlow
    from kiosk.core.progress import ProgressFlow
    from kiosk.core.tickets import TicketFlow
    from kiosk.core.technician.bench import FaultControls
    from kiosk.fonts import FontChoice
    from kiosk.screens.shell import KioskApp

log = logging.getLogger(__name__)

F = TypeVar("F")

# --- the citizen services, in home-screen order ---------------------------------------------------------

PICKUP: CitizenService[PickupService] = CitizenService(
    "pickup", N_("Collect a certificate"), ("locker",), pickup.make, pickup.screen, pickup.staff_way_in)
# materials handed in (补交材料): the same locker service as the pickup (one per device runtime); the devices
# are those HandinFlow cannot do without (kiosk/core/locker/handin.py NEEDS; the scanner is optional)
HANDIN: CitizenService[PickupService] = CitizenService(
    "handin", N_("Hand in materials"), ("locker", "receipt_printer", "idcard"), pickup.make, pickup.handin_screen,
    pickup.staff_way_in)
# reading needs no device; the print buttons follow the printers
GUIDES: CitizenService[GuideFlow] = CitizenService(
    "guides", N_("Service guides"), (), guides.make, guides.screen)
DOCUMENTS: CitizenService[DocumentPrintFlow] = CitizenService(
    "documents", N_("Print documents"), ("document_printer",), documents.make, documents.screen)

# filling in a form (自助填表): printed on A4; the card reader fills what the card knows when it is there
FORMS: CitizenService[FormFlow] = CitizenService(
    "forms", N_("Fill in a form"), ("document_printer",), forms.make, forms.screen)
# queue tickets and appointment check-in (取号 / 预约签到): the ticket is printed, so the receipt printer is needed;
# the card reader and the scanner are optional. No rating after it: the window's service is what is rated
TICKETS: CitizenService[TicketFlow] = CitizenService(
    "tickets", N_("Take a number"), ("receipt_printer",), tickets.make, tickets.screen)

# case progress (办件进度): needs no device; the card reader, the scanner and the receipt printer when present
PROGRESS: CitizenService[ProgressFlow] = CitizenService(
    "progress", N_("Case progress"), (), progress.make, progress.screen)
# paying a fee notice: offered where the card terminal is configured (payment codes come beside it where a
# scanner and `[payments] acquirer` are); the scanner and the receipt printer are used when they are there
FEES: CitizenService[FeeFlow] = CitizenService(
    "fees", N_("Pay a fee notice"), ("payment",), fees.make, fees.screen)

CITIZEN_SERVICES: tuple[CitizenService[Any], ...] = (PICKUP, HANDIN, GUIDES, DOCUMENTS, FORMS, TICKETS, PROGRESS,
                                                     FEES)


@dataclass(frozen=True)
class Kiosk:
    """Everything the UI process runs on, made once per process by `make_kiosk()`."""

    parts: Parts                               # what every area is built from, the visit path among them
    services: tuple[CitizenService[Any], ...]  # the citizen services the config offers, in home-screen order
    flows: Mapping[str, Any]                   # each offered service's flow, by its key (read it with `flow`)
    technician: "Technician"

    def flow(self, service: CitizenService[F]) -> F:
        """The flow of `service`, one this kiosk offers (a KeyError names one it does not: not in its
        service list, or a device it needs is not configured)."""
        try:
            return self.flows[service.key]
        except KeyError:
            raise KeyError(f"the citizen service {service.key!r} is not offered by this kiosk") from None

    def screen(self, service: CitizenService[F], app: "KioskApp") -> "Screen":
        """The screen of `service`, over its flow (made for a visit, given back after it)."""
        return service.make_screen(app, self.flow(service), self.parts.visit)

    def ways_in(self, service: CitizenService[F], app: "KioskApp") -> None:
        """The ways into `service` beside its tile, once, as the app is built."""
        if service.ways_in is not None:
            service.ways_in(app, self.flow(service))

    def start(self) -> None:
        """The devices come up (off the main thread)."""
        self.parts.runtime.start()

    def stop(self) -> None:
        self.technician.stop()
        if self.parts.voice is not None:
            self.parts.voice.close()
        self.parts.background.stop()
        self.parts.runtime.stop()


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
               services: tuple[CitizenService[Any], ...] | list[CitizenService[Any]] = CITIZEN_SERVICES,
               faults: "FaultControls | None" = None) -> Kiosk:
    """Every part of the UI process, over the settings; nothing waits for a device. The flows of the
    `services` the config offers, made in their order. `faults`: the simulators' fault controls for the
    technician mode (kiosk/sim/faults.py), only where the kiosk runs on simulators and whoever runs it
    hands them in; None on a real kiosk."""
    from kiosk.app import help, tech, visit, voice
    from kiosk.app.device_runtime import DeviceRuntime
    from kiosk.store import Store
    from kiosk.sync.client import CentralClient

    session = VisitorSession(idle_timeout_s=settings.kiosk.idle_timeout_s,
                             warning_s=settings.kiosk.idle_warning_s,
                             extensions=settings.kiosk.idle_extensions, clock=clock)
    store = Store.from_settings(settings)
    problems = ProblemRelay()
    runtime = DeviceRuntime(settings, store, report_problem=problems)
    central = CentralClient.from_settings(settings)
    background = Background()
    parts = Parts(settings=settings, store=store, runtime=runtime, session=session, clock=clock, now=now, font=font,
                  problems=problems, central=central, background=background,
                  visit=visit.make(settings, store, runtime, session, now=now, central=central, background=background),
                  help=help.make(settings, store, session, background=background),
                  voice=voice.make(settings, session))
    offered_here = tuple(s for s in services if offered(s, settings.devices))
    flows = {s.key: s.make_flow(parts) for s in offered_here}
    return Kiosk(parts=parts, services=offered_here, flows=flows,
                 technician=tech.make(settings, clock, runtime, store,
                                      # the locker service (either citizen service over it) watches its doors
                                      pickup_watches_doors=PICKUP.key in flows or HANDIN.key in flows,
                                      faults=faults))


def build(settings: Settings, *, clock: Clock = time.monotonic,
          now: Callable[[], dt.datetime] = dt.datetime.now,
          services: tuple[CitizenService[Any], ...] | list[CitizenService[Any]] | None = None,
          faults: "FaultControls | None" = None) -> "KioskApp":
    """The kiosk app, ready to run, with the citizen services `services` (default `CITIZEN_SERVICES`)
    the config offers. Raises fonts.FontError when no Chinese font is installed. The tour and the UI
    tests build it here too, with their clock and the simulators' `faults`."""
    font = fonts.find_chinese_font(settings.resolve(settings.ui.font) if settings.ui.font else None)
    memory.tune()  # before the window and the screens allocate anything large (kiosk/memory.py)
    configure_kivy(settings)
    kiosk = make_kiosk(settings, clock=clock, now=now, font=font, faults=faults,
                       services=CITIZEN_SERVICES if services is None else services)
    from kiosk.screens.shell import KioskApp

    return KioskApp(kiosk)
