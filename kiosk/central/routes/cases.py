"""Cases (issue 17): the approval system posts finished cases; a kiosk looks one up while depositing its item;
operators list items by state (the overdue list) and read a case with its items, handed-in materials and
messages. Answers show phone numbers masked only, and never an ID number.

Their progress (issue 18, kiosk/central/progress.py): the approval system reports each step of a case as an
event; a kiosk asks how far a case is, by its number or by the keyed hash of the holder's ID number (every
case of the holder); operators read the same, in the case's detail and by holder in the listing."""
from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as FastPath
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from kiosk.central import intake
from kiosk.central.cases import LIST_STATES, CaseClosed, CaseStored, CaseUpload, CaseView, NoHashKey
from kiosk.central.deps import DB, Caller, Cases, Signed, own_kiosk, parse_json, rfc3339
from kiosk.central.errors import CONFLICT, ERRORS, NOT_FOUND, ApiError
from kiosk.central.openapi import request_body
from kiosk.central.progress import CaseProgressBook, EventConflict, UnknownCase
from kiosk.hardware.masking import ID_NUMBER
from kiosk.wire.cases import CASE_NUMBER, CASE_NUMBER_PATTERN, CaseInfo
from kiosk.wire.progress import (HOLDER_CASES_DEFAULT, HOLDER_CASES_MAX, HOLDER_PATTERN, CaseEventUpload,
                                 CaseProgress, HolderCases)

log = logging.getLogger(__name__)
router = APIRouter()
CaseNumber = Annotated[str, FastPath(pattern=CASE_NUMBER_PATTERN, description="4-40 letters, digits or '-'")]


class CaseListItem(BaseModel):
    case_number: str
    item_name: str | None
    state: str = Field(description="awaiting_deposit | held | collected | recalled")
    kiosk_id: str | None
    door: int | None
    hall: str | None
    place: str | None
    deposited_at: str | None
    due_at: str | None
    ended_at: str | None
    phone_masked: str | None
    case_known: bool = Field(description="false: a deposit for a case the platform has not been sent (yet)")


class CaseList(BaseModel):
    state: str
    cases: list[CaseListItem]


class HolderCaseList(HolderCases):
    holder: str = Field(description="the keyed hash asked for")


class CaseItemRecord(BaseModel):
    deposit_id: str
    kiosk_id: str
    door: int
    hall: str | None
    place: str
    state: str
    deposited_at: str
    due_at: str | None
    ended_at: str | None


class HandinRecord(BaseModel):
    handin_id: str
    kiosk_id: str
    door: int
    handed_in_at: str
    receipt_no: str
    state: str = Field(description="in_locker | collected")
    collected_at: str | None


class CaseMessage(BaseModel):
    id: str
    transaction_id: str
    template: str
    state: str
    attempts: int
    last_error: str | None
    phone_masked: str | None
    sent_at: str | None


class CaseEventRecord(BaseModel):
    event_id: str
    step: str
    status: str = Field(description="done | current")
    at: str
    department: str | None
    note: str | None
    final: bool
    posted_by: str


class CaseDetail(CaseView):
    posted_by: str
    created_at: str
    updated_at: str
    phone_deleted_at: str | None
    items: list[CaseItemRecord]
    handins: list[HandinRecord]
    messages: list[CaseMessage]
    promised_by: str | None = Field(None, description="YYYY-MM-DD")
    events: list[CaseEventRecord] = Field(default_factory=list, description="as the approval system reported them")
    progress: CaseProgress | None = Field(None, description="how far the case is, as a kiosk sees it")


class EventStored(BaseModel):
    case_number: str
    event_id: str
    status: str = Field(description="created | duplicate")


async def get_progress(db: DB) -> CaseProgressBook:
    """The cases' progress on the platform's database and clock."""
    return CaseProgressBook(db, db.clock)


Progress = Annotated[CaseProgressBook, Depends(get_progress)]


def times(doc: dict[str, Any], *keys: str) -> dict[str, Any]:
    """Unix seconds as RFC 3339 (UTC), in place."""
    for k in keys:
        if doc.get(k) is not None:
            doc[k] = rfc3339(doc[k])
    return doc


