"""Composition of paying a fee notice (缴费) in the UI process (kiosk/app/root.py `FEES`).

The `FeeFlow` (kiosk/core/fees.py) over the platform's fee notices (kiosk/sync/fee_notices.py: the
central client, and the outbox for the sale's `payment` transaction), the visit path's payment (the
flow hands the visit over to it while paying and gets it back after), and the scanner and receipt
printer of the device runtime, bound once they are up. The scanner is listened to on a worker of its
own while the notice number is asked for. The flow is reset when the visitor session is wiped. Its
screen is kiosk/screens/fees.py.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from kiosk.app.services import Parts
    from kiosk.core.fees import FeeFlow
    from kiosk.core.visit import VisitPath
    from kiosk.screens.fees import FeesScreen
    from kiosk.screens.shell import KioskApp


def make(parts: "Parts") -> "FeeFlow":
    from kiosk.core.fees import FeeFlow, FeeState
    from kiosk.sync.fee_notices import CentralFeeNotices

    settings, visit = parts.settings, parts.visit
    lookup = settings.central.lookup_timeout_s
    flow = FeeFlow(notices=CentralFeeNotices(parts.central, parts.store), payment=visit.payment,
                   executor=parts.background.threads("fees", workers=2),
                   scan_executor=parts.background.threads("fees-scan"), hall=settings.kiosk.hall,
                   kiosk_id=settings.kiosk.id, hotline=settings.kiosk.hotline, now=parts.now,
                   lookup_timeout_s=lookup, report_timeout_s=2 * lookup)
    visit.pays_through(flow.SERVICE, flow, lambda: flow.state is FeeState.PAYING)

    def devices_ready(devices):
        flow.scanner, flow.printer = devices.get("scanner"), devices.get("receipt_printer")

    parts.runtime.on_ready(devices_ready)
    parts.session.on("wipe", lambda _reason: flow.reset())
    parts.session.attach(flow)   # which of its steps a visit may leave (kiosk/core/flow.py)
    return flow


def screen(app: "KioskApp", flow: "FeeFlow", visit: "VisitPath") -> "FeesScreen":
    from kiosk.screens.fees import FeesScreen  # kivy only once configure_kivy() has run

    return FeesScreen(name="fees", flow=flow, path=visit)
