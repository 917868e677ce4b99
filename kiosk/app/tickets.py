"""Composition of queue tickets and appointment check-in in the UI process (kiosk/app/root.py `TICKETS`).

The `TicketFlow` (kiosk/core/tickets.py) over the central client (the hall's queue system through the
platform: kiosk/sync/client.py implements its `QueuePort`), the ticket book on the store and the outbox,
and the receipt printer, the ID card reader and the scanner of the device runtime (bound once they are
up). Its steps run on one worker (the list, the number, the print); the card read and the scanner wait
on two more, so the keypad works while a card is awaited. The flow is reset when the visitor session is
wiped. Its screen is kiosk/screens/tickets.py.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from kiosk.app.services import Parts
    from kiosk.core.tickets import TicketFlow
    from kiosk.core.visit import VisitPath
    from kiosk.screens.shell import KioskApp
    from kiosk.screens.tickets import TicketsScreen


def make(parts: "Parts") -> "TicketFlow":
    from kiosk.core.tickets import TicketBook, TicketFlow
    from kiosk.sync import outbox

    settings = parts.settings
    t = settings.tickets
    book = TicketBook(parts.store, outbox, t.hall, prefix=t.offline_prefix, start=t.offline_start,
                      end=t.offline_end, width=t.offline_width)
    waits = parts.background.threads("tickets-wait", workers=2)   # the card read and the scanner
    flow = TicketFlow(book, parts.central, hall=t.hall, hall_name=settings.kiosk.hall, kiosk_id=settings.kiosk.id,
                      hash_key=settings.privacy.hash_key, executor=parts.background.threads("tickets"),
                      card_executor=waits, scan_executor=waits, now=parts.now, clock=parts.clock,
                      card_timeout_s=t.id_card_timeout_s, lookup_timeout_s=settings.central.lookup_timeout_s)

    def devices_ready(devices):
        flow.printer, flow.idcard, flow.scanner = (devices.get("receipt_printer"), devices.get("idcard"),
                                                   devices.get("scanner"))

    parts.runtime.on_ready(devices_ready)
    parts.session.on("wipe", lambda _reason: flow.end_visit())
    parts.session.attach(flow)   # which of its steps a visit may leave (kiosk/core/flow.py)
    return flow


def screen(app: "KioskApp", flow: "TicketFlow", visit: "VisitPath") -> "TicketsScreen":
    from kiosk.screens.tickets import TicketsScreen  # kivy only once configure_kivy() has run

    return TicketsScreen(app, flow, name="tickets")
