"""What the routes depend on: the database, the signed caller, and the request's body read and checked.

Every request but `/api/v1/health` and the OpenAPI document is signed
(kiosk/wire/auth.py; docs/central-api.md). A request is checked in this
order, and a refusal at any step stores nothing:

    declared size (413) -> signed headers: signature over the declared body
    hash, window and nonce (401) -> who may call this endpoint (403) -> the
    body, read only now, against its size limit (413) and the signed hash
    (401) -> JSON (400) -> schema (422)

Bodies are read and parsed here rather than by FastAPI's body parameters, so
an unauthenticated caller never learns how its JSON was judged and a batch
with one bad item is refused item by item, not whole. All handlers and these
dependencies are `async`. The database work of the requests every kiosk makes
all day (the secret and nonce of every request, storing a batch, a heartbeat,
the config and catalog polls) runs on the threadpool, each call with a
connection of the engine's pool, so the event loop keeps reading other
requests meanwhile; the rarer routes (cases, fees, queues, documents) still
ask the database from the event loop.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from kiosk.central import edge
from kiosk.central.cases import CaseBook
from kiosk.central.code_payments import DemoAcquirer
from kiosk.central.db import CentralDB
from kiosk.central.errors import ApiError
from kiosk.wire import auth

log = logging.getLogger(__name__)

KIB, MIB = 1024, 1024 * 1024
# the largest body each kind of request may carry; larger ones get 413 before they are read whole
LIMITS = {
    "transactions": 8 * MIB,     # 500 items
    "heartbeat": 256 * KIB,
    "config": 1 * MIB,
    "catalog": 64 * MIB,         # a province's catalog, tens of thousands of items
    "document": 32 * MIB,        # one PDF, base64 in JSON
    "case": 16 * KIB,            # one case from the approval system
    "fee_payment": 16 * KIB,     # one `payment` transaction paying a fee notice
    "none": 64 * KIB,            # GET requests: no body expected
}
SPOOL_AT = 1 * MIB  # bodies larger than this are spooled to a temporary file while they are hashed
AUTH_SCHEME = "KIOSK-HMAC-SHA256"


async def get_db(request: Request) -> CentralDB:
    """The platform's database (app.state.db, set by create_app)."""
    return request.app.state.db


async def get_acquirer(request: Request) -> DemoAcquirer:
    """The demo acquirer of payment codes (app.state.acquirer, set by create_app)."""
    return request.app.state.acquirer


async def get_cases(request: Request) -> CaseBook:
    """The cases, with the deployment's holder hash key (app.state.cases, set by create_app)."""
    return request.app.state.cases


DB = Annotated[CentralDB, Depends(get_db)]
Acquirer = Annotated[DemoAcquirer, Depends(get_acquirer)]
Cases = Annotated[CaseBook, Depends(get_cases)]


def rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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


class OutsideWindow(Exception):
    """The request's X-Timestamp is too far from the server's clock (found once its principal is known)."""


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
        path_qs = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        query = request.scope.get("query_string", b"").decode("latin-1")
        if query:
            path_qs += "?" + query

        def verify(secret: str) -> None:
            if abs(now - claimed.timestamp) > auth.WINDOW_S:
                raise OutsideWindow()
            auth.verify(secret, claimed, request.method, path_qs, now=now)  # the body is checked as it is read

        # the secret, the signature and the nonce in one transaction on the threadpool, not on the event
        # loop: a heartbeat is not kept waiting behind a batch being stored by the same worker
        try:
            fresh = await run_in_threadpool(db.authenticate, kind, claimed.principal, verify, claimed.nonce,
                                            claimed.timestamp + auth.WINDOW_S)
        except OutsideWindow:
            raise refuse(f"X-Timestamp {claimed.timestamp} is more than {auth.WINDOW_S} s from the server's clock "
                         f"({int(now)}): set the clock (NTP) and sign each request when it is sent",
                         "timestamp outside the window", details=[{"server_time": int(now)}]) from None
        except auth.AuthError as exc:
            raise refuse(UNAUTHENTICATED, str(exc)) from None
        if fresh is None:
            raise refuse(UNAUTHENTICATED, f"{kind} {claimed.principal!r} is not provisioned")
        if not fresh:
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
