"""Composition of document printing, payment and ratings in the UI process (kiosk/app/root.py).

Builds, once per process, over the device runtime (kiosk/app/device_runtime.py,
one owner per port), a central client and worker threads of its own: the
payment ledger and its restart recovery, the one `PaymentFlow`, the
`DocumentPrintFlow`, the `RatingFlow` and the form library. The devices bind
into the flows once they are up. Every flow is reset when the visitor session
is wiped. The app shows the payment and rating screens over these flows; the
visit's chain (kiosk/core/visit.py, made in kiosk/app/root.py) moves between them.
"""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class Printing:
    ledger: Any        # kiosk.core.payment.ledger.PaymentLedger
    payment: Any       # kiosk.core.payment.flow.PaymentFlow
    documents: Any     # kiosk.core.printing.documents.DocumentPrintFlow
    rating: Any        # kiosk.core.rating.RatingFlow
    forms: Any         # kiosk.core.printing.documents.FormLibrary
    background: Any    # kiosk.core.background.Threads: the flows' workers

    def stop(self) -> None:
        self.background.shutdown()


def code_gateway(settings, central):
    """The payment-code acquirer that `[payments] acquirer` names, loaded by name: `module:callable`,
    called with the central client and the settings, returning a `CodePaymentGateway`
    (kiosk/core/payment/gateway.py). The default config names the demo plug-in (kiosk/sim/acquirer.py);
    a deployment names its acquirer's gateway. None (payment codes are not offered) when none is named
    or it cannot be loaded (logged: the card terminal still works)."""
    from kiosk.core.payment.gateway import CodePaymentGateway

    name = settings.payments.acquirer
    if not name:
        return None
    module, _, attr = name.partition(":")
    try:
        gateway = getattr(importlib.import_module(module), attr)(central, settings)
    except Exception as exc:
        log.error("[payments] acquirer = %r cannot be loaded (%s: %s): payment codes are not offered", name,
                  type(exc).__name__, exc)
        return None
    if not isinstance(gateway, CodePaymentGateway):
        log.error("[payments] acquirer = %r gave a %s, not a payment-code gateway (pay, query, reverse, "
                  "refund): payment codes are not offered", name, type(gateway).__name__)
        return None
    return gateway


def main_thread_delivery(fn) -> None:
    from kivy.clock import Clock

    Clock.schedule_once(lambda _dt: fn(), 0)


def make(settings, runtime, session, now) -> Printing:
    """`runtime` is the UI's device runtime (kiosk/app/device_runtime.py): its devices fill in once
    built, so the flows get theirs then; the payment recovery runs right after, before any payment
    is possible."""
    from kiosk.core.background import Threads
    from kiosk.core.guides.catalog import GuideCatalog
    from kiosk.core.printing.documents import DocumentPrintFlow, FormLibrary
    from kiosk.core.money_slip import MoneySlips
    from kiosk.core.payment.flow import PaymentFlow
    from kiosk.core.payment.ledger import PaymentLedger
    from kiosk.core.payment.recovery import PaymentRecovery
    from kiosk.core.rating import RatingFlow
    from kiosk.store import Store
    from kiosk.sync import outbox
    from kiosk.sync.client import CentralClient

    store = Store.from_settings(settings)
    central = CentralClient.from_settings(settings)
    background = Threads(main_thread_delivery, workers=3, name="kiosk-printing")
    gateway = code_gateway(settings, central)
    ledger = PaymentLedger(store, outbox)
    pay = settings.payments
    slips = MoneySlips(lambda: runtime.devices.get("receipt_printer"), hall=settings.kiosk.hall,
                       kiosk_id=settings.kiosk.id, hotline=settings.kiosk.hotline, now=now)
    payment = PaymentFlow(ledger, executor=background, gateway=gateway, methods=pay.methods,
                          code_scan_timeout_s=pay.code_scan_timeout_s,
                          code_confirm_timeout_s=pay.code_confirm_timeout_s, code_poll_s=pay.code_poll_s,
                          slips=slips)
    forms = FormLibrary(GuideCatalog(store), settings.data_path / settings.documents.forms_dir,
                        sample_forms=settings.documents.sample_forms)
    documents = DocumentPrintFlow(
        printer=None, executor=background, payment=payment, store=store, outbox=outbox, fees=settings.fees,
        hash_key=settings.privacy.hash_key, central=central, forms=forms, spool_dir=settings.data_path / "spool",
        card_timeout_s=settings.documents.id_card_timeout_s, lookup_timeout_s=settings.central.lookup_timeout_s,
        print_timeout_s=settings.documents.print_timeout_s)
    rating = RatingFlow(store, outbox, settings.ratings.low_reasons, executor=background)
    printing = Printing(ledger, payment, documents, rating, forms, background)

    def devices_ready(devices):
        payment.terminal, payment.scanner = devices.get("payment"), devices.get("scanner")
        documents.printer, documents.reader = devices.get("document_printer"), devices.get("idcard")
        # before any new payment: what a crash or power cut left in flight is asked about first
        recovery = PaymentRecovery(ledger, terminal=payment.terminal, gateway=gateway)
        background.run(recovery.run, lambda _report, error: error and log.error(
            "payment recovery failed: %s (new payments stay refused)", error))

    runtime.on_ready(devices_ready)

    def wipe(_reason):
        documents.reset()
        payment.reset()
        rating.reset()

    session.on("wipe", wipe)
    session.attach(payment)      # which of their steps a visit may leave (kiosk/core/flow.py)
    session.attach(documents)
    return printing
