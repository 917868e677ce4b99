"""The reference central platform's HTTP API (DESIGN.md section 5), as a FastAPI application.

Every request but `/api/v1/health` and the OpenAPI document is signed
(kiosk/wire/auth.py; docs/central-api.md). A request is checked in this
order, and a refusal at any step stores nothing:

    declared size (413) -> signed headers: signature over the declared body
    hash, window and nonce (401) -> who may call this endpoint (403) -> the
    body, read only now, against its size limit (413) and the signed hash
    (401) -> JSON (400) -> schema (422)

Bodies are read and parsed here rather than by FastAPI's body parameters, so
an unauthenticated caller never learns how its JSON was judged and a batch
with one bad item is refused item by item, not whole. All handlers are
`async` and run on the event loop, which is the one thread that uses the
database connection.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as FastPath
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from kiosk import __version__
from kiosk.central import edge, intake
from kiosk.central.db import PRINCIPAL_ID, CentralDB, sha256_hex
from kiosk.store import StoreError
from kiosk.wire import auth
from kiosk.wire.catalog import Catalog
from kiosk.wire.numbers import json_int
from kiosk.wire.transactions import (BatchResult, ConfigStored, DocumentList, Heartbeat, HeartbeatAck,
                                     TransactionBatch)

log = logging.getLogger(__name__)

KIB, MIB = 1024, 1024 * 1024
# the largest body each kind of request may carry; larger ones get 413 before they are read whole
LIMITS = {
    "transactions": 8 * MIB,     # 500 items
    "heartbeat": 256 * KIB,
    "config": 1 * MIB,
    "catalog": 64 * MIB,         # a province's catalog, tens of thousands of items
    "document": 32 * MIB,        # one PDF, base64 in JSON
    "none": 64 * KIB,            # GET requests: no body expected
}
PDF_BASE64 = r"^JVBERi0[A-Za-z0-9+/](?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
SPOOL_AT = 1 * MIB  # bodies larger than this are spooled to a temporary file while they are hashed
HOLDER = re.compile(r"^[0-9a-f]{64}$")
AUTH_SCHEME = "KIOSK-HMAC-SHA256"


class ApiError(Exception):
    """A refusal with its status, a stable code and a message for the person reading the logs."""

    def __init__(self, status: int, code: str, message: str, details: list | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.headers = details, headers


class ErrorBody(BaseModel):
    error: str = Field(description="stable code: unauthenticated, forbidden, malformed_json, invalid, too_large, "
                                   "unsupported_media_type, not_found, version_not_newer, storage_unavailable")
    message: str
    details: list[dict[str, Any]] | None = None


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


class CatalogStored(BaseModel):
    version: str
    sha256: str
    items: int
    changed: bool


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


class Health(BaseModel):
    status: str
    server_time: str
    software_version: str


def rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def error_response(exc: ApiError) -> JSONResponse:
    body = {"error": exc.code, "message": exc.message}
    if exc.details is not None:
        body["details"] = exc.details
    return JSONResponse(body, status_code=exc.status, headers=exc.headers)


# -- reading and checking a request ---------------------------------------------------------------

def declared_length(request: Request, limit: int) -> None:
    """413 from Content-Length alone, before anything is read."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (0 < len(declared) <= 19 and declared.isascii() and declared.isdigit()):
            raise ApiError(400, "bad_request", "Content-Length is not a number")
        if int(declared) > limit:
            raise ApiError(413, "too_large", f"the body is {declared} bytes; this endpoint takes at most {limit}")


async def read_body(request: Request, limit: int, want_sha256: str) -> bytes:
    """The body, checked against the signed hash while it streams in: 413 as soon as it exceeds `limit`,
    401 when it is not the body that was signed. Past SPOOL_AT it goes to a temporary file rather than
    a list of chunks in memory, so a slow upload holds a small buffer only."""
    digest, size = hashlib.sha256(), 0
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_AT) as spool:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ApiError(413, "too_large", f"the body exceeds {limit} bytes, the most this endpoint takes")
            digest.update(chunk)
            spool.write(chunk)
        if not hmac.compare_digest(digest.hexdigest(), want_sha256):
            raise ApiError(401, "unauthenticated", f"the body is not the one signed: its SHA-256 differs from "
                           f"{auth.HEADER_BODY}", headers={"WWW-Authenticate": AUTH_SCHEME})
        spool.seek(0)
        return spool.read()


