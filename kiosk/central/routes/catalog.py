"""The guide catalog (DESIGN.md section 6): kiosks pull it with an ETag; an operator uploads it."""
from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from kiosk.central import intake
from kiosk.central.deps import DB, Caller, Signed, etag_matches, parse_json
from kiosk.central.errors import ERRORS, NOT_FOUND, ApiError
from kiosk.central.openapi import request_body
from kiosk.wire.catalog import Catalog

log = logging.getLogger(__name__)
router = APIRouter()


class CatalogStored(BaseModel):
    version: str
    sha256: str
    items: int
    changed: bool


@router.get("/api/v1/catalog", tags=["catalog"],
            responses={**ERRORS, **NOT_FOUND, 304: {"description": "unchanged"},
                       200: {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Catalog"}}}}},
            summary="The guide catalog (DESIGN.md section 6), with an ETag; If-None-Match gives 304")
async def get_catalog(request: Request, db: DB, caller: Caller = Depends(Signed("kiosk", "operator"))):
    row = await run_in_threadpool(db.newest_catalog, body=False)   # a 304 reads no catalog
    if row is None:
        raise ApiError(404, "not_found", "no catalog yet: run `kiosk central seed` or PUT /api/v1/catalog")
    etag = f'"{row["sha256"]}"'
    headers = {"ETag": etag, "X-Catalog-Version": row["version"], "Cache-Control": "no-cache"}
    if etag_matches(request, etag):
        return Response(status_code=304, headers=headers)
    body = await run_in_threadpool(db.catalog_body, row["rowid"])
    return Response(body, media_type="application/json; charset=utf-8", headers=headers)


@router.put("/api/v1/catalog", response_model=CatalogStored, responses=ERRORS, tags=["catalog"],
            summary="Upload the guide catalog (operator)",
            openapi_extra=request_body(Catalog, "a whole catalog; refused whole when any item is invalid"))
async def put_catalog(request: Request, db: DB, caller: Caller = Depends(Signed("operator", limit="catalog"))):
    doc = parse_json(request, caller.body)
    try:
        catalog = Catalog.model_validate(doc)
    except ValidationError as exc:
        details = intake.problems(exc)
        raise ApiError(422, "invalid", f"the catalog is not valid ({len(details)} problems); first: "
                       f"{details[0]['field']}: {details[0]['problem']}", details[:100]) from None
    stored = db.put_catalog(caller.body, catalog.version, len(catalog.items), f"operator:{caller.name}")
    log.info("catalog %s (%d items) %s by operator %s", catalog.version, len(catalog.items),
             "stored" if stored["changed"] else "unchanged", caller.name)
    return JSONResponse(stored, headers={"ETag": f'"{stored["sha256"]}"'})
