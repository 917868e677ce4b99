"""Composition of what a service hands a visit over to, in the UI process (kiosk/app/root.py): the
payment and the rating, chained by the `VisitPath` (kiosk/core/visit.py).

Built once per process, before any citizen service (a service's flow may pay
through the payment, kiosk/app/documents.py): the payment ledger and its
restart recovery, the one `PaymentFlow` with the money slips and the
payment-code acquirer the config names, the `RatingFlow`, and the path over
them. The devices (card terminal, scanner) bind into the payment once they
are up, and the recovery runs right after, before any payment is possible.
Both flows are reset when the visitor session is wiped. The app shows the
payment and rating screens over them; the path moves between a service's
screen and theirs.
"""
from __future__ import annotations

import datetime as dt
import importlib
import logging
from typing import TYPE_CHECKING, Callable

from kiosk.config import Settings

if TYPE_CHECKING:  # pragma: no cover
    from kiosk.app.device_runtime import DeviceRuntime
    from kiosk.app.services import Background
    from kiosk.core.session import VisitorSession
    from kiosk.core.visit import VisitPath
    from kiosk.store import Store
    from kiosk.sync.client import CentralClient

log = logging.getLogger(__name__)


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


def make(settings: Settings, store: "Store", runtime: "DeviceRuntime", session: "VisitorSession", *,
         now: Callable[[], dt.datetime], central: "CentralClient", background: "Background") -> "VisitPath":
    """The visit path over the payment and the rating. `runtime` is the UI's device runtime
    (kiosk/app/device_runtime.py): its devices fill in once built, so the payment gets its own then."""
    from kiosk.core.money_slip import MoneySlips
    from kiosk.core.payment.flow import PaymentFlow
    from kiosk.core.payment.ledger import PaymentLedger
    from kiosk.core.payment.recovery import PaymentRecovery
    from kiosk.core.rating import RatingFlow
    from kiosk.core.visit import VisitPath
    from kiosk.sync import outbox

    workers = background.threads("payment", workers=3)
    gateway = code_gateway(settings, central)
    ledger = PaymentLedger(store, outbox)
    pay = settings.payments
    slips = MoneySlips(lambda: runtime.devices.get("receipt_printer"), hall=settings.kiosk.hall,
                       kiosk_id=settings.kiosk.id, hotline=settings.kiosk.hotline, now=now)
    payment = PaymentFlow(ledger, executor=workers, gateway=gateway, methods=pay.methods,
                          code_scan_timeout_s=pay.code_scan_timeout_s,
                          code_confirm_timeout_s=pay.code_confirm_timeout_s, code_poll_s=pay.code_poll_s,
                          slips=slips)
    rating = RatingFlow(store, outbox, settings.ratings.low_reasons, executor=workers)

    def devices_ready(devices):
        payment.terminal, payment.scanner = devices.get("payment"), devices.get("scanner")
        # before any new payment: what a crash or power cut left in flight is asked about first
        recovery = PaymentRecovery(ledger, terminal=payment.terminal, gateway=gateway)
        workers.run(recovery.run, lambda _report, error: error and log.error(
            "payment recovery failed: %s (new payments stay refused)", error))

    runtime.on_ready(devices_ready)

    def wipe(_reason):
        payment.reset()
        rating.reset()

    session.on("wipe", wipe)
    session.attach(payment)      # which of its steps a visit may leave (kiosk/core/flow.py)
    return VisitPath(payment=payment, rating=rating, session=session)
