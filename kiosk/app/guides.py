"""Composition of the service guides in the UI process (kiosk/app/root.py).

Opens the catalog (seeding it from `[guides] seed_file` on a kiosk that has
none yet), the search over it, and the `GuideFlow` with the receipt and A4
printers the kiosk has, the outbox and alarms (`StorePrintRecorder`), the
visitor session and the executor its blocking steps run on. The printers are the UI's own
devices (the device runtime's, filled once they are up); until then the print
buttons say the printer is not available yet.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping

from kiosk.config import Settings

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


def make(settings: Settings, store, runtime, session, *, font_path, now, report_problem, executor):
    from kiosk.core.guides.catalog import CatalogError, GuideCatalog
    from kiosk.core.offer import DeviceProblem
    from kiosk.core.guides.flow import GuideFlow, StorePrintRecorder
    from kiosk.core.guides.search import GuideSearch
    from kiosk.sync.outbox import Outbox

    catalog = GuideCatalog(store)
    try:
        # without the search readings: they would load pypinyin here and delay the first frame;
        # the agent (or `kiosk guides seed` at install) stores them
        catalog.ensure_seeded(settings, with_readings=False)
    except CatalogError as exc:  # the kiosk still runs; the guides list what the catalog holds (maybe nothing)
        log.error("guide catalog seed: %s", exc)
    return GuideFlow(catalog=catalog, search=GuideSearch(catalog), printers=RuntimePrinters(runtime, settings),
                     clock=session.clock, executor=executor, recorder=StorePrintRecorder(store, Outbox), session=session,
                     font_path=font_path, spool_dir=settings.data_path / "spool", hall=settings.kiosk.hall,
                     now=now, on_device_problem=lambda device, detail: report_problem(
                         device, None if detail is None else DeviceProblem(detail)))
