"""Released documents: an operator stores a PDF and releases it to holders known by keyed hash; a kiosk
lists what is released to the holder at its reader and downloads the PDF (each download logged)."""
from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as FastPath
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kiosk.central import intake
from kiosk.central.db import PRINCIPAL_ID, sha256_hex
from kiosk.central.deps import DB, Caller, Signed, own_kiosk, parse_json, rfc3339
from kiosk.central.errors import ERRORS, ApiError, ErrorBody
from kiosk.central.openapi import request_body
from kiosk.wire.numbers import json_int
from kiosk.wire.transactions import DocumentList

log = logging.getLogger(__name__)
router = APIRouter()

PDF_BASE64 = r"^JVBERi0[A-Za-z0-9+/](?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
HOLDER = re.compile(r"^[0-9a-f]{64}$")


class DocumentUpload(BaseModel):
    """A document a department releases for printing at the kiosks, to holders known by keyed hash."""

    model_config = ConfigDict(extra="forbid", strict=True)
    title: Annotated[str, Field(min_length=1, max_length=200)]
    pages: json_int(ge=1, le=1000)
    # base64 of a PDF: starts "%PDF-", so "JVBERi0"; whole groups of four, padded
    pdf_base64: Annotated[str, Field(min_length=8, pattern=PDF_BASE64)]
    holders: list[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]] = []


class DocumentStored(BaseModel):
    id: str
    title: str
    pages: int
    sha256: str
    new_releases: int


@router.get("/api/v1/kiosks/{kiosk_id}/documents", response_model=DocumentList, responses=ERRORS,
            tags=["documents"], summary="Documents released for printing to the holder whose keyed hash is H")
async def list_documents(kiosk_id: str, db: DB,
                         holder: str = Query(..., pattern="^[0-9a-f]{64}$",
                                             description="holder_hash(key, ID number): 64 lowercase hex digits"),
                         caller: Caller = Depends(Signed("kiosk", "operator"))):
    own_kiosk(caller, kiosk_id)
    if not HOLDER.match(holder):
        # never echo the value: a kiosk bug could have put the ID number itself here
        raise ApiError(422, "invalid", "holder: expected the keyed hash of the ID number (64 lowercase hex "
                                       "digits, kiosk.core.privacy.holder_hash), never the number itself")
    docs = db.documents_for(holder)
    for d in docs:
        d["released_at"] = rfc3339(d["released_at"])
    return JSONResponse({"documents": docs})


@router.get("/api/v1/documents/{doc_id}", tags=["documents"],
            responses={**ERRORS, 404: {"model": ErrorBody},
                       200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}},
            summary="The PDF of a released document (kiosks only; each download is logged)")
async def get_document(doc_id: str, db: DB,
                       holder: str = Query(..., min_length=64, max_length=64, pattern="^[0-9a-f]{64}$",
                                           description="the keyed hash of the holder the kiosk looked up: the "
                                                       "document must have been released to this holder"),
                       caller: Caller = Depends(Signed("kiosk"))):
    if not HOLDER.match(holder):
        raise ApiError(422, "invalid", "holder: expected the keyed hash of the ID number (64 lowercase hex digits)")
    row = db.released_document(doc_id, holder)
    if row is None:
        raise ApiError(404, "not_found", f"no document {doc_id!r} released to this holder")
    db.log_download(doc_id, caller.name, holder)
    log.info("document %s downloaded by kiosk %s", doc_id, caller.name)
    return Response(row["pdf"], media_type="application/pdf",
                    headers={"ETag": f'"{row["sha256"]}"', "Content-Disposition": f'inline; filename="{doc_id}.pdf"'})


@router.put("/api/v1/documents/{doc_id}", response_model=DocumentStored, responses=ERRORS, tags=["documents"],
            summary="Store a document and release it to holders (operator); releases are only ever added",
            openapi_extra=request_body(DocumentUpload, "the PDF (base64), its title and page count, and the keyed "
                                                       "hashes of the holders it is released to"))
async def put_document(request: Request, doc_id: Annotated[str, FastPath(pattern=PRINCIPAL_ID.pattern)], db: DB,
                       caller: Caller = Depends(Signed("operator", limit="document"))):
    if not PRINCIPAL_ID.match(doc_id):
        raise ApiError(422, "invalid", "doc_id: 1-64 letters, digits, '.', '_' or '-'")
    doc = parse_json(request, caller.body)
    try:
        upload = DocumentUpload.model_validate_json(json.dumps(doc), strict=True)
    except ValidationError as exc:
        # never echo a holder value: it could be an ID number sent by mistake
        details = [{"field": p["field"], "problem": p["problem"]} for p in intake.problems(exc)]
        raise ApiError(422, "invalid", "the document is not valid", details) from None
    try:
        pdf = base64.b64decode(upload.pdf_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "invalid", "pdf_base64: not base64") from None
    if not pdf.startswith(b"%PDF-"):
        raise ApiError(422, "invalid", "pdf_base64: the content is not a PDF (it does not start with %PDF-)")
    new = db.put_document(doc_id, upload.title, upload.pages, pdf, holders=upload.holders)
    log.info("document %s stored by operator %s, %d new releases", doc_id, caller.name, new)
    return JSONResponse({"id": doc_id, "title": upload.title, "pages": upload.pages, "sha256": sha256_hex(pdf),
                         "new_releases": new})
