"""The unauthenticated routes: liveness with the server's clock, readiness, and metrics; nothing about a
person, and about kiosks only their ids and what their heartbeats count (kiosk/central/metrics.py)."""
from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from starlette.concurrency import run_in_threadpool

from kiosk import __version__
from kiosk.central import database, metrics
from kiosk.central.deps import DB, rfc3339

router = APIRouter()


class Health(BaseModel):
    status: str
    server_time: str
    software_version: str


class Ready(BaseModel):
    status: str
    schema_revision: str | None
    needed_revision: str
    problem: str | None = None


@router.get("/api/v1/health", response_model=Health, tags=["platform"],
            summary="Liveness and the server's clock (no authentication; nothing about kiosks)")
async def health(request: Request, db: DB):
    return JSONResponse({"status": "ok", "server_time": rfc3339(db.clock()), "software_version": __version__,
                         "uptime_s": round(time.monotonic() - request.app.state.started, 1)})


@router.get("/healthz", response_model=Health, tags=["platform"],
            summary="Live: the process answers (no authentication; the database is not asked)")
async def healthz(request: Request, db: DB):
    return await health(request, db)


def _schema_state(engine):
    try:
        return database.schema_state(engine)
    except sa_exc.DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        # a pooled connection the database cut when it restarted is no sign of unreadiness: asked again, on
        # a new connection (SQLAlchemy has replaced the pool)
        return database.schema_state(engine)


@router.get("/readyz", response_model=Ready, responses={503: {"model": Ready}}, tags=["platform"],
            summary="Ready: the database answers and its schema is the one this platform needs (else 503)")
async def readyz(db: DB):
    head = database.head_revision()
    try:
        rev, _, _ = await run_in_threadpool(_schema_state, db.engine)   # not on the event loop
    except Exception as exc:  # unreachable, refused, timed out: not ready, and why
        problem = str(database.explain_error(exc, db.url))
        return JSONResponse({"status": "unavailable", "schema_revision": None, "needed_revision": head,
                             "problem": problem}, status_code=503, headers={"Retry-After": "5"})
    if rev != head:
        return JSONResponse({"status": "unavailable", "schema_revision": rev, "needed_revision": head,
                             "problem": "the schema is older than the code: run `kiosk central migrate`"},
                            status_code=503)
    return JSONResponse({"status": "ok", "schema_revision": rev, "needed_revision": head})


@router.get("/metrics", tags=["platform"], response_class=Response,
            summary="Prometheus metrics: requests, batches, intake, heartbeat age per kiosk (no authentication)")
async def prometheus(request: Request):
    body = request.app.state.metrics.exposition([request.app.state.fleet_metrics])
    return Response(body, media_type=metrics.CONTENT_TYPE)