def _found(doc: dict[str, Any] | None, case_number: str) -> JSONResponse:
    """What a kiosk asked about a case; 404 when the platform does not know the case (yet)."""
    if doc is None:
        raise ApiError(404, "not_found", f"no case {case_number.upper()!r} on the platform (yet)")
    return JSONResponse(doc)


def _case_number(value: str) -> str:
    if ID_NUMBER.fullmatch(value.strip()):
        raise ApiError(422, "invalid", "case_number: this looks like an ID number, not a case number")
    if not CASE_NUMBER.match(value):
        raise ApiError(422, "invalid", "case_number: 4-40 letters, digits or '-'")
    return value


@router.post("/api/v1/cases", response_model=CaseStored, tags=["cases"], status_code=201,
             responses={**ERRORS, **CONFLICT, 200: {"model": CaseStored, "description": "already stored: "
                                                    "unchanged, or updated"}},
             summary="The approval system posts a finished case (operator); idempotent on case_number",
             openapi_extra=request_body(CaseUpload, "the case; the ID number is kept only as its keyed hash, "
                                                    "the mobile numbers only sealed, and neither is answered back"))
async def post_case(request: Request, cases: Cases, caller: Caller = Depends(Signed("operator", limit="case"))):
    doc = parse_json(request, caller.body)
    try:
        upload = CaseUpload.model_validate_json(json.dumps(doc), strict=True)
    except ValidationError as exc:
        # problems name the field and never echo the value (an ID number, a phone number)
        raise ApiError(422, "invalid", "the case is not valid", intake.problems(exc)) from None
    try:
        stored = cases.post(upload, caller.name)
    except CaseClosed as exc:
        raise ApiError(409, "case_closed", str(exc)) from None
    except NoHashKey as exc:
        log.error("%s", exc)
        raise ApiError(503, "no_hash_key", str(exc), headers={"Retry-After": "300"}) from None
    if stored["status"] != "unchanged":
        log.info("case %s %s by operator %s (phone %s)", stored["case_number"], stored["status"], caller.name,
                 stored["phone_masked"])
    return JSONResponse(stored, status_code=201 if stored["status"] == "created" else 200)


@router.get("/api/v1/cases", response_model=CaseList | HolderCaseList, responses=ERRORS, tags=["cases"],
            summary="Items by state, oldest deadline first (operator): state=overdue is the overdue list; or "
                    "holder=H: the progress of every case of that holder, newest first")
async def list_cases(db: DB, cases: Cases, progress: Progress,
                     state: Literal[LIST_STATES] | None = Query(  # type: ignore[valid-type]
                         None, description="overdue: held past the deadline; awaiting_deposit: cases with no item "
                                           "in a locker yet. Give state or holder, not both"),
                     holder: str | None = Query(None, pattern=HOLDER_PATTERN, description="the keyed hash of an ID "
                                                "number (as for released documents): that holder's cases"),
                     kiosk: str | None = Query(None, max_length=64, description="only this kiosk's items (state)"),
                     limit: int = Query(500, ge=1, le=5000),
                     caller: Caller = Depends(Signed("operator"))):
    if (state is None) == (holder is None):
        raise ApiError(422, "invalid", "give state (items by state) or holder (a holder's cases), one of the two",
                       [{"field": "state", "problem": "state or holder, one of the two"}])
    if holder is not None:
        found, more = progress.of_holder(holder, min(limit, HOLDER_CASES_MAX))
        return JSONResponse({"holder": holder, "cases": found, "more": more})
    rows = cases.listing(state, db.clock(), kiosk, limit)
    out = []
    for r in rows:
        item = {k: r.get(k) for k in CaseListItem.model_fields}
        item["case_known"] = bool(r.get("case_known", True))
        out.append(times(item, "deposited_at", "due_at", "ended_at"))
    return JSONResponse({"state": state, "cases": out})


@router.get("/api/v1/cases/{case_number}", response_model=CaseDetail, responses={**ERRORS, **NOT_FOUND},
            tags=["cases"], summary="A case with its items, handed-in materials and messages (operator)")
