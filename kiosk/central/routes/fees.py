"""Fee notices (缴费, issue 18 item 2): a kiosk looks a notice up and reports the payment that pays it; operators
list the payments (what is owed back); the payer opens the e-receipt. The desk and the issuer port are
kiosk/central/fee_notices.py; docs/services.md is the contract."""
from __future__ import annotations

import json
import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as FastPath
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import text

from kiosk.central import intake, receipt_page
from kiosk.central.deps import DB, Caller, Signed, own_kiosk, parse_json, rfc3339
from kiosk.central.errors import CONFLICT, ERRORS, ApiError, ErrorBody
from kiosk.central.fee_notices import FeeDesk, IssuerUnavailable, NoticeRefused
from kiosk.central.openapi import request_body
from kiosk.wire.fees import PAYMENT_STATUSES, RECEIPT_TOKEN, FeeNoticeView, FeePaymentAnswer, FeePaymentItem

log = logging.getLogger(__name__)
router = APIRouter()
REFUSED = {409: {"model": ErrorBody, "description": "notice_paid, notice_expired or notice_other_hall: not to be "
                                                    "paid at this kiosk; nothing is stored"},
           404: {"model": ErrorBody, "description": "notice_unknown, or notice_malformed (not 20 digits, or a check "
                                                    "digit that does not fit: a typo)"},
           503: {"model": ErrorBody, "description": "issuer_unavailable: the fee-notice system cannot be asked now"}}
NoticeNumber = Annotated[str, FastPath(max_length=64, description="the notice number (缴款码), 20 digits")]


async def get_fee_desk(request: Request) -> FeeDesk:
    """The fee desk (app.state.fees, set by create_app)."""
    return request.app.state.fees


Fees = Annotated[FeeDesk, Depends(get_fee_desk)]


class FeePaymentRecord(BaseModel):
    transaction_id: str
    kiosk_id: str
    reference: str
    fee_notice: str
    amount_fen: int
    channel: str
    paid_at: str
    state: str
    reason: str | None
    refund_id: str | None
    attempts: int
    last_error: str | None
    received_at: str
    updated_at: str


class FeePaymentList(BaseModel):
    payments: list[FeePaymentRecord]


def _unavailable(exc: IssuerUnavailable) -> ApiError:
    log.warning("the fee-notice issuer cannot be asked: %s", exc)
    return ApiError(503, "issuer_unavailable", "the fee-notice system cannot be asked right now; try again later",
                    headers={"Retry-After": "30"})


@router.get("/api/v1/kiosks/{kiosk_id}/fee-notices/{number}", response_model=FeeNoticeView,
            responses={**ERRORS, **REFUSED}, tags=["fee notices"],
            summary="A kiosk looks a fee notice up before taking payment for it (the kiosk itself, or an operator)")
async def find_notice(kiosk_id: str, number: NoticeNumber, request: Request, fees: Fees,
                      caller: Caller = Depends(Signed("kiosk", "operator"))):
    own_kiosk(caller, kiosk_id)
    try:
        doc = fees.look_up(kiosk_id, number, str(request.base_url))
    except NoticeRefused as exc:
        # a refusal is an answer: the kiosk says it in a sentence and charges nothing
        raise ApiError(exc.status, exc.code, exc.message, exc.details) from None
    except IssuerUnavailable as exc:
        raise _unavailable(exc) from None
    return JSONResponse(doc)


@router.post("/api/v1/kiosks/{kiosk_id}/fee-payments", response_model=FeePaymentAnswer,
             responses={**ERRORS, **CONFLICT}, tags=["fee notices"],
             summary="A kiosk reports the payment of a notice at once: its `payment` transaction, stored as a "
                     "batch stores it (idempotent on its id), and what became of the notice",
             openapi_extra=request_body(FeePaymentItem, "the `payment` transaction as the kiosk's outbox holds "
                                                        "it, with data.fee_notice"))
async def report_payment(kiosk_id: str, request: Request, db: DB, fees: Fees,
                         caller: Caller = Depends(Signed("kiosk", limit="fee_payment"))):
    own_kiosk(caller, kiosk_id)
    doc = parse_json(request, caller.body)
    try:
        item = FeePaymentItem.model_validate_json(json.dumps(doc), strict=True)
    except ValidationError as exc:
        raise ApiError(422, "invalid", "the fee payment is not valid", intake.problems(exc)) from None
    checked = intake.check_item(doc, 0)   # the form a batch stores, so that both roads store it once
    if checked.row is None:
        raise ApiError(422, "invalid", checked.reason or "the transaction is not valid")
    reference, row = item.data.reference, checked.row
    with db.reading() as conn:
        stored = conn.execute(text("SELECT kiosk_id, body_sha256 FROM transactions WHERE id = :id"),
                              {"id": row["id"]}).mappings().fetchone()
    if stored is not None and (stored["kiosk_id"], stored["body_sha256"]) != (kiosk_id, row["body_sha256"]):
        # refused before storing anything; the outbox's batch brings it again, and there it is kept for an operator
        raise ApiError(409, "conflict", f"transaction {row['id']} is stored already with another body")
    if fees.taken_by_another(kiosk_id, reference, row["id"]):
        raise ApiError(409, "conflict", f"sale {reference} was reported already, with another transaction")
    [result] = db.store_batch(kiosk_id, [checked])
    if result["status"] == "rejected":   # the database refused the item alone: nothing of it was kept
        raise ApiError(409, "conflict", result["reason"] or "the transaction conflicts with one stored")
    fees.apply()
    return JSONResponse(fees.answer(kiosk_id, reference, result["status"]))


@router.get("/api/v1/fee-payments", response_model=FeePaymentList, responses=ERRORS, tags=["fee notices"],
            summary="The payments kiosks reported, newest change first (operator): state=refund_due is what is "
                    "owed back to payers")
async def list_payments(fees: Fees, state: Literal[PAYMENT_STATUSES] | None = Query(None),  # type: ignore[valid-type]
                        limit: int = Query(500, ge=1, le=5000), caller: Caller = Depends(Signed("operator"))):
    rows = fees.payments(state, limit)
    for r in rows:
        r["received_at"], r["updated_at"] = rfc3339(r["received_at"]), rfc3339(r["updated_at"])
    return JSONResponse({"payments": rows})


@router.get("/r/{token}", include_in_schema=False)
async def receipt(token: str, fees: Fees):
    view = fees.receipt(token) if RECEIPT_TOKEN.match(token) else None
    if view is None:
        return HTMLResponse(receipt_page.not_found(), status_code=404, headers=receipt_page.HEADERS)
    return HTMLResponse(receipt_page.render(view), headers=receipt_page.HEADERS)