def parse_json(request: Request, body: bytes, *, check: bool = True) -> Any:
    """The body as JSON, strictly (kiosk/central/edge.py): 400 when it cannot be parsed, 422 naming each
    field whose value cannot be stored faithfully. `check=False` leaves the walk to the caller."""
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if ctype not in ("application/json", ""):
        raise ApiError(415, "unsupported_media_type", f"Content-Type {ctype!r}: send application/json")
    if not body.strip():
        raise ApiError(400, "malformed_json", "the body is empty; a JSON document was expected")
    try:
        doc = edge.loads(body)
    except edge.JSONRefused as exc:
        raise ApiError(400, "malformed_json", str(exc)) from None
    if check:
        refuse_unstorable(doc)
    return doc


def refuse_unstorable(doc: Any, prefix: str = "") -> None:
    found = edge.problems(doc, prefix)
    if found:
        raise ApiError(422, "invalid", f"{found[0]['field']}: {found[0]['problem']}", found)


@dataclass(frozen=True)
class Caller:
    """Who signed the request, and the body the signature covers."""

    kind: str  # "kiosk" or "operator"
    name: str
    body: bytes

    def may_act_for(self, kiosk_id: str) -> bool:
        return self.kind == "operator" or self.name == kiosk_id


UNAUTHENTICATED = ("the signature does not match a provisioned secret for this principal: check X-Kiosk-Id "
                   "(or X-Operator-Id), the secret, and that the signed path, query and body are the ones sent")


class Signed:
    """Dependency: authenticate the request (401), then check the caller's kind may use the endpoint (403)."""

    def __init__(self, *kinds: str, limit: str = "none"):
        self.kinds = kinds
        self.limit = LIMITS[limit]

    async def __call__(self, request: Request) -> Caller:
        declared_length(request, self.limit)
        db: CentralDB = request.app.state.db
        now = db.clock()
        operator = auth.HEADER_OPERATOR in request.headers
        kind = "operator" if operator else "kiosk"

        def refuse(public: str, private: str, **extra) -> ApiError:
            who = request.headers.get(auth.HEADER_OPERATOR if operator else auth.HEADER_KIOSK, "?")
            log.warning("refused %s %s from %s %s (%s): %s", request.method, request.url.path, kind, who[:64],
                        request.client.host if request.client else "?", private)
            return ApiError(401, "unauthenticated", public, headers={"WWW-Authenticate": AUTH_SCHEME}, **extra)

        if operator and auth.HEADER_KIOSK in request.headers:
            raise refuse("send either X-Kiosk-Id or X-Operator-Id, not both", "both principal headers")
        try:
            claimed = auth.parse_headers(request.headers, operator=operator)
        except auth.AuthError as exc:
            raise refuse(f"{exc} (see docs/central-api.md, authentication)", str(exc)) from None
        secret = db.secret_of(kind, claimed.principal)
        if secret is None:
            raise refuse(UNAUTHENTICATED, f"{kind} {claimed.principal!r} is not provisioned")
        path_qs = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        query = request.scope.get("query_string", b"").decode("latin-1")
        if query:
            path_qs += "?" + query
        if abs(now - claimed.timestamp) > auth.WINDOW_S:
            raise refuse(f"X-Timestamp {claimed.timestamp} is more than {auth.WINDOW_S} s from the server's clock "
                         f"({int(now)}): set the clock (NTP) and sign each request when it is sent",
                         "timestamp outside the window", details=[{"server_time": int(now)}])
        try:
            auth.verify(secret, claimed, request.method, path_qs, now=now)  # the body is checked as it is read
        except auth.AuthError as exc:
            raise refuse(UNAUTHENTICATED, str(exc)) from None
        if not db.remember_nonce(f"{kind}:{claimed.principal}", claimed.nonce, claimed.timestamp + auth.WINDOW_S):
            raise refuse("this X-Nonce was already used: a replayed request; every request needs a new nonce",
                         "nonce already used (replay)")
        if kind not in self.kinds:
            allowed = " or ".join(f"a {k}" for k in self.kinds)
            raise ApiError(403, "forbidden", f"this endpoint is for {allowed}, not a {kind}")
        body = await read_body(request, self.limit, claimed.body_sha256)
        return Caller(kind, claimed.principal, body)