async def get_case(case_number: CaseNumber, cases: Cases, progress: Progress,
                   caller: Caller = Depends(Signed("operator"))):
    doc = cases.for_operator(_case_number(case_number))
    if doc is None:
        raise ApiError(404, "not_found", f"no case {case_number.upper()!r} on the platform")
    doc["events"] = progress.events(case_number)
    doc["progress"] = progress.progress(case_number)
    times(doc, "created_at", "updated_at", "phone_deleted_at")
    for item in doc["items"]:
        times(item, "deposited_at", "due_at", "ended_at")
    for h in doc["handins"]:
        times(h, "collected_at")
    for m in doc["messages"]:
        times(m, "sent_at")
    return JSONResponse(doc)


@router.get("/api/v1/kiosks/{kiosk_id}/cases/{case_number}", response_model=CaseInfo,
            responses={**ERRORS, **NOT_FOUND}, tags=["cases"],
            summary="A kiosk looks a case up while depositing its item (the kiosk itself, or an operator)")
async def kiosk_case(kiosk_id: str, case_number: CaseNumber, cases: Cases,
                     caller: Caller = Depends(Signed("kiosk", "operator"))):
    own_kiosk(caller, kiosk_id)
    return _found(cases.for_kiosk(_case_number(case_number)), case_number)


# -- progress (issue 18) ----------------------------------------------------------------------------------

@router.post("/api/v1/cases/{case_number}/events", response_model=EventStored, tags=["cases"], status_code=201,
             responses={**ERRORS, **NOT_FOUND, **CONFLICT, 200: {"model": EventStored, "description": "already "
                                                                 "stored with the same body: nothing changed"}},
             summary="The approval system reports a step of a case (operator); idempotent on event_id",
             openapi_extra=request_body(CaseEventUpload.model_json_schema(), "one step of the case, done or under "
                                        "way; no personal data (the case's progress is shown to whoever has its "
                                        "number)"))
async def post_event(case_number: CaseNumber, request: Request, progress: Progress,
                     caller: Caller = Depends(Signed("operator", limit="case"))):
    case = _case_number(case_number)
    doc = parse_json(request, caller.body)
    try:
        event = CaseEventUpload.model_validate_json(json.dumps(doc), strict=True)
    except ValidationError as exc:
        raise ApiError(422, "invalid", "the event is not valid", intake.problems(exc)) from None
    try:
        status = progress.add_event(case, event, caller.name)
    except UnknownCase as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except EventConflict as exc:
        raise ApiError(409, "event_conflict", str(exc)) from None
    if status == "created":
        log.info("case %s: event %s (%s %s) by operator %s", case.upper(), event.event_id, event.step, event.status,
                 caller.name)
    return JSONResponse({"case_number": case.strip().upper(), "event_id": event.event_id, "status": status},
                        status_code=201 if status == "created" else 200)


@router.get("/api/v1/kiosks/{kiosk_id}/cases/{case_number}/progress", response_model=CaseProgress,
            responses={**ERRORS, **NOT_FOUND}, tags=["cases"],
            summary="How far a case is: steps, promised date, what to do next (the kiosk itself, or an operator)")
async def kiosk_case_progress(kiosk_id: str, case_number: CaseNumber, progress: Progress,
                              caller: Caller = Depends(Signed("kiosk", "operator"))):
    own_kiosk(caller, kiosk_id)
    return _found(progress.progress(_case_number(case_number)), case_number)


@router.get("/api/v1/kiosks/{kiosk_id}/cases", response_model=HolderCases, responses=ERRORS, tags=["cases"],
            summary="Every case of an ID card's holder, newest first, with its progress (the kiosk itself, or an "
                    "operator)")
async def kiosk_holder_cases(kiosk_id: str, progress: Progress,
                             holder: str = Query(..., pattern=HOLDER_PATTERN, description="the keyed hash of the "
                                                 "holder's ID number (docs/central-api.md, released documents)"),
                             limit: int = Query(HOLDER_CASES_DEFAULT, ge=1, le=HOLDER_CASES_MAX),
                             caller: Caller = Depends(Signed("kiosk", "operator"))):
    own_kiosk(caller, kiosk_id)
    found, more = progress.of_holder(holder, limit)
    return JSONResponse({"cases": found, "more": more})
