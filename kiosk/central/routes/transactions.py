"""Transactions: a kiosk uploads its completed transactions in batches; operators (and the kiosk) read
back what the platform holds."""
from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kiosk.central import edge, intake
from kiosk.central.deps import DB, Caller, Signed, own_kiosk, parse_json, rfc3339
from kiosk.central.errors import ERRORS, NOT_FOUND, ApiError
from kiosk.central.openapi import request_body
from kiosk.wire.transactions import BatchResult, TransactionBatch

log = logging.getLogger(__name__)
router = APIRouter()


class TransactionRecord(BaseModel):
    id: str
    kiosk_id: str
    seq: int
    kind: str
    occurred_at: str
    boot_id: str | None
    uptime_s: float | None
    data: dict[str, Any]
    received_at: str


class TransactionList(BaseModel):
    kiosk_id: str
    transactions: list[TransactionRecord]
    next_after_seq: int | None = Field(description="pass as after_seq for the next page; null when this page is empty")


@router.post("/api/v1/transactions", response_model=BatchResult, responses=ERRORS, tags=["transactions"],
             summary="Upload a batch of completed transactions (at most 500)",
             openapi_extra=request_body(TransactionBatch, "the batch; each item is accepted, a duplicate or "
                                                          "rejected on its own"))
async def post_transactions(request: Request, db: DB,
                            caller: Caller = Depends(Signed("kiosk", limit="transactions"))):
    # checking and storing a batch is CPU work: on the threadpool, one batch at a time in this worker (more
    # at once only take turns at the interpreter lock, slower in all), while heartbeats and polls go on
    fees = request.app.state.fees

    def check_and_store():
        kiosk_id, items = intake.check_batch(parse_json(request, caller.body, check=False))
        own_kiosk(caller, kiosk_id)
        started = time.perf_counter()
        results = db.store_batch(kiosk_id, items)
        took = time.perf_counter() - started
        # payments of fee notices among them, now that they are committed (and any an unreachable issuer left)
        fees.after_batch({item.row["kind"] for item, r in zip(items, results) if r["status"] == "accepted"})
        return kiosk_id, results, took

    async with request.app.state.intake_turn:
        try:
            kiosk_id, results, took = await run_in_threadpool(check_and_store)
        except intake.EnvelopeError as exc:
            raise ApiError(422, "invalid", f"the batch is not usable: {exc}", exc.details) from None
    request.app.state.metrics.batch(results, took)
    rejected = [r for r in results if r["status"] == "rejected"]
    if rejected:
        log.warning("kiosk %s: %d of %d items rejected, first: %s", kiosk_id, len(rejected), len(results),
                    rejected[0]["reason"])
    return JSONResponse({"results": results})


@router.get("/api/v1/kiosks/{kiosk_id}/transactions", response_model=TransactionList,
            responses={**ERRORS, **NOT_FOUND}, tags=["transactions"],
            summary="What the platform holds for a kiosk, by seq (operator, or the kiosk itself)")
async def list_transactions(kiosk_id: str, db: DB, after_seq: int = Query(0, ge=0, le=edge.INT64_MAX),
                            limit: int = Query(1000, ge=1, le=5000),
                            caller: Caller = Depends(Signed("operator", "kiosk"))):
    own_kiosk(caller, kiosk_id)
    if not db.kiosk_exists(kiosk_id):
        raise ApiError(404, "not_found", f"no kiosk {kiosk_id!r} is provisioned")
    rows = db.transactions(kiosk_id, after_seq, limit)
    for r in rows:
        r["received_at"] = rfc3339(r["received_at"])
    return JSONResponse({"kiosk_id": kiosk_id, "transactions": rows,
                         "next_after_seq": rows[-1]["seq"] if rows else None})
