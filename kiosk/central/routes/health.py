"""The one unauthenticated route: liveness and the server's clock, nothing about kiosks."""
from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from kiosk import __version__
from kiosk.central.deps import DB, rfc3339

router = APIRouter()


class Health(BaseModel):
    status: str
    server_time: str
    software_version: str


@router.get("/api/v1/health", response_model=Health, tags=["platform"],
            summary="Liveness and the server's clock (no authentication; nothing about kiosks)")
async def health(request: Request, db: DB):
    return JSONResponse({"status": "ok", "server_time": rfc3339(db.clock()), "software_version": __version__,
                         "uptime_s": round(time.monotonic() - request.app.state.started, 1)})
