"""Kiosks: heartbeats (device health, queue depth, config and software version), the fleet's list, and the
citizens' help requests the kiosks sent (the console's help page, as JSON)."""
from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from kiosk.central import intake
from kiosk.central.deps import DB, Caller, Signed, own_kiosk, parse_json, rfc3339
from kiosk.central.errors import ERRORS, NOT_FOUND, ApiError
from kiosk.central.openapi import request_body
from kiosk.wire.transactions import Heartbeat, HeartbeatAck

router = APIRouter()


@router.post("/api/v1/kiosks/{kiosk_id}/heartbeat", response_model=HeartbeatAck, responses=ERRORS,
             tags=["kiosks"], summary="Device health, queue depth, config and software version",
             openapi_extra=request_body(Heartbeat, "the kiosk's state now"))
async def post_heartbeat(request: Request, kiosk_id: str, db: DB,
                         caller: Caller = Depends(Signed("kiosk", limit="heartbeat"))):
    own_kiosk(caller, kiosk_id)
    doc = parse_json(request, caller.body)
    try:
        beat = Heartbeat.model_validate_json(json.dumps(doc), strict=True)
    except ValidationError as exc:
        raise ApiError(422, "invalid", "the heartbeat is not valid", intake.problems(exc)) from None
    if beat.kiosk_id != kiosk_id:
        raise ApiError(403, "forbidden", f"the heartbeat names kiosk {beat.kiosk_id!r}, "
                                         f"but was sent for {kiosk_id!r}")
    at, config_version = await run_in_threadpool(db.heartbeat_and_config, kiosk_id, beat.model_dump_json())
    return JSONResponse({"received_at": rfc3339(at), "config_version": config_version})


@router.get("/api/v1/kiosks/{kiosk_id}/heartbeat", tags=["kiosks"], responses={**ERRORS, **NOT_FOUND},
            summary="The latest heartbeat of a kiosk and its recent history (operator, or the kiosk itself)")
async def get_heartbeat(kiosk_id: str, db: DB, history: int = Query(0, ge=0, le=1000),
                        caller: Caller = Depends(Signed("operator", "kiosk"))):
    own_kiosk(caller, kiosk_id)
    beats = db.heartbeats(kiosk_id, max(history, 1))
    if not beats:
        raise ApiError(404, "not_found", f"no heartbeat from kiosk {kiosk_id!r} yet")
    for b in beats:
        b["received_at"] = rfc3339(b["received_at"])
    return JSONResponse({"kiosk_id": kiosk_id, "latest": beats[0], "history": beats[:history]})


@router.get("/api/v1/kiosks", tags=["kiosks"], responses=ERRORS,
            summary="Every provisioned kiosk with its latest heartbeat (operator)")
async def list_kiosks(db: DB, caller: Caller = Depends(Signed("operator"))):
    kiosks = db.kiosks()
    for k in kiosks:
        k["provisioned_at"] = rfc3339(k["provisioned_at"])
        if k["last_heartbeat_at"] is not None:
            k["last_heartbeat_at"] = rfc3339(k["last_heartbeat_at"])
    return JSONResponse({"kiosks": kiosks})


@router.get("/api/v1/help-requests", tags=["kiosks"], responses=ERRORS,
            summary="Citizens' help requests (\"Call staff\"), as the console's help page lists them (operator)")
async def list_help_requests(db: DB, state: str = Query("open", pattern="^(open|handled)$"),
                             hall: str | None = Query(None, max_length=40),
                             caller: Caller = Depends(Signed("operator"))):
    from kiosk.central.console import help_requests
    from kiosk.central.console.accounts import Person

    def read():
        with db.reading() as conn:
            return help_requests.requests(conn, Person(caller.name, "operator", None), db.clock(), state=state,
                                          hall=hall)
    rows = await run_in_threadpool(read)
    return JSONResponse({"help_requests": [{
        "id": r["transaction_id"], "kiosk_id": r["kiosk_id"], "hall": r["hall"],
        "hall_name": r["hall_title"] or r["hall_name"], "screen": r["screen"],
        "requested_at": rfc3339(r["requested_at"]), "received_at": rfc3339(r["received_at"]),
        "handled_at": rfc3339(r["handled_at"]) if r["handled_at"] is not None else None,
        "handled_by": r["handled_by"], "note": r["note"]} for r in rows]})
