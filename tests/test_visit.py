"""The visit's chain (kiosk/core/visit.py): a service hands over to the payment and gets the
citizen back, a finished service hands over to the rating, and a wipe ends the chain."""
from __future__ import annotations

from kiosk.core.session import SteerableClock, VisitorSession
from kiosk.core.visit import PAYMENT, RATING, VisitPath


class Flow:
    def __init__(self):
        self.paying = False
        self.listeners = []
        self.service = None

    def on_change(self, fn):
        self.listeners.append(fn)

    def change(self, paying: bool, service: str | None = None):
        self.paying = paying
        if service is not None:
            self.service = service
        for fn in self.listeners:
            fn(self)


class Rating:
    def __init__(self):
        self.started = []

    def start(self, service, transaction_id):
        self.started.append((service, transaction_id))


def make():
    payment, rating = Flow(), Rating()
    session = VisitorSession(idle_timeout_s=60, warning_s=10, extensions=1, clock=SteerableClock(False))
    path = VisitPath(payment=payment, rating=rating, session=session)
    documents = Flow()
    path.pays_through("documents", documents, lambda: documents.paying)
    shown = []
    path.on_change(lambda p: shown.append(p.showing))
    return path, documents, payment, rating, session, shown


def test_paying_hands_over_to_the_payment_and_its_end_brings_the_citizen_back_once():
    path, documents, payment, _rating, _session, shown = make()
    path.enter("documents")
    documents.change(False)
    assert path.showing == "documents" and shown == []
    payment.service = "documents"
    documents.change(True)
    documents.change(True)          # a change within paying moves nothing
    assert path.showing == PAYMENT and shown == [PAYMENT]
    documents.change(False)
    assert path.showing == "documents" and shown == [PAYMENT, "documents"]
    assert path.returned("documents") and not path.returned("documents")


def test_a_payment_of_another_service_never_brings_the_citizen_here():
    path, documents, payment, *_ = make()
    path.enter("documents")
    documents.change(True)
    payment.service = "fees"
    documents.change(False)
    assert path.showing == PAYMENT and not path.returned("documents")


def test_a_finished_service_hands_over_to_the_rating_and_a_wipe_ends_the_chain():
    path, _documents, _payment, rating, session, shown = make()
    path.enter("pickup")
    path.rate("pickup", "tx-1")
    assert rating.started == [("pickup", "tx-1")] and path.showing == RATING and shown == [RATING]
    session.touch()
    session.leave("done")
    assert path.showing is None and not path.returned("pickup")
