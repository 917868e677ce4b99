"""Enrolment: a kiosk exchanges its one-time token for its secret (kiosk/wire/enrolment.py). The one route
a kiosk calls before it has a secret to sign with; what it may learn is bounded by the token's 100 bits,
its one use and its five tries."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from kiosk.central import enrolment, intake
from kiosk.central.deps import DB, declared_length, parse_json
from kiosk.central.errors import ERRORS, ApiError
from kiosk.central.openapi import request_body
from kiosk.wire.enrolment import MAX_FAILURES, PATH, EnrolAnswer, EnrolRequest

router = APIRouter()
LIMIT = 1024     # a kiosk id and a token


async def _small_body(request: Request) -> bytes:
    declared_length(request, LIMIT)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > LIMIT:
            raise ApiError(413, "too_large", f"the body exceeds {LIMIT} bytes, the most this endpoint takes")
    return body


@router.post(PATH, response_model=EnrolAnswer, responses=ERRORS, tags=["kiosks"],
             summary="A kiosk's one-time enrolment token exchanged for its secret (no signature: it has none yet)",
             openapi_extra=request_body(EnrolRequest, "the kiosk id and the token the operator issued"))
async def post_enrol(request: Request, db: DB):
    doc = parse_json(request, await _small_body(request))
    try:
        asked = EnrolRequest.model_validate(doc, strict=True)
    except ValidationError as exc:
        raise ApiError(422, "invalid", "the enrolment request is not valid", intake.problems(exc)) from None
    secret = await run_in_threadpool(enrolment.exchange, db, asked.kiosk_id, asked.token)
    if secret is None:   # the same words whatever the reason: they tell a guesser nothing
        raise ApiError(401, "enrolment_refused",
                       f"this enrolment token is not valid for kiosk {asked.kiosk_id}: it is mistyped, used, "
                       f"expired, or void after {MAX_FAILURES} wrong tries; on the platform, "
                       f"`kiosk central add-kiosk {asked.kiosk_id} --enrolment-token` issues a new one")
    return JSONResponse(EnrolAnswer(kiosk_id=asked.kiosk_id, secret=secret).model_dump(),
                        headers={"Cache-Control": "no-store"})