def own_kiosk(caller: Caller, kiosk_id: str) -> None:
    if not caller.may_act_for(kiosk_id):
        raise ApiError(403, "forbidden", f"kiosk {caller.name!r} may not use the resources of kiosk {kiosk_id!r}")


def etag_matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def declared_bundle_fields(envelope: Any) -> tuple[int, list[str]]:
    """The version and targets a signed config bundle declares: top-level fields of the envelope,
    or of its `payload`/`bundle` object. The platform does not verify the signature; kiosks do."""
    if not isinstance(envelope, dict):
        raise ApiError(422, "invalid", "a config bundle is a JSON object (the signed envelope)")
    places = [envelope] + [envelope[k] for k in ("payload", "bundle") if isinstance(envelope.get(k), dict)]
    source = next((p for p in places if "version" in p and "targets" in p), None)
    if source is None:
        raise ApiError(422, "invalid", "the envelope declares no version and targets",
                       [{"field": "version", "problem": "required: the bundle's version, an integer"},
                        {"field": "targets", "problem": "required: the kiosk ids and group names it is for"}])
    version, targets = source["version"], source["targets"]
    if isinstance(version, float) and version.is_integer() and abs(version) <= edge.INT64_MAX:
        version = int(version)  # JSON has one number type: 7.0 is the integer 7
    details = []
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= edge.INT64_MAX:
        details.append({"field": "version", "problem": f"expected an integer from 1 to {edge.INT64_MAX}, "
                                                       f"got {json.dumps(version)[:40]}"})
    if (not isinstance(targets, list) or not targets
            or not all(isinstance(t, str) and 0 < len(t) <= 64 for t in targets)):
        details.append({"field": "targets", "problem": "expected a non-empty list of kiosk ids and group names"})
    if details:
        raise ApiError(422, "invalid", "the envelope's version or targets are not usable", details)
    return version, targets


# -- the application ------------------------------------------------------------------------------

# every signed route can answer these (the order of checks in the module docstring; 503 when storage fails)
ERRORS = {status: {"model": ErrorBody} for status in (400, 401, 403, 413, 415, 422, 503)}
NOT_FOUND = {404: {"model": ErrorBody, "description": "no such resource (for this caller)"}}
CONFLICT = {409: {"model": ErrorBody, "description": "conflicts with what is stored"}}


# Bounds in the document are 2^53 - 1, inside the server's int64: JSON Schema tools (hypothesis-jsonschema
# among them) handle numbers as doubles, and 2^63 - 1 rounds up to 2^63, past what the server takes.
JSON_SAFE_INT = 2**53 - 1
_BUNDLE_FIELDS = {"version": {"type": "integer", "minimum": 1, "maximum": JSON_SAFE_INT},
                  "targets": {"type": "array", "minItems": 1,
                              "items": {"type": "string", "minLength": 1, "maxLength": 64}}}
# what declared_bundle_fields reads: version and targets at the top level, or in `payload` or `bundle`
BUNDLE_SCHEMA = {
    "type": "object",
    "properties": {**_BUNDLE_FIELDS, **{place: {"type": "object", "properties": _BUNDLE_FIELDS,
                                                "additionalProperties": {"$ref": "#/components/schemas/JsonValue"}}
                                        for place in ("payload", "bundle")}},
    # each alternative complete in itself: generators do not always merge a branch with its parent
    "anyOf": [{"type": "object", "required": ["version", "targets"], "properties": _BUNDLE_FIELDS},
              *({"type": "object", "required": [place], "properties": {place: {
                  "type": "object", "required": ["version", "targets"], "properties": _BUNDLE_FIELDS,
                  "additionalProperties": {"$ref": "#/components/schemas/JsonValue"}}}}
                for place in ("payload", "bundle"))],
    "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
    "description": "integers anywhere in the envelope fit in 64 bits; nesting is at most 64 levels"}
