"""Queue tickets and appointment check-in (issue 18; docs/services.md): a kiosk lists its hall's business types
with their waiting counts, takes a ticket (idempotent on its request id), and looks appointments up by code
or by holder (keyed hash). The hall's queue system answers (kiosk/central/queues.py: the demo's, or a real
hall's plugged in); operators define the demo's halls and appointments and read its tickets."""
from __future__ import annotations

import json
import logging
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as FastPath
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from kiosk.central import intake
from kiosk.central.deps import Caller, Signed, parse_json
from kiosk.central.errors import CONFLICT, ERRORS, NOT_FOUND, ApiError
from kiosk.central.openapi import request_body
from kiosk.central.queues import AppointmentDefinition, HallDefinition, QueueSystem
from kiosk.wire.queues import (APPOINTMENT_PATTERN, HALL_PATTERN, HOLDER_PATTERN, Appointment, AppointmentList,
                               HallQueues, Ticket, TicketRefused, TicketRequest, normalise_appointment)

log = logging.getLogger(__name__)
router = APIRouter()
APPOINTMENT = re.compile(APPOINTMENT_PATTERN)
HallCode = Annotated[str, FastPath(pattern=HALL_PATTERN, description="the hall's code: a-z, 0-9, '-'")]

# how each refusal of the queue system is answered
REFUSALS = {"closed": 409, "too_early": 409, "appointment_other_day": 409, "appointment_missed": 409,
            "request_conflict": 409, "unknown_business": 422, "appointment_unknown": 404, "unknown_hall": 404,
            "not_in_hall": 403}


async def get_queues(request: Request) -> QueueSystem:
    """The hall's queue system (app.state.queues, set by create_app)."""
    return request.app.state.queues


Queues = Annotated[Any, Depends(get_queues)]


def refused(exc: TicketRefused) -> ApiError:
    details = [{"opens_at": exc.opens_at.isoformat()}] if exc.opens_at is not None else None
    return ApiError(REFUSALS.get(exc.code, 409), exc.code, str(exc), details)


def hall_for(caller: Caller, hall: str, queues: QueueSystem) -> str:
    """A kiosk acts only in the hall it stands in (403); an operator in any hall."""
    if caller.kind == "kiosk" and queues.hall_of(caller.name) != hall:
        raise ApiError(403, "forbidden", f"kiosk {caller.name!r} does not stand in hall {hall!r}")
    return hall


def _demo(queues: QueueSystem, what: str):
    if not hasattr(queues, what):
        raise ApiError(404, "not_found", "this platform's queue system is the hall's own: define its halls and "
                                         "appointments there")
    return getattr(queues, what)


def _body(request: Request, caller: Caller, model: type[BaseModel]) -> Any:
    doc = parse_json(request, caller.body)
    try:
        return model.model_validate_json(json.dumps(doc))
    except ValidationError as exc:
        raise ApiError(422, "invalid", f"the {model.__name__} is not valid", intake.problems(exc)) from None


@router.get("/api/v1/halls/{hall}/queues", response_model=HallQueues, responses={**ERRORS, **NOT_FOUND},
            tags=["queues"], summary="The hall's business types: open or closed, waiting, the estimated wait "
                                     "(a kiosk of the hall, or an operator)")
async def get_hall_queues(hall: HallCode, queues: Queues, caller: Caller = Depends(Signed("kiosk", "operator"))):
    try:
        return JSONResponse(queues.queues(hall_for(caller, hall, queues)))
    except TicketRefused as exc:
        raise refused(exc) from None


@router.post("/api/v1/halls/{hall}/tickets", response_model=Ticket, status_code=201, tags=["queues"],
             responses={**ERRORS, **NOT_FOUND, **CONFLICT, 200: {"model": Ticket, "description": "this request "
                                                                 "(or appointment) was answered before: the same "
                                                                 "ticket"}},
             summary="Take a ticket, or check an appointment in for a priority ticket (a kiosk of the hall); "
                     "idempotent on request_id",
             openapi_extra=request_body(TicketRequest, "the business (or the appointment), the kiosk's request id, "
                                                       "and the keyed hash of the ID card read, if one was"))
