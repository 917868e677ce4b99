"""The reference central platform's HTTP API (DESIGN.md section 5), as a FastAPI application.

`create_app` builds it: the database and the demo acquirer in the app's state (kiosk/central/deps.py
hands them to the routes, and checks every signed request, in the order described there), the
refusals as JSON error bodies (errors.py), one router per resource (routes/), and the OpenAPI
document with the hand-read request bodies and the signature schemes (openapi.py).
"""
from __future__ import annotations

import time

from fastapi import FastAPI

from kiosk import __version__
from kiosk.central import errors, openapi, routes
from kiosk.central.code_payments import DemoAcquirer
from kiosk.central.db import CentralDB


def create_app(db: CentralDB) -> FastAPI:
    app = FastAPI(
        title="Kiosk reference central platform",
        version=__version__,
        description="A stand-in for the provincial platform: transactions, catalog, config bundles, heartbeats "
                    "and released documents. Requests are signed per kiosk or operator; see docs/central-api.md.",
    )
    app.state.db = db
    app.state.started = time.monotonic()
    app.state.acquirer = DemoAcquirer(db.conn, db.clock)
    errors.install(app)
    for router in routes.ROUTERS:
        app.include_router(router)
    openapi.install(app, routes.BODIES)
    return app