# any JSON value the platform stores faithfully (kiosk/central/edge.py); the depth limit is not expressed
JSON_VALUE = {"anyOf": [{"type": ["string", "boolean", "null"]},
                        {"type": "number", "minimum": -JSON_SAFE_INT, "maximum": JSON_SAFE_INT},
                        {"type": "array", "items": {"$ref": "#/components/schemas/JsonValue"}},
                        {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/JsonValue"}}]}


def _free_json_is_storable(schemas: dict) -> None:
    """Free-form objects (`dict[str, Any]`: a transaction's data, a heartbeat's devices and alarms) hold
    values the edge checks too: say so, rather than `additionalProperties: true`."""
    stack: list[Any] = list(schemas.values())
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "object" and node.get("additionalProperties") is True and not node.get("properties"):
                node["additionalProperties"] = {"$ref": "#/components/schemas/JsonValue"}
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _body(model: type[BaseModel] | dict | None, description: str) -> dict:
    if isinstance(model, dict):
        schema = model
    else:
        schema = {"$ref": f"#/components/schemas/{model.__name__}"} if model else {"type": "object"}
    return {"requestBody": {"required": True, "description": description,
                            "content": {"application/json": {"schema": schema}}}}


def create_app(db: CentralDB) -> FastAPI:
    app = FastAPI(
        title="Kiosk reference central platform",
        version=__version__,
        description="A stand-in for the provincial platform: transactions, catalog, config bundles, heartbeats "
                    "and released documents. Requests are signed per kiosk or operator; see docs/central-api.md.",
    )
    app.state.db = db
    started = time.monotonic()

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        details = [{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()]
        return error_response(ApiError(422, "invalid", "the request's parameters are not valid", details))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
        return error_response(ApiError(exc.status_code, code, f"{request.method} {request.url.path}: {exc.detail}",
                                       headers=getattr(exc, "headers", None)))

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect):
        log.info("%s %s: the client went away before sending its whole body; nothing stored",
                 request.method, request.url.path)
        return error_response(ApiError(400, "bad_request", "the body ended early"))

    @app.exception_handler(StoreError)
    @app.exception_handler(sqlite3.Error)
    async def _storage(request: Request, exc: Exception):
        log.error("storage failed on %s %s: %s", request.method, request.url.path, exc)
        return error_response(ApiError(503, "storage_unavailable", "the platform cannot store right now; "
                                       "nothing was stored; try again later", headers={"Retry-After": "30"}))

    # -- transactions ----------------------------------------------------------------------------

    @app.post("/api/v1/transactions", response_model=BatchResult, responses=ERRORS, tags=["transactions"],
              summary="Upload a batch of completed transactions (at most 500)",
              openapi_extra=_body(TransactionBatch, "the batch; each item is accepted, a duplicate or rejected "
                                                    "on its own"))
    async def post_transactions(request: Request, caller: Caller = Depends(Signed("kiosk", limit="transactions"))):
        try:
            kiosk_id, items = intake.check_batch(parse_json(request, caller.body, check=False))
        except intake.EnvelopeError as exc:
            raise ApiError(422, "invalid", f"the batch is not usable: {exc}", exc.details) from None
        own_kiosk(caller, kiosk_id)
        results = db.store_batch(kiosk_id, items)
        rejected = [r for r in results if r["status"] == "rejected"]
        if rejected:
            log.warning("kiosk %s: %d of %d items rejected, first: %s", kiosk_id, len(rejected), len(results),
                        rejected[0]["reason"])
        return JSONResponse({"results": results})

    @app.get("/api/v1/kiosks/{kiosk_id}/transactions", response_model=TransactionList, responses={**ERRORS, **NOT_FOUND},
             tags=["transactions"], summary="What the platform holds for a kiosk, by seq (operator, or the kiosk itself)")
    async def list_transactions(kiosk_id: str, after_seq: int = Query(0, ge=0, le=edge.INT64_MAX), limit: int = Query(1000, ge=1, le=5000),
                                caller: Caller = Depends(Signed("operator", "kiosk"))):
        own_kiosk(caller, kiosk_id)
        if not db.kiosk_exists(kiosk_id):
            raise ApiError(404, "not_found", f"no kiosk {kiosk_id!r} is provisioned")
        rows = db.transactions(kiosk_id, after_seq, limit)
        for r in rows:
            r["received_at"] = rfc3339(r["received_at"])
        return JSONResponse({"kiosk_id": kiosk_id, "transactions": rows,
                             "next_after_seq": rows[-1]["seq"] if rows else None})

    # -- catalog ---------------------------------------------------------------------------------

    @app.get("/api/v1/catalog", tags=["catalog"], responses={**ERRORS, **NOT_FOUND, 304: {"description": "unchanged"},
                                                             200: {"content": {"application/json": {
                                                                 "schema": {"$ref": "#/components/schemas/Catalog"}}}}},
             summary="The guide catalog (DESIGN.md section 6), with an ETag; If-None-Match gives 304")
    async def get_catalog(request: Request, caller: Caller = Depends(Signed("kiosk", "operator"))):
        row = db.newest_catalog()
        if row is None:
            raise ApiError(404, "not_found", "no catalog yet: run `kiosk central seed` or PUT /api/v1/catalog")
        etag = f'"{row["sha256"]}"'
        headers = {"ETag": etag, "X-Catalog-Version": row["version"], "Cache-Control": "no-cache"}
        if etag_matches(request, etag):
            return Response(status_code=304, headers=headers)
        return Response(row["body"], media_type="application/json; charset=utf-8", headers=headers)

    @app.put("/api/v1/catalog", response_model=CatalogStored, responses=ERRORS, tags=["catalog"],
             summary="Upload the guide catalog (operator)",
             openapi_extra=_body(Catalog, "a whole catalog; refused whole when any item is invalid"))
    async def put_catalog(request: Request, caller: Caller = Depends(Signed("operator", limit="catalog"))):
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

    # -- signed config bundles -------------------------------------------------------------------

    @app.get("/api/v1/kiosks/{kiosk_id}/config", tags=["config"],
             responses={**ERRORS, 304: {"description": "unchanged"}, 404: {"model": ErrorBody},
                        200: {"description": "the signed envelope, as the operator uploaded it",
                              "content": {"application/json": {"schema": {"type": "object"}}}}},
             summary="The newest signed config bundle that targets this kiosk or one of its groups")
    async def get_config(request: Request, kiosk_id: str, caller: Caller = Depends(Signed("kiosk", "operator"))):
        own_kiosk(caller, kiosk_id)
        row = db.newest_config_for(kiosk_id)
        if row is None:
            raise ApiError(404, "not_found", f"no config bundle targets kiosk {kiosk_id!r} or its groups")
        etag = f'"{row["sha256"]}"'
        headers = {"ETag": etag, "X-Config-Version": str(row["version"]), "Cache-Control": "no-cache"}
        if etag_matches(request, etag):
            return Response(status_code=304, headers=headers)
        return Response(row["body"], media_type="application/json; charset=utf-8", headers=headers)

    @app.put("/api/v1/fleet/config", response_model=ConfigStored, tags=["config"],
             responses={**ERRORS, 409: {"model": ErrorBody, "description": "version not above the newest stored"}},
             summary="Upload a signed config bundle for the fleet (operator)",
             openapi_extra=_body(BUNDLE_SCHEMA, "the signed envelope made by `kiosk config sign`; it declares `version` "
                                       "(integer, strictly increasing) and `targets` (kiosk ids and group names) "
                                       "at its top level or in its `payload` object"))
    async def put_fleet_config(request: Request, caller: Caller = Depends(Signed("operator", limit="config"))):
        version, targets = declared_bundle_fields(parse_json(request, caller.body))
        if not db.put_config(caller.body, version, targets, f"operator:{caller.name}"):
            newest = db.newest_config_version()
            raise ApiError(409, "version_not_newer", f"version {version} is not above the newest stored version "
                           f"{newest}; bundle versions only increase: sign it again with a higher version")
        log.info("config bundle version %d for %s stored by operator %s", version, targets, caller.name)
        return JSONResponse({"version": version, "targets": targets})

    # -- heartbeats ------------------------------------------------------------------------------

    @app.post("/api/v1/kiosks/{kiosk_id}/heartbeat", response_model=HeartbeatAck, responses=ERRORS,
              tags=["kiosks"], summary="Device health, queue depth, config and software version",
              openapi_extra=_body(Heartbeat, "the kiosk's state now"))
    async def post_heartbeat(request: Request, kiosk_id: str, caller: Caller = Depends(Signed("kiosk", limit="heartbeat"))):
        own_kiosk(caller, kiosk_id)
        doc = parse_json(request, caller.body)
        try:
            beat = Heartbeat.model_validate_json(json.dumps(doc), strict=True)
        except ValidationError as exc:
            raise ApiError(422, "invalid", "the heartbeat is not valid", intake.problems(exc)) from None
        if beat.kiosk_id != kiosk_id:
            raise ApiError(403, "forbidden", f"the heartbeat names kiosk {beat.kiosk_id!r}, "
                                             f"but was sent for {kiosk_id!r}")
        at = db.record_heartbeat(kiosk_id, beat.model_dump_json())
        newest = db.newest_config_for(kiosk_id)
        return JSONResponse({"received_at": rfc3339(at), "config_version": newest["version"] if newest else None})

    @app.get("/api/v1/kiosks/{kiosk_id}/heartbeat", tags=["kiosks"], responses={**ERRORS, **NOT_FOUND},
             summary="The latest heartbeat of a kiosk and its recent history (operator, or the kiosk itself)")
    async def get_heartbeat(kiosk_id: str, history: int = Query(0, ge=0, le=1000),
                            caller: Caller = Depends(Signed("operator", "kiosk"))):
        own_kiosk(caller, kiosk_id)
        beats = db.heartbeats(kiosk_id, max(history, 1))
        if not beats:
            raise ApiError(404, "not_found", f"no heartbeat from kiosk {kiosk_id!r} yet")
        for b in beats:
            b["received_at"] = rfc3339(b["received_at"])
        return JSONResponse({"kiosk_id": kiosk_id, "latest": beats[0], "history": beats[:history]})

    @app.get("/api/v1/kiosks", tags=["kiosks"], responses=ERRORS,
             summary="Every provisioned kiosk with its latest heartbeat (operator)")
    async def list_kiosks(caller: Caller = Depends(Signed("operator"))):
        kiosks = db.kiosks()
        for k in kiosks:
            k["provisioned_at"] = rfc3339(k["provisioned_at"])
            if k["last_heartbeat_at"] is not None:
                k["last_heartbeat_at"] = rfc3339(k["last_heartbeat_at"])
        return JSONResponse({"kiosks": kiosks})

    # -- released documents ----------------------------------------------------------------------

    @app.get("/api/v1/kiosks/{kiosk_id}/documents", response_model=DocumentList, responses=ERRORS,
             tags=["documents"], summary="Documents released for printing to the holder whose keyed hash is H")
    async def list_documents(kiosk_id: str, holder: str = Query(..., pattern="^[0-9a-f]{64}$", description="holder_hash(key, ID number): 64 "
                                                                                  "lowercase hex digits"),
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

    @app.get("/api/v1/documents/{doc_id}", tags=["documents"],
             responses={**ERRORS, 404: {"model": ErrorBody},
                        200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}},
             summary="The PDF of a released document (kiosks only; each download is logged)")
    async def get_document(doc_id: str, holder: str = Query(..., min_length=64, max_length=64, pattern="^[0-9a-f]{64}$",
                                                            description="the keyed hash of the holder the kiosk "
                                                                        "looked up: the document must have been "
                                                                        "released to this holder"),
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

    @app.put("/api/v1/documents/{doc_id}", response_model=DocumentStored, responses=ERRORS, tags=["documents"],
             summary="Store a document and release it to holders (operator); releases are only ever added",
             openapi_extra=_body(DocumentUpload, "the PDF (base64), its title and page count, and the keyed "
                                                 "hashes of the holders it is released to"))
    async def put_document(request: Request, doc_id: Annotated[str, FastPath(pattern=PRINCIPAL_ID.pattern)], caller: Caller = Depends(Signed("operator", limit="document"))):
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

    # -- demo acquirer of payment codes (kiosk/central/code_payments.py) ----------------------------

    from kiosk.central.code_payments import AnswerLost, DemoAcquirer, DemoError

    acquirer = DemoAcquirer(db.conn, db.clock)

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

    @app.post("/api/v1/payments/code", response_model=CodePaymentStatus, responses={**ERRORS, **NOT_FOUND, **CONFLICT}, tags=["payments (demo)"],
              summary="Demo acquirer: pay with a WeChat/Alipay payment code (idempotent on the reference)",
              openapi_extra=_body(CodePaymentRequest, "the kiosk's reference, the amount and the scanned code; "
                                                      "the code's last digit picks the demo outcome"))
    async def pay_code(caller: Caller = Depends(Signed("kiosk"))):
        req = _payment_body(CodePaymentRequest, caller)
        return await _demo(lambda: acquirer.pay(caller.name, req.reference, req.amount_fen, req.code, req.channel,
                                                 req.service))

    @app.get("/api/v1/payments/code/{reference}", response_model=CodePaymentStatus, responses={**ERRORS, **NOT_FOUND, **CONFLICT},
             tags=["payments (demo)"], summary="Demo acquirer: where a payment stands")
    async def query_code(reference: str, caller: Caller = Depends(Signed("kiosk"))):
        return await _demo(lambda: acquirer.query(caller.name, reference))

    @app.post("/api/v1/payments/code/{reference}/reverse", response_model=CodePaymentStatus, responses={**ERRORS, **NOT_FOUND, **CONFLICT},
              tags=["payments (demo)"], summary="Demo acquirer: call back a payment that is not confirmed")
    async def reverse_code(reference: str, caller: Caller = Depends(Signed("kiosk"))):
        return await _demo(lambda: acquirer.reverse(caller.name, reference))

    @app.post("/api/v1/payments/code/{reference}/refund", response_model=CodePaymentStatus, responses={**ERRORS, **NOT_FOUND, **CONFLICT},
              tags=["payments (demo)"], summary="Demo acquirer: give an approved payment back (once)",
              openapi_extra=_body(CodeRefundRequest, "the kiosk's refund reference and the amount"))
    async def refund_code(reference: str, caller: Caller = Depends(Signed("kiosk"))):
        req = _payment_body(CodeRefundRequest, caller)
        return await _demo(lambda: acquirer.refund(caller.name, reference, req.refund_reference, req.amount_fen))

    # -- unauthenticated ---------------------------------------------------------------------------

    @app.get("/api/v1/health", response_model=Health, tags=["platform"],
             summary="Liveness and the server's clock (no authentication; nothing about kiosks)")
    async def health():
        return JSONResponse({"status": "ok", "server_time": rfc3339(db.clock()), "software_version": __version__,
                             "uptime_s": round(time.monotonic() - started, 1)})

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        # request bodies are parsed by hand (see the module docstring): add their schemas here
        bodies = (TransactionBatch, Heartbeat, Catalog, DocumentUpload, CodePaymentRequest, CodeRefundRequest)
        _, defs = models_json_schema([(m, "validation") for m in bodies], ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {}).update(defs.get("$defs", {}))
        components["schemas"]["JsonValue"] = JSON_VALUE
        _free_json_is_storable(components["schemas"])
        described = ((auth.HEADER_KIOSK, "the kiosk id; a kiosk's requests"),
                     (auth.HEADER_OPERATOR, "the operator name; an operator's requests"),
                     (auth.HEADER_TS, "unix seconds, 1-12 ASCII digits; within 300 s of the server's clock"),
                     (auth.HEADER_NONCE, "16-64 of [A-Za-z0-9_-] (32 random hex digits), never reused"),
                     (auth.HEADER_BODY, "hex SHA-256 of the body as sent (of nothing for a GET); signed"),
                     (auth.HEADER_SIG, "hex HMAC-SHA256 of the canonical request; docs/central-api.md"))
        components["securitySchemes"] = {name: {"type": "apiKey", "in": "header", "name": name, "description": text}
                                         for name, text in described}
        common = [auth.HEADER_TS, auth.HEADER_NONCE, auth.HEADER_BODY, auth.HEADER_SIG]
        # either a kiosk's or an operator's signature (never both principal headers)
        requirement = [{name: [] for name in (principal, *common)}
                       for principal in (auth.HEADER_KIOSK, auth.HEADER_OPERATOR)]
        for path, ops in schema["paths"].items():
            if path in ("/api/v1/health",):
                continue
            for op in ops.values():
                op["security"] = requirement
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
    return app
