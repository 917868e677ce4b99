"""One citizen visit as an explicit chain of the flows it passes through.

    documents --confirm a price--> payment --the payment is over--> documents
    documents --done, "rate"-----> rating  --rated or skipped--> the visit ends (the session)
    pickup    --done, "finish"---> rating
    handin    --done, "finish"---> rating
    progress  --a case shown, "finish"--> rating   (a query records nothing: the rating links to none)

`VisitPath` holds which step of the chain the citizen is at (`showing`: the
name of the flow, which is also its screen's) and moves along the arrows
above, in plain Python: a service flow whose state says "paying" hands over
to the shared payment flow, and gets the citizen back when the payment is
over; a finished service hands over to the rating. The shell only follows
`showing` (kiosk/screens/shell.py); no screen navigates from its `render()`.
The session's wipe ends the chain, whatever step it was at.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from kiosk.core.listeners import tell_listeners

log = logging.getLogger(__name__)

PAYMENT, RATING = "payment", "rating"


class VisitPath:
    def __init__(self, *, payment: Any, rating: Any, session: Any = None):
        self.payment = payment          # kiosk.core.payment.PaymentFlow: `service`, the one paying
        self.rating = rating            # kiosk.core.rating.RatingFlow: `start(service, transaction id)`
        self.showing: str | None = None  # the step the chain is at; None before a service hands over
        self._returned_to: str | None = None
        self._listeners: list[Callable[["VisitPath"], None]] = []
        if session is not None:
            session.on("wipe", lambda _reason: self.end())

    def on_change(self, fn: Callable[["VisitPath"], None]) -> None:
        self._listeners.append(fn)

    def _show(self, step: str) -> None:
        if step != self.showing:
            self.showing = step
            tell_listeners(self, self._listeners, "visit path")

    # -- the arrows -----------------------------------------------------------------------------------
    def pays_through(self, service: str, flow: Any, paying: Callable[[], bool]) -> None:
        """`service`'s flow hands over to the payment while `paying()` holds, and gets the citizen
        back when it no longer does (approved, declined, canceled, unknown: the service decides)."""
        def changed(_flow) -> None:
            if paying():
                if self.showing in (None, service):
                    self._show(PAYMENT)
            elif self.showing == PAYMENT and self.payment.service == service:
                self._returned_to = service
                self._show(service)
        flow.on_change(changed)

    def enter(self, service: str) -> None:
        """The citizen opened `service` from the home screen: the chain starts there."""
        self._returned_to = None
        self.showing = service

    def returned(self, service: str) -> bool:
        """True once after the chain brought the citizen back to `service` from the payment (the
        service's screen then keeps its state instead of starting a new visit)."""
        back, self._returned_to = self._returned_to == service, None
        return back

    def rate(self, service: str, transaction_id: str | None) -> None:
        """The finished service hands over to the rating; the visit ends after it."""
        self.rating.start(service, transaction_id)
        self._show(RATING)

    def end(self) -> None:
        """The visit ended (the session was wiped): no step of it is shown any more."""
        self.showing = None
        self._returned_to = None
