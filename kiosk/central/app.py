"""The reference central platform's HTTP API (DESIGN.md section 5), as a FastAPI application.

`create_app` builds it: the database, the cases, the demo acquirer, the hall's queue system and the fee desk over
its fee-notice issuer (kiosk/central/fee_notices.py) in the app's state (kiosk/central/deps.py hands them to the routes, and checks
every signed request, in the order described there), the
refusals as JSON error bodies (errors.py), one router per resource (routes/), and the OpenAPI
document with the hand-read request bodies and the signature schemes (openapi.py).
"""
from __future__ import annotations

import asyncio
import time

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from fastapi import FastAPI

from kiosk import __version__
from kiosk.central import errors, fee_intake, metrics, openapi, pickup_page, routes
from kiosk.central.cases import CaseBook
from kiosk.central.console import views as console
from kiosk.central.code_payments import DemoAcquirer
from kiosk.central.db import CentralDB
from kiosk.central.fee_notices import FeeDesk, FeeNoticeIssuer
from kiosk.central.queues import DemoQueue, QueueSystem, ticket_intake
from kiosk.wire.bundle import TrustSet


def create_app(db: CentralDB, *, hash_key: str | None = None, notice_key: X25519PrivateKey | None = None,
               queues: QueueSystem | None = None, fee_issuer: FeeNoticeIssuer | None = None,
               receipt_base_url: str | None = None, console_trust: TrustSet | None = None) -> FastAPI:
    """`hash_key`: the deployment's holder hash key, for posted cases' ID numbers; `notice_key`: the notifier's
    private key, for the pickup page's code (kiosk/central/notice_key.py); `queues`: the hall's queue system
    (kiosk/central/queues.py; the demo queue when None); `fee_issuer`: the fee-notice system
    (kiosk/central/fee_notices.py; the demo issuer when None) and `receipt_base_url` the public address of its
    e-receipt pages (`https://host/r/`; the address the kiosk reached when None); `console_trust`: the
    operator keys the console checks uploaded config bundles against (`[console] trusted_keys`; none: the
    console refuses every upload, saying what to set)."""
    app = FastAPI(
        title="Kiosk reference central platform",
        version=__version__,
        description="A stand-in for the provincial platform: transactions, catalog, config bundles, heartbeats, "
                    "released documents, and cases with their applicants' notices. Requests are signed per kiosk "
                    "or operator; see docs/central-api.md.",
    )
    app.state.db = db
    app.state.started = time.monotonic()
    app.state.acquirer = DemoAcquirer(db, db.clock)
    app.state.cases = CaseBook(db, db.seal, hash_key, db.clock)
    app.state.notice_key = notice_key
    app.state.queues = queues if queues is not None else DemoQueue(db, db.clock)
    db.intake_hooks.append(ticket_intake(app.state.queues))   # offline tickets into the hall's queue
    if fee_issuer is None:
        from kiosk.central.fee_issuer import DemoFeeIssuer
        fee_issuer = DemoFeeIssuer(db)
    # a kiosk's hall: where the queue system places it, and its fleet groups
    app.state.fees = FeeDesk(db, fee_issuer, receipt_base_url=receipt_base_url, hall_of=app.state.queues.hall_of)
    db.intake_hooks.append(fee_intake.on_stored)   # payments of fee notices, recorded with their batch
    pickup_page.hide_tokens_in_access_log()
    errors.install(app)
    for router in routes.ROUTERS:
        app.include_router(router)
    app.state.console_trust = console_trust if console_trust is not None else TrustSet({})
    console.install(app)   # /console: the operators' and hall staff's pages (kiosk/central/console/)
    openapi.install(app, routes.BODIES)
    app.state.intake_turn = asyncio.Semaphore(1)   # one batch checked and stored at a time per worker
    app.state.metrics = metrics.PlatformMetrics()
    app.state.fleet_metrics = metrics.FleetCollector(db, db.clock)
    app.add_middleware(metrics.MetricsMiddleware, metrics=app.state.metrics)
    return app
