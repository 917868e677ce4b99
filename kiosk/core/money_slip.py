"""The slip a citizen takes away when money went wrong: what happened, the reference, the amount,
what happens next and the hotline.

Printed on the receipt printer when a payment's outcome is not known, when a
payment was returned after the service failed, and when it could not be
returned here. The reference is written exactly as the screen and the
technician's alarm show it (`payment.show_reference`), so a citizen, the
service desk and the technician read the same ten characters. Nothing of the
citizen is on it: no name, no ID number, no card number.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Callable

from kiosk.core.guides.printout import wrap
from kiosk.core.printing.sign_off import sign_off
from kiosk.hardware.receipt import Receipt
from kiosk.i18n import N_, _

log = logging.getLogger(__name__)

# what happened and what happens next (msgids), by the payment's state
SLIPS = {
    "unknown": (N_("Payment not confirmed"),
                N_("We could not confirm whether your payment went through, so nothing was provided. If money "
                   "was taken from your account, it will be returned: show this slip at the service desk or "
                   "call the hotline with the reference.")),
    "refund_owed": (N_("Refund by the service desk"),
                    N_("The service could not be completed and your payment could not be returned at this "
                       "kiosk. Show this slip at the service desk or call the hotline with the reference, and "
                       "the staff will return it.")),
    "refunded": (N_("Payment returned"),
                 N_("The service could not be completed and your payment has been returned. It can take a "
                    "few working days to show in your account. Keep this slip until it does.")),
}


def slip_receipt(state: str, *, reference: str, amount: str, hall: str, kiosk_id: str, hotline: str,
                 printed_at: dt.datetime, refund_reference: str = "", width: int = 48) -> Receipt:
    """The slip for a payment in `state` (unknown | refund_owed | refunded); `reference` and `amount` as
    the screen shows them (K7Q2M-9X4A1, ¥1.00)."""
    title, next_step = SLIPS[state]
    r = Receipt(width=width)
    r.title(_(title))
    if hall:
        for line in wrap(hall, width):
            r.centered(line)
    r.rule()
    r.line(_("Reference") + "：" + reference, bold=True, large=True)
    if refund_reference:
        r.line(_("Refund reference") + "：" + refund_reference)
    r.line(_("Amount") + "：" + amount, bold=True)
    r.line(_("Kiosk") + "：" + kiosk_id)
    r.line(_("Time") + "：" + printed_at.strftime("%Y-%m-%d %H:%M"))
    r.rule()
    for line in wrap(_(next_step), width):
        r.line(line)
    return sign_off(r, hotline)


class MoneySlips:
    """Prints slips on the receipt printer the app brings up (`printer()` is None until it is up)."""

    def __init__(self, printer: Callable[[], object | None], *, hall: str, kiosk_id: str, hotline: str,
                 now: Callable[[], dt.datetime] = dt.datetime.now):
        self.printer = printer
        self.hall = hall
        self.kiosk_id = kiosk_id
        self.hotline = hotline
        self.now = now

    def print(self, state: str, *, reference: str, amount: str, refund_reference: str = "") -> bool:
        """Blocking (a worker's). True when the printer took the whole slip; False says the citizen must
        read the reference off the screen."""
        printer = self.printer()
        if printer is None:
            log.warning("money slip %s for %s not printed: no receipt printer", state, reference)
            return False
        receipt = slip_receipt(state, reference=reference, amount=amount, hall=self.hall, kiosk_id=self.kiosk_id,
                               hotline=self.hotline, printed_at=self.now(), refund_reference=refund_reference)
        try:
            printer.print_receipt(receipt)
        except Exception as exc:  # paper out, cover open, no answer: the screen keeps the reference
            log.warning("money slip %s for %s not printed: %s", state, reference, getattr(exc, "message", exc))
            return False
        log.info("money slip %s for %s printed", state, reference)
        return True
