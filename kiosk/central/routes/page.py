"""The applicant's pickup page, `GET /p/{token}` (kiosk/central/pickup_page.py): no signature, not in the API
document (it is a page for people, not an endpoint for programs)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from kiosk.central import pickup_page
from kiosk.central.deps import DB

router = APIRouter()


@router.get("/p/{token}", include_in_schema=False)
async def pickup(token: str, request: Request, db: DB):
    now = db.clock()
    with db.reading() as conn:
        view = pickup_page.find(conn, request.app.state.notice_key, token, now)
    if view is None:
        return HTMLResponse(pickup_page.not_found(), status_code=404, headers=pickup_page.HEADERS)
    return HTMLResponse(pickup_page.render(view, now), headers=pickup_page.HEADERS)
