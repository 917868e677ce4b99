"""Composition of the case progress service in the UI process (kiosk/app/root.py `PROGRESS`).

The `ProgressFlow` (kiosk/core/progress.py) over the central client (the port it asks the platform
through, with `[central] lookup_timeout_s`), with the ID card reader, the receipt printer and the scanner
of the device runtime when the kiosk has them (bound once they are up; none is needed: without a card
reader the case number is typed, without a printer nothing prints). The card is read within
`[documents] id_card_timeout_s`, as for the documents. The flow's steps run on worker threads of their own;
the scanner is listened to on another. The flow is reset when the visitor session is wiped. Its screen is
kiosk/screens/progress.py.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from kiosk.app.services import Parts
    from kiosk.core.progress import ProgressFlow
    from kiosk.core.visit import VisitPath
    from kiosk.screens.progress import ProgressScreen
    from kiosk.screens.shell import KioskApp


def make(parts: "Parts") -> "ProgressFlow":
    from kiosk.core.progress import ProgressFlow

    settings = parts.settings
    flow = ProgressFlow(parts.central, hash_key=settings.privacy.hash_key, hall=settings.kiosk.hall,
                        kiosk_id=settings.kiosk.id, hotline=settings.kiosk.hotline,
                        executor=parts.background.threads("progress", workers=2),
                        scan_executor=parts.background.threads("progress-scan"), clock=parts.clock, now=parts.now,
                        card_timeout_s=settings.documents.id_card_timeout_s,
                        lookup_timeout_s=settings.central.lookup_timeout_s)

    def devices_ready(devices):
        flow.reader, flow.printer = devices.get("idcard"), devices.get("receipt_printer")
        flow.scanner = devices.get("scanner")

    parts.runtime.on_ready(devices_ready)
    parts.session.on("wipe", lambda _reason: flow.reset())
    parts.session.attach(flow)   # which of its steps a visit may leave (kiosk/core/flow.py)
    return flow


def screen(_app: "KioskApp", flow: "ProgressFlow", visit: "VisitPath") -> "ProgressScreen":
    from kiosk.screens.progress import build_screen  # kivy only once configure_kivy() has run

    return build_screen(flow, visit)