async def post_ticket(request: Request, hall: HallCode, queues: Queues,
                      caller: Caller = Depends(Signed("kiosk", limit="case"))):
    hall_for(caller, hall, queues)
    ticket = _body(request, caller, TicketRequest)
    if ticket.business is None and ticket.appointment is None:
        raise ApiError(422, "invalid", "a ticket names its business, or the appointment it checks in",
                       [{"field": "business", "problem": "required without an appointment"}])
    try:
        issued = queues.issue(hall, caller.name, ticket)
    except TicketRefused as exc:
        raise refused(exc) from None
    return JSONResponse(issued, status_code=200 if issued.get("again") else 201)


@router.get("/api/v1/halls/{hall}/appointments/{code}", response_model=Appointment,
            responses={**ERRORS, **NOT_FOUND}, tags=["queues"],
            summary="An appointment by its code (a kiosk of the hall, or an operator)")
async def get_appointment(hall: HallCode, code: Annotated[str, FastPath(max_length=40)], queues: Queues,
                          caller: Caller = Depends(Signed("kiosk", "operator"))):
    hall_for(caller, hall, queues)
    code = normalise_appointment(code)
    try:
        found = queues.appointment(hall, code) if APPOINTMENT.fullmatch(code) else None
    except TicketRefused as exc:
        raise refused(exc) from None
    if found is None:
        raise ApiError(404, "appointment_unknown", f"no appointment {code!r} in hall {hall!r}")
    return JSONResponse(found)


@router.get("/api/v1/halls/{hall}/appointments", response_model=AppointmentList, responses={**ERRORS, **NOT_FOUND},
            tags=["queues"], summary="Today's appointments of a card holder, by keyed hash (a kiosk of the hall, "
                                     "or an operator)")
async def holder_appointments(hall: HallCode, queues: Queues,
                              holder: str = Query(..., pattern=HOLDER_PATTERN,
                                                  description="the keyed hash of the ID number (64 hex)"),
                              caller: Caller = Depends(Signed("kiosk", "operator"))):
    hall_for(caller, hall, queues)
    try:
        return JSONResponse({"appointments": queues.appointments_for(hall, holder)})
    except TicketRefused as exc:
        raise refused(exc) from None


# --- the demo queue's own administration (operator) ---------------------------------------------------

@router.put("/api/v1/halls/{hall}", tags=["queues"], responses=ERRORS,
            summary="Define a hall of the demo queue: business types, opening hours, kiosks (operator)",
            openapi_extra=request_body(HallDefinition, "the hall: its business types and the kiosks that stand in it"))
async def put_hall(request: Request, hall: HallCode, queues: Queues,
                   caller: Caller = Depends(Signed("operator", limit="heartbeat"))):
    define = _demo(queues, "define_hall")
    stored = define(hall, _body(request, caller, HallDefinition))
    log.info("hall %s defined by operator %s: %d business types", hall, caller.name, stored["businesses"])
    return JSONResponse(stored)


@router.post("/api/v1/halls/{hall}/appointments", tags=["queues"], status_code=201, responses={**ERRORS, **CONFLICT},
             summary="Book an appointment in the demo queue (operator)",
             openapi_extra=request_body(AppointmentDefinition, "the appointment"))
async def post_appointment(request: Request, hall: HallCode, queues: Queues,
                           caller: Caller = Depends(Signed("operator", limit="case"))):
    add = _demo(queues, "add_appointment")
    appointment = _body(request, caller, AppointmentDefinition)
    try:
        booked = add(hall, appointment)
    except TicketRefused as exc:
        raise refused(exc) from None
    if not booked:
        raise ApiError(409, "checked_in", f"appointment {appointment.code} was checked in already")
    return JSONResponse(queues.appointment(hall, appointment.code), status_code=201)


@router.get("/api/v1/halls/{hall}/tickets", tags=["queues"], responses={**ERRORS, **NOT_FOUND},
            summary="The demo queue's tickets of a day, in queue order (operator)")
async def list_tickets(hall: HallCode, queues: Queues,
                       day: str | None = Query(None, pattern=r"^\d{4}-\d{2}-\d{2}$"),
                       caller: Caller = Depends(Signed("operator"))):
    tickets = _demo(queues, "tickets")
    if not queues.hall_exists(hall):
        raise ApiError(404, "not_found", f"no hall {hall!r}")
    return JSONResponse({"hall": hall, "tickets": tickets(hall, day), "clashes": queues.clashes(hall)})
