"""Composition of document printing, payment and ratings in the UI process (called by kiosk/app.py).

Builds, once per process, over the app's device runtime (kiosk/compose/device_runtime.py,
one owner per port) and a central client and worker threads of its own: the payment ledger and its restart recovery, the one `PaymentFlow`, the
`DocumentPrintFlow`, the `RatingFlow`; installs the reusable payment and rating
screens when the app starts; and gives the app its entry points for other flows:

    app.ask_rating(service_key, linked_transaction_id)   after any completed service
    app.print_blank_form(url, title, item_code="")       a blank form from a guide's materials

Every flow is reset when the visitor session is wiped.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class Printing:
    ledger: Any
    payment: Any
    documents: Any
    rating: Any
    forms: Any


def code_gateway(central):
    """The payment-code acquirer. The reference platform's demo acquirer stands in; a deployment with a
    real acquirer plugs its `CodePaymentGateway` in here."""
    from kiosk.core.payment import CentralDemoAcquirer

    return CentralDemoAcquirer(central)


def main_thread_delivery(fn) -> None:
    from kivy.clock import Clock

    Clock.schedule_once(lambda _dt: fn(), 0)


def attach(app, settings, device_runtime) -> Printing:
    """`device_runtime` is the app's (kiosk/compose/device_runtime.py): its devices fill in once built, so the
    flows get theirs then; the payment recovery runs right after, before any payment is possible."""
    from kiosk.core.background import Threads
    from kiosk.core.catalog import GuideCatalog
    from kiosk.core.documents import DocumentPrintFlow, FormLibrary
    from kiosk.core.money_slip import MoneySlips
    from kiosk.core.payment import PaymentFlow, PaymentLedger, PaymentRecovery
    from kiosk.core.rating import RatingFlow
    from kiosk.store import Store
    from kiosk.sync import outbox
    from kiosk.sync.client import CentralClient

    store = Store.from_settings(settings)
    central = CentralClient.from_settings(settings)
    background = Threads(main_thread_delivery, workers=3, name="kiosk-printing")
    gateway = code_gateway(central)
    ledger = PaymentLedger(store, outbox)
    pay = settings.payments
    slips = MoneySlips(lambda: device_runtime.devices.get("receipt_printer"), hall=settings.kiosk.hall,
                       kiosk_id=settings.kiosk.id, hotline=settings.kiosk.hotline, now=app.now)
    payment = PaymentFlow(ledger, background=background, gateway=gateway, methods=pay.methods,
                          code_scan_timeout_s=pay.code_scan_timeout_s,
                          code_confirm_timeout_s=pay.code_confirm_timeout_s, code_poll_s=pay.code_poll_s,
                          slips=slips)
    forms = FormLibrary(GuideCatalog(store), settings.data_path / settings.documents.forms_dir,
                        demo_forms=settings.documents.demo_forms)
    documents = DocumentPrintFlow(
        printer=None, background=background, payment=payment, store=store, outbox=outbox, fees=settings.fees,
        hash_key=settings.privacy.hash_key, central=central, forms=forms, spool_dir=settings.data_path / "spool",
        card_timeout_s=settings.documents.id_card_timeout_s, lookup_timeout_s=settings.central.lookup_timeout_s,
        print_timeout_s=settings.documents.print_timeout_s)
    rating = RatingFlow(store, outbox, settings.ratings.low_reasons)
    printing = Printing(ledger, payment, documents, rating, forms)

    def devices_ready(devices):
        payment.terminal, payment.scanner = devices.get("payment"), devices.get("scanner")
        documents.printer, documents.reader = devices.get("document_printer"), devices.get("idcard")
        # before any new payment: what a crash or power cut left in flight is asked about first
        recovery = PaymentRecovery(ledger, terminal=payment.terminal, gateway=gateway)
        background.run(recovery.run, lambda _report, error: error and log.error(
            "payment recovery failed: %s (new payments stay refused)", error))

    device_runtime.on_ready(devices_ready)

    def wipe(_reason):
        documents.reset()
        payment.reset()
        rating.reset()

    app.session.on("wipe", wipe)
    app.session.attach(payment)      # which of their steps a visit may leave (kiosk/core/flow.py)
    app.session.attach(documents)
    app.printing = printing
    app.ask_rating = functools.partial(ask_rating, app)
    app.print_blank_form = functools.partial(print_blank_form, app)

    def install(*_args):
        from kiosk.screens.payment import PaymentScreen
        from kiosk.screens.rating import RatingScreen

        app.screens.add_widget(PaymentScreen(name="payment", flow=payment))
        app.screens.add_widget(RatingScreen(name="rating", flow=rating))

    app.bind(on_start=install)
    app.bind(on_stop=lambda *_a: background.shutdown())
    return printing


def ask_rating(app, service_key: str, linked_transaction_id: str | None) -> None:
    """Show the rating screen for a completed service; the visit ends after it (rated or skipped)."""
    app.printing.rating.start(service_key, linked_transaction_id)
    app.screens.current = "rating"


def print_blank_form(app, url: str, title: str, item_code: str = "") -> bool:
    """From a guide's materials: preview and print the blank form at `url` (the documents screen)."""
    if "documents" not in app.screens.screen_names or app.printing.documents.printer is None:
        return False
    app.screens.current = "documents"
    return app.printing.documents.choose_form_by_url(url, title, item_code)


def build_documents_screen(app):
    from kiosk.compose import printing_tour
    from kiosk.screens.documents import DocumentsScreen

    printing_tour.register_steps()
    return DocumentsScreen(name="documents", flow=app.printing.documents)
