"""Composition root of the touch UI: settings in, the kiosk app out.

Reads the settings, finds the Chinese font, configures Kivy for a kiosk, and
builds the core services (the visitor session) and the screens. Services
(pickup, printing, payment, ...) are listed in `SERVICES`, in home-screen
order; each declares the devices it needs. A service whose device has no
section in the config is not offered; one whose device is down shows a
disabled tile with the reason. Later issues add their devices and flows here.

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
from kiosk.core.session import Clock, VisitorSession
from kiosk.i18n import N_

if TYPE_CHECKING:  # pragma: no cover
    from kiosk.screens.shell import KioskApp


@dataclass(frozen=True)
class Service:
    """A service the citizen starts from its home-screen tile."""

    key: str  # also the name of its screen
    title: str  # msgid, e.g. N_("Collect a certificate")
    needs: tuple[str, ...]  # device names of [devices], e.g. ("locker", "scanner")
    screen: Callable[["KioskApp"], object]  # builds the service's Screen, once per process


# Home-screen order. Later issues append their flows, e.g.
#   Service("pickup", N_("Collect a certificate"), ("locker", "scanner"), pickup.build_screen)
SERVICES: list[Service] = []


# --- certificate pickup locker (issue 6) ---
def _pickup_screen(app):
    from kiosk.compose import pickup_tour  # noqa: F401  (registers the locker's `kiosk tour` steps)
    from kiosk.screens.pickup import build_screen  # kivy only once configure_kivy() has run

    return build_screen(app)


SERVICES.append(Service("pickup", N_("Collect a certificate"), ("locker",), _pickup_screen))


def start_devices(app, settings: Settings, clock: Clock) -> None:
    """Device bring-up off the main thread (kiosk/compose/device_runtime.py) and the pickup locker on it.
    `app.devices` / `app.health_pollers` fill in once the devices are built."""
    from kiosk.compose import pickup
    from kiosk.compose.device_runtime import DeviceRuntime
    from kiosk.store import Store

    store = Store.from_settings(settings)
    runtime = DeviceRuntime(settings, store, report_problem=app.set_device_problem)
    app.device_runtime, app.devices, app.health_pollers = runtime, runtime.devices, runtime.pollers
    pickup.attach(app, settings, store, runtime, monotonic=clock)
    runtime.start()
    # opening ports is quick; a moment's wait lets later composition steps (the technician's
    # alarm desk) find the devices built instead of opening ports of their own
    runtime.wait_ready(2.0)
    app.bind(on_stop=lambda *_a: runtime.stop())
# --- end of issue 6 ---


# --- service guides (issue 5): reading needs no device; the print buttons follow the printers ---
def _guides_screen(app):
    from kiosk.compose import guides  # kivy only once configure_kivy() has run

    return guides.build_screen(app)


SERVICES.append(Service("guides", N_("Service guides"), (), _guides_screen))
# --- end of service guides ---


# --- document printing, payment and ratings (issue 5): kiosk/compose/printing.py ---
# Entry points for other flows, once the app is built:
#   app.ask_rating(service_key, linked_transaction_id)  the rating screen after a completed service;
#                                                       the visit ends after it (rated or skipped)
#   app.print_blank_form(url, title, item_code="")      print a guide material's blank form
def _documents_screen(app):
    from kiosk.compose import printing  # kivy only once configure_kivy() has run

    return printing.build_documents_screen(app)


SERVICES.append(Service("documents", N_("Print documents"), ("document_printer",), _documents_screen))
# --- end of document printing ---

REASON_DEVICE_DOWN = N_("Temporarily out of service")


def offered(service: Service, settings: Settings) -> bool:
    """A service is offered only where every device it needs is configured."""
    return all(getattr(settings.devices, name, None) is not None for name in service.needs)


def unavailable_reason(service: Service, device_problems: dict[str, str]) -> str:
    """'' when the service can run now, else the citizen's reason (a msgid); the technician's
    detail stays in `device_problems` and the log."""
    return REASON_DEVICE_DOWN if any(name in device_problems for name in service.needs) else ""


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


def build(settings: Settings, *, clock: Clock = time.monotonic,
          now: Callable[[], dt.datetime] = dt.datetime.now,
          services: list[Service] | None = None) -> "KioskApp":
    """The kiosk app, ready to run. Raises fonts.FontError when no Chinese font is installed."""
    font = fonts.find_chinese_font(settings.resolve(settings.ui.font) if settings.ui.font else None)
    memory.tune()  # before the window and the screens allocate anything large (kiosk/memory.py)
    configure_kivy(settings)
    session = VisitorSession(idle_timeout_s=settings.kiosk.idle_timeout_s,
                             warning_s=settings.kiosk.idle_warning_s,
                             extensions=settings.kiosk.idle_extensions, clock=clock)
    from kiosk.screens.shell import KioskApp

    chosen = [s for s in (SERVICES if services is None else services) if offered(s, settings)]
    kiosk_app = KioskApp(settings=settings, session=session, services=chosen, font=font, now=now)
    start_devices(kiosk_app, settings, clock)  # devices and the pickup locker (issue 6)
    from kiosk.compose import printing  # printing, payment and ratings (issue 5)

    printing.attach(kiosk_app, settings, kiosk_app.device_runtime)
    # the hidden technician mode and the device alarms (issue 7): kiosk/compose/tech.py
    from kiosk.compose import tech

    tech.attach(kiosk_app, settings, clock)
    return kiosk_app
