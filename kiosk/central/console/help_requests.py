"""The help requests page, `/console/help`: citizens who pressed "Call staff" at a kiosk, and who went.

Open requests newest first, each with its kiosk, hall, the screen it was pressed on and its age; staff
or an operator marks one handled, with a note, and the audit log keeps who and when (`help.handle`).
Handled ones stay listed for a week. Rows come from `help_requests` (kiosk/central/help_intake.py), which
holds no personal data: a request names a screen, never a citizen.

Scoped like every page: staff see the requests of their hall's kiosks (`queries.hall_scope`); a request
of another hall is "not found". The operators' API lists the same rows (kiosk/central/routes/kiosks.py).
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy import Connection, and_, func, select, update

from kiosk.central import schema as T
from kiosk.central.console import queries
from kiosk.central.console.accounts import Person, audit
from kiosk.central.console.views import Signed, _db, noted_change, page

router = APIRouter(prefix="/console", include_in_schema=False)

STATES = ("open", "handled")
HANDLED_DAYS = 7
SHOWN = 500


def _where(person: Person, now: float, state: str, hall: str | None) -> list:
    h = T.help_requests
    where = [h.c.handled_at.is_(None)] if state == "open" else [h.c.handled_at >= now - HANDLED_DAYS * 86400]
    scope = queries.hall_scope(person, h.c.kiosk_id, hall)
    if scope is not None:
        where.append(scope)
    return where


def requests(conn: Connection, person: Person, now: float, *, state: str = "open", hall: str | None = None,
             limit: int = SHOWN) -> list[dict[str, Any]]:
    """Open requests newest first, or those handled in the last week, the latest handled first."""
    h = T.help_requests
    order = h.c.requested_at.desc() if state == "open" else h.c.handled_at.desc()
    stmt = (select(h.c.transaction_id, h.c.kiosk_id, h.c.hall, h.c.hall_name, h.c.screen, h.c.requested_at,
                   h.c.received_at, h.c.handled_at, h.c.handled_by, h.c.note, T.halls.c.name.label("hall_title"))
            .select_from(h.outerjoin(T.halls, T.halls.c.hall == h.c.hall))
            .where(and_(*_where(person, now, state, hall))).order_by(order, h.c.transaction_id).limit(limit))
    return [dict(r) for r in conn.execute(stmt).mappings()]


def open_count(conn: Connection, person: Person, now: float, hall: str | None = None) -> int:
    return conn.execute(select(func.count()).select_from(T.help_requests)
                        .where(and_(*_where(person, now, "open", hall)))).scalar_one()


def mark_handled(conn: Connection, person: Person, now: float, transaction_id: str, note: str) -> None:
    """Mark a request handled by `person` (audited); queries.NotFound when it is not one the person sees.
    Marking it again replaces the note: the audit log keeps both."""
    h = T.help_requests
    where = [h.c.transaction_id == transaction_id]
    scope = queries.hall_scope(person, h.c.kiosk_id)
    if scope is not None:
        where.append(scope)
    row = conn.execute(select(h.c.kiosk_id, h.c.screen, h.c.handled_at).where(and_(*where))).first()
    if row is None:
        raise queries.NotFound(transaction_id)
    conn.execute(update(h).where(h.c.transaction_id == transaction_id).values(
        handled_at=row.handled_at if row.handled_at is not None else now, handled_by=person.name, note=note))
    audit(conn, now, person.name, "help.handle", transaction_id, kiosk_id=row.kiosk_id, screen=row.screen,
          note=note)


@router.get("/help")
def help_page(request: Request, session: Signed, state: str = "open", hall: str | None = None):
    state = state if state in STATES else "open"
    db = _db(request)
    with db.reading() as conn:
        now = db.clock()
        rows = requests(conn, session.person, now, state=state, hall=hall)
        waiting = open_count(conn, session.person, now, hall)
        halls = queries.halls(conn, session.person)
    return page(request, session, "help.html", rows=rows, state=state, waiting=waiting, halls=halls,
                hall=hall or "")


@router.post("/help/{transaction_id}/handle")
def handle(request: Request, session: Signed, transaction_id: str,
           note: Annotated[str, Form(max_length=500)] = "", csrf: Annotated[str, Form(max_length=100)] = "",
           next: Annotated[str, Form(max_length=2000)] = ""):
    return noted_change(request, session, csrf, transaction_id,
                        lambda conn, person, now: mark_handled(conn, person, now, transaction_id, note.strip()),
                        next or "/console/help")
