"""Composition of the service guides in the UI process (called by kiosk/app.py).

Opens the catalog (seeding it from `[guides] seed_file` on a kiosk that has
none yet), the search over it, and the `GuideFlow` with the receipt and A4
printers the kiosk has, the outbox and alarms (`StorePrintRecorder`), the
visitor session and a background worker; then the screen. The printers are
the UI's own devices (`app.devices`, filled by the device runtime once they
are up); until then the print buttons say the printer is not available yet.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping

from kiosk.config import Settings

log = logging.getLogger(__name__)

PRINTERS = ("receipt_printer", "document_printer")


class AppPrinters(Mapping):
    """The printers configured in the settings, read from the app's devices when asked (they come up
    in the background after the screens are built)."""

    def __init__(self, app, settings: Settings):
        self.app = app
        self.names = tuple(n for n in PRINTERS if getattr(settings.devices, n, None) is not None)

    def __getitem__(self, name):
        if name not in self.names:
            raise KeyError(name)
        return (getattr(self.app, "devices", None) or {}).get(name)

    def __iter__(self):
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def build_flow(app, settings: Settings, *, clock, worker, store=None):
    from kiosk.core.catalog import CatalogError, GuideCatalog
    from kiosk.core.guides import GuideFlow, StorePrintRecorder
    from kiosk.core.search import GuideSearch
    from kiosk.store import Store

    store = store or Store.from_settings(settings)
    catalog = GuideCatalog(store)
    try:
        # without the search readings: they would load pypinyin here and delay the first frame;
        # the agent (or `kiosk guides seed` at install) stores them
        catalog.ensure_seeded(settings, with_readings=False)
    except CatalogError as exc:  # the kiosk still runs; the guides list what the catalog holds (maybe nothing)
        log.error("guide catalog seed: %s", exc)
    return GuideFlow(catalog=catalog, search=GuideSearch(catalog), printers=AppPrinters(app, settings),
                     clock=clock, worker=worker, recorder=StorePrintRecorder(store), session=app.session,
                     font_path=app.font.path, spool_dir=settings.data_path / "spool", hall=settings.kiosk.hall,
                     now=app.now, on_device_problem=app.set_device_problem)


def build_screen(app):
    """The guides screen, with its flow; once per process."""
    from kiosk.screens.guides import build_screen as guides_screen
    from kiosk.screens.worker import KivyWorker

    from kiosk.screens.guides_tour import register_steps

    flow = build_flow(app, app.settings, clock=app.session.clock, worker=KivyWorker("guides"))
    app.guides = flow
    register_steps()
    return guides_screen(flow)
