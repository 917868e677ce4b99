"""The message queue for operators: what was sent, what waits, and what failed for good with its reason."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from kiosk.central import sms_queue
from kiosk.central.deps import DB, Caller, Signed
from kiosk.central.errors import ERRORS
from kiosk.central.routes.cases import times

router = APIRouter()
STATE_FILTER = Literal["failed", "waiting", "pending", "sending", "sent", "dead", "skipped"]


class NoticeRecord(BaseModel):
    id: str = Field(description="the message id the gateway gets, the same on every attempt")
    transaction_id: str = Field(description="the deposit (or handin) the message is about")
    template: str
    kiosk_id: str
    case_number: str | None
    state: str = Field(description="waiting (for its case) | pending | sending | sent | dead | skipped")
    attempts: int
    next_attempt_at: str | None = Field(description="when a failed message is tried again; null: at once, or never")
    last_error: str | None = Field(description="why the last attempt failed, or why it was skipped")
    gateway: str | None
    gateway_ref: str | None
    phone_masked: str | None
    created_at: str
    updated_at: str
    sent_at: str | None


class NoticeList(BaseModel):
    notices: list[NoticeRecord]


def notice_records(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        r = dict(r)
        next_at = r.pop("next_at")
        r["next_attempt_at"] = next_at if r["state"] == "pending" and next_at > sms_queue.AT_ONCE else None
        out.append(times(r, "next_attempt_at", "created_at", "updated_at", "sent_at"))
    return out


def state_of(name: str | None) -> str | None:
    """`failed` is the operators' word for `dead`: the messages that will not be tried again."""
    return "dead" if name == "failed" else name


@router.get("/api/v1/notices", response_model=NoticeList, responses=ERRORS, tags=["cases"],
            summary="Messages to applicants and staff (operator); state=failed: those that failed for good")
async def list_notices(db: DB, state: STATE_FILTER | None = Query(None, description="failed is dead"),
                       limit: int = Query(500, ge=1, le=5000), caller: Caller = Depends(Signed("operator"))):
    with db.reading() as conn:
        rows = sms_queue.listing(conn, state_of(state), limit)
    return JSONResponse({"notices": notice_records(rows)})
