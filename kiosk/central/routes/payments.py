"""The demo acquirer of payment codes (kiosk/central/code_payments.py): pay, query, reverse and refund,
each idempotent on the kiosk's reference."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kiosk.central import intake
from kiosk.central.code_payments import AnswerLost, DemoError
from kiosk.central.deps import Acquirer, Caller, Signed
from kiosk.central.errors import CONFLICT, ERRORS, NOT_FOUND, ApiError
from kiosk.central.openapi import request_body
from kiosk.wire.numbers import json_int

router = APIRouter()
# every route here can answer these
ANSWERS = {**ERRORS, **NOT_FOUND, **CONFLICT}


class CodePaymentRequest(BaseModel):
    """Demo acquirer: a payment code shown by the citizen, for the kiosk's reference."""

    model_config = ConfigDict(extra="forbid", strict=True)
    reference: Annotated[str, Field(pattern=r"^[0-9A-Z]{10}$")]
    amount_fen: json_int(ge=1, le=99_999_999)
    code: Annotated[str, Field(pattern=r"^[0-9]{16,24}$")]
    channel: Literal["wechat_pay", "alipay"]
    service: Annotated[str, Field(min_length=1, max_length=40)]


class CodeRefundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    refund_reference: Annotated[str, Field(pattern=r"^[0-9A-Z]{10}$")]
    amount_fen: json_int(ge=1, le=99_999_999)


class CodePaymentStatus(BaseModel):
    reference: str
    status: str = Field(description="approved | declined | pending | reversed | refunded")
    amount_fen: int
    channel: str
    detail: str


async def _demo(call):
    try:
        return JSONResponse(call())
    except DemoError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    except AnswerLost:
        # the demo's lost answer: the change is stored, the kiosk hears nothing useful and must query
        raise ApiError(503, "answer_lost", "demo: the acquirer's answer was lost; query the payment",
                       headers={"Retry-After": "1"}) from None


def _payment_body(model, caller):
    try:
        return model.model_validate_json(caller.body or b"{}")
    except ValidationError as exc:
        raise ApiError(422, "invalid", "the payment request is not valid",
                       [{"field": p["field"], "problem": p["problem"]} for p in intake.problems(exc)]) from None


@router.post("/api/v1/payments/code", response_model=CodePaymentStatus, responses=ANSWERS, tags=["payments (demo)"],
             summary="Demo acquirer: pay with a WeChat/Alipay payment code (idempotent on the reference)",
             openapi_extra=request_body(CodePaymentRequest, "the kiosk's reference, the amount and the scanned "
                                                            "code; the code's last digit picks the demo outcome"))
async def pay_code(acquirer: Acquirer, caller: Caller = Depends(Signed("kiosk"))):
    req = _payment_body(CodePaymentRequest, caller)
    return await _demo(lambda: acquirer.pay(caller.name, req.reference, req.amount_fen, req.code, req.channel,
                                             req.service))


@router.get("/api/v1/payments/code/{reference}", response_model=CodePaymentStatus, responses=ANSWERS,
            tags=["payments (demo)"], summary="Demo acquirer: where a payment stands")
async def query_code(reference: str, acquirer: Acquirer, caller: Caller = Depends(Signed("kiosk"))):
    return await _demo(lambda: acquirer.query(caller.name, reference))


@router.post("/api/v1/payments/code/{reference}/reverse", response_model=CodePaymentStatus, responses=ANSWERS,
             tags=["payments (demo)"], summary="Demo acquirer: call back a payment that is not confirmed")
async def reverse_code(reference: str, acquirer: Acquirer, caller: Caller = Depends(Signed("kiosk"))):
    return await _demo(lambda: acquirer.reverse(caller.name, reference))


@router.post("/api/v1/payments/code/{reference}/refund", response_model=CodePaymentStatus, responses=ANSWERS,
             tags=["payments (demo)"], summary="Demo acquirer: give an approved payment back (once)",
             openapi_extra=request_body(CodeRefundRequest, "the kiosk's refund reference and the amount"))
async def refund_code(reference: str, acquirer: Acquirer, caller: Caller = Depends(Signed("kiosk"))):
    req = _payment_body(CodeRefundRequest, caller)
    return await _demo(lambda: acquirer.refund(caller.name, reference, req.refund_reference, req.amount_fen))
