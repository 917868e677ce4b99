"""Composition of the service guides in the UI process (kiosk/app/root.py `GUIDES`).

Opens the catalog (seeding it from `[guides] seed_file` on a kiosk that has
none yet), the search over it, and the `GuideFlow` with the receipt and A4
printers the kiosk has, the outbox and alarms (`StorePrintRecorder`), the
visitor session and one worker thread for its blocking steps (a printer is
asked and printed on in order). The printers are the UI's own
devices (the device runtime's, filled once they are up); until then the print
buttons say the printer is not available yet. Its screen is kiosk/screens/guides.py.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from kiosk.config import Settings

if TYPE_CHECKING:  # pragma: no cover
    from kiosk.app.services import Parts
    from kiosk.core.guides.flow import GuideFlow
    from kiosk.core.visit import VisitPath
    from kiosk.screens.guides import GuidesScreen
    from kiosk.screens.shell import KioskApp

log = logging.getLogger(__name__)

PRINTERS = ("receipt_printer", "document_printer")


class RuntimePrinters(Mapping):
    """The printers configured in the settings, read from the device runtime when asked (they come
    up in the background after the flows are built)."""

    def __init__(self, runtime, settings: Settings):
        self.runtime = runtime
        self.names = tuple(n for n in PRINTERS if getattr(settings.devices, n, None) is not None)

    def __getitem__(self, name):
        if name not in self.names:
            raise KeyError(name)
        return self.runtime.devices.get(name)

    def __iter__(self):
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def make(parts: "Parts") -> "GuideFlow":
    from kiosk.core.guides.catalog import CatalogError, GuideCatalog
    from kiosk.core.offer import DeviceProblem
    from kiosk.core.guides.flow import GuideFlow, StorePrintRecorder
    from kiosk.core.guides.search import GuideSearch
    from kiosk.sync.outbox import Outbox

    settings, store, problems = parts.settings, parts.store, parts.problems
    catalog = GuideCatalog(store)
    try:
        # without the search readings: they would load pypinyin here and delay the first frame;
        # the agent (or `kiosk guides seed` at install) stores them
        catalog.ensure_seeded(settings, with_readings=False)
    except CatalogError as exc:  # the kiosk still runs; the guides list what the catalog holds (maybe nothing)
        log.error("guide catalog seed: %s", exc)
    return GuideFlow(catalog=catalog, search=GuideSearch(catalog), printers=RuntimePrinters(parts.runtime, settings),
                     clock=parts.session.clock, executor=parts.background.threads("guides"),
                     recorder=StorePrintRecorder(store, Outbox), session=parts.session, font_path=parts.font.path,
                     spool_dir=settings.data_path / "spool", hall=settings.kiosk.hall, now=parts.now,
                     on_device_problem=lambda device, detail: problems(
                         device, None if detail is None else DeviceProblem(detail)))


def screen(_app: "KioskApp", flow: "GuideFlow", _visit: "VisitPath") -> "GuidesScreen":
    from kiosk.screens.guides import build_screen  # kivy only once configure_kivy() has run

    return build_screen(flow)
