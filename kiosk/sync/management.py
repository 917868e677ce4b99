"""The kiosk's management API, served by the agent on `[management] listen` (loopback by default).

    POST /api/v1/config        body: a signed bundle or key rotation (the JSON `kiosk config sign` writes)
                               200 {"result": "applied|unchanged|rotated", ...}
                               422 {"result": "rejected|rolled_back", "code", "reason", ...}
                               400 not a bundle, 401 not signed by a trusted key: nothing written
    GET  /api/v1/config        the config status (`kiosk config status --json`); a signed request
    GET  /api/v1/openapi.json  this API's OpenAPI document; a signed request
    GET  /metrics              the agent's Prometheus metrics (kiosk.sync.metrics); no authentication,
                               like a health probe: nothing personal, nothing of the config

Who may use it: whoever holds a trusted operator key (kiosk.sync.operator_auth);
`/metrics` is the one open path (served when the agent passes its metrics).
A pushed bundle is its own proof: its signature is verified, without writing
anything, before the body reaches `ConfigApplier.apply_bytes` (the same
applier as a bundle from a file or from the fleet), so a forged or garbage
body is answered 400/401 and leaves no trace on the kiosk's disk. Reads are
signed requests (`Authorization: KIOSK-ED25519 ...`, see operator_auth), so the
config status is not told to anyone on the hall's network. No second secret is
kept on the kiosk for this API.

It runs on the same stack as the central platform (FastAPI on uvicorn), in a
thread of the agent, behind kiosk.sync.http_guard: strict HTTP parsing, a body
cap, a whole-request deadline, connection caps and a rate limit on refusals
(the `management:refusal_flood` alarm).
"""
from __future__ import annotations

import logging
import socket
import threading
from typing import TYPE_CHECKING, Any, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from kiosk import __version__
from kiosk.wire import bundle
from kiosk.sync import http_guard, operator_auth
from kiosk.sync.config_apply import ConfigApplier
from kiosk.sync.http_guard import Guard, Limits

if TYPE_CHECKING:
    from kiosk.sync.metrics import AgentMetrics

log = logging.getLogger(__name__)

PATH = "/api/v1/config"
OPENAPI_PATH = "/api/v1/openapi.json"
METRICS_PATH = "/metrics"
LIMITS = Limits(max_body=bundle.MAX_ENVELOPE_BYTES)


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT` or `[IPv6]:PORT` of `[management] listen`."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not port.isascii() or not 0 < int(port) < 65536:
        raise ValueError(f"[management] listen = {text!r}: expected HOST:PORT, e.g. 127.0.0.1:8701")
    return host.strip("[]") or "127.0.0.1", int(port)


# -- the OpenAPI document: every status the routes and the guard answer, every limit enforced --------

_B64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


def _envelope_schema(types: list[str], with_rotations: bool) -> dict[str, Any]:
    props: dict[str, Any] = {
        "payloadType": {"type": "string", "enum": types},
        "payload": {"type": "string", "pattern": _B64, "description": "base64 of the exact payload bytes"},
        "signatures": {"type": "array", "minItems": 1, "maxItems": bundle.MAX_SIGNATURES, "items": {
            "type": "object", "required": ["keyid", "sig"],
            "properties": {"keyid": {"type": "string", "description": "sha256 hex of the raw public key"},
                           "sig": {"type": "string", "pattern": _B64}}}},
    }
    if with_rotations:
        props["rotations"] = {"type": "array", "maxItems": bundle.MAX_ROTATIONS,
                              "items": {"$ref": "#/components/schemas/RotationEnvelope"}}
        props["version"] = {"description": "unsigned routing hint; never used by the kiosk"}
        props["targets"] = {"description": "unsigned routing hint; never used by the kiosk"}
    return {"type": "object", "required": ["payloadType", "payload", "signatures"], "properties": props,
            "additionalProperties": with_rotations}


def _json(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def _refusal(text: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"description": text, "content": _json("Refusal")}
    if headers:
        doc["headers"] = headers
    return doc


_RETRY = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}}
_AUTH = {"WWW-Authenticate": {"description": operator_auth.SCHEME, "schema": {"type": "string"}}}


def _guard_responses(limits: Limits) -> dict[str, Any]:
    return {
        "400": _refusal("not a valid HTTP/1.1 request, a header that is not printable ASCII, a bad "
                        "Content-Length, a body cut short, or (POST) a body that is not a signed envelope"),
        "401": _refusal("not signed by an operator key this kiosk trusts; nothing was written", _AUTH),
        "405": _refusal("another method", {"Allow": {"schema": {"type": "string"}}}),
        "408": _refusal(f"the request did not arrive whole within {limits.request_deadline_s:g} s of its first byte"),
        "411": _refusal("a body without Content-Length (or with Transfer-Encoding)"),
        "413": _refusal(f"a declared body over {limits.max_body} bytes, refused unread"),
        "429": _refusal(f"more than {limits.refusals} refused requests from this address within "
                        f"{limits.window_s:g} s", _RETRY),
        "503": _refusal(f"more than {limits.per_address} connections from this address or {limits.total} in all",
                        _RETRY),
    }


def openapi_document(limits: Limits, metrics: bool = False) -> dict[str, Any]:
    """The document; `metrics`: with `GET /metrics` (the agent serves it; a bare API does not)."""
    guard = _guard_responses(limits)
    status_props = {
        "version": {"type": ["integer", "null"]}, "sha256": {"type": ["string", "null"]},
        "state": {"type": "string", "enum": ["none", "applied", "rejected", "rolled_back", "interrupted"]},
        "last_rejection": {"type": ["object", "null"]},
        "issued": {"type": ["string", "null"]}, "expires": {"type": ["string", "null"]},
        "applied_at": {"type": ["string", "null"]},
        "time_high_water": {"type": ["string", "null"]}, "time_high_water_source": {"type": ["string", "null"]},
        "trust": {"type": "object", "required": ["generation", "threshold", "keyids"], "properties": {
            "generation": {"type": "integer"}, "threshold": {"type": "integer"},
            "keyids": {"type": "array", "items": {"type": "string"}}}},
        "history": {"type": "array", "items": {"type": "string"}}, "trial": {"type": "boolean"},
    }
    outcome_props = {
        "result": {"type": "string"}, "code": {"type": ["string", "null"]}, "reason": {"type": ["string", "null"]},
        "version": {"type": ["integer", "null"]}, "sha256": {"type": ["string", "null"]},
        "current_version": {"type": ["integer", "null"]},
    }
    signed = [{"operatorSignature": []}]
    reads = {k: v for k, v in guard.items() if k not in ("411", "413")}
    paths: dict[str, Any] = {}
    if metrics:
        paths[METRICS_PATH] = {"get": {
            "operationId": "metrics",
            "summary": "the agent's Prometheus metrics (text format 0.0.4)",
            "description": "No authentication, like a health probe: outbox depth, dead items, the oldest pending "
                           "age, requests to the platform by outcome, the last sync and heartbeat. No personal "
                           "data; the kiosk id only on kiosk_agent_info.",
            "security": [],
            "responses": {"200": {"description": "the metrics",
                                  "content": {"text/plain": {"schema": {"type": "string"}}}},
                          **{k: v for k, v in reads.items() if k != "401"}},
        }}
    return {
        "openapi": "3.1.0",
        "info": {"title": "kiosk management API", "version": __version__,
                 "description": "Served by `kiosk agent` on [management] listen. Every route needs an operator "
                                "key the kiosk trusts: a pushed bundle by its own signature, every other request "
                                f"by an `Authorization: {operator_auth.SCHEME}` header"
                                + (f"; {METRICS_PATH} aside, open like a health probe." if metrics else ".")},
        "paths": {
            PATH: {
                "post": {
                    "operationId": "pushConfig",
                    "summary": "apply a signed config bundle or key rotation",
                    "description": "Authenticated by the bundle's own signature, checked before anything is "
                                   "written; an unsigned or forged body is answered 400/401 and changes nothing.",
                    "requestBody": {"required": True, "content": _json("Envelope")},
                    "responses": {
                        "200": {"description": "applied, unchanged (already applied) or rotated",
                                "content": _json("Outcome")},
                        "422": {"description": "signed by a trusted key but refused (stale, expired, not "
                                               "targeted, invalid settings) or rolled back",
                                "content": _json("Outcome")},
                        **guard,
                    },
                },
                "get": {
                    "operationId": "configStatus",
                    "summary": "the config status, as `kiosk config status --json`",
                    "security": signed,
                    "responses": {"200": {"description": "the status", "content": _json("ConfigStatus")},
                                  **reads},
                },
            },
            OPENAPI_PATH: {
                "get": {
                    "operationId": "openapi",
                    "summary": "this document",
                    "security": signed,
                    "responses": {"200": {"description": "the OpenAPI document",
                                          "content": {"application/json": {"schema": {"type": "object"}}}},
                                  **reads},
                },
            },
            **paths,
        },
        "components": {
            "securitySchemes": {"operatorSignature": {
                "type": "apiKey", "in": "header", "name": "Authorization",
                "description": f'{operator_auth.SCHEME} keyid="<hex>", ts="<unix s>", nonce="<hex>", sig="<base64 '
                               f'Ed25519 over \'{operator_auth.SCHEME}\\nMETHOD\\nPATH\\nTS\\nNONCE\'>"; ts within '
                               f"{operator_auth.SKEW_S:g} s of the kiosk's clock; each signature is taken once"}},
            "schemas": {
                "Envelope": _envelope_schema(list(bundle.PAYLOAD_TYPES), True),
                "RotationEnvelope": _envelope_schema([bundle.ROTATE_TYPE], False),
                "Outcome": {"type": "object", "required": ["result"], "properties": outcome_props},
                "ConfigStatus": {"type": "object", "required": list(status_props), "properties": status_props},
                "Refusal": {"type": "object", "required": ["result", "code", "reason"], "properties": {
                    "result": {"const": "rejected"}, "code": {"type": "string"}, "reason": {"type": "string"}}},
            },
        },
    }


# -- the routes -----------------------------------------------------------------------------------

def _refuse(status: int, code: str, reason: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"result": "rejected", "code": code, "reason": reason}, status, headers=headers)


def _unauthorized(code: str, reason: str) -> JSONResponse:
    return _refuse(401, code, reason, {"WWW-Authenticate": operator_auth.SCHEME})


def build_app(applier: ConfigApplier, limits: Limits = LIMITS,
              verifier: operator_auth.RequestVerifier | None = None,
              metrics: AgentMetrics | None = None) -> FastAPI:
    """The routes, without the guard (`Guard.wrap` puts it around them); `GET /metrics` with `metrics`."""
    verifier = verifier or operator_auth.RequestVerifier(applier.trust)
    app = FastAPI(title="kiosk management API", version=__version__, openapi_url=None, docs_url=None,
                  redoc_url=None)
    document = openapi_document(limits, metrics=metrics is not None)

    @app.exception_handler(StarletteHTTPException)
    async def http_refusal(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "refused")
        hint = f"POST a signed bundle to {PATH}, GET {PATH} (status) or GET {OPENAPI_PATH}, signed" + (
            f"; GET {METRICS_PATH}, open" if metrics is not None else "")
        return _refuse(exc.status_code, code, f"{exc.detail}; {hint}", dict(exc.headers or {}))

    async def signed_by_operator(request: Request) -> JSONResponse | None:
        target = request.scope["raw_path"].decode("ascii", "replace")
        if request.scope.get("query_string"):
            target += "?" + request.scope["query_string"].decode("ascii", "replace")
        try:
            await run_in_threadpool(verifier.verify, request.headers.get("authorization"), request.method, target)
        except operator_auth.Unauthorized as exc:
            return _unauthorized(exc.code, exc.reason)
        return None

    async def config_status(request: Request):
        refused = await signed_by_operator(request)
        if refused is not None:
            return refused
        return JSONResponse(await run_in_threadpool(applier.status))

    @app.get(OPENAPI_PATH)
    async def openapi(request: Request):
        refused = await signed_by_operator(request)
        return refused if refused is not None else JSONResponse(document)

    @app.api_route(PATH, methods=["GET", "POST"])  # one route, so a 405 names both in Allow
    async def config(request: Request):
        return await (push(request) if request.method == "POST" else config_status(request))

    async def push(request: Request):
        try:
            raw = await request.body()  # the guard checked its declared length and holds the deadline
        except ClientDisconnect:  # the guard answered (408, a truncated body) and closed: this goes nowhere
            return _refuse(400, "truncated", "the body did not arrive whole")
        if len(raw) > limits.max_body:
            return _refuse(413, "too_large", f"{len(raw)} bytes; a signed bundle is at most {limits.max_body}")
        trust = await run_in_threadpool(applier.trust)
        try:
            await run_in_threadpool(operator_auth.authenticate_bundle, raw, trust)
        except bundle.BundleError as exc:
            if exc.code == "too_large":
                return _refuse(413, exc.code, exc.reason)
            if exc.code in operator_auth.NOT_A_BUNDLE:
                return _refuse(400, exc.code, exc.reason)
            return _unauthorized(exc.code, exc.reason)
        client = request.client.host if request.client else "?"
        outcome = await run_in_threadpool(applier.apply_bytes, raw, f"management API ({client})")
        return JSONResponse(outcome.as_dict(), 200 if outcome.ok else 422)

    if metrics is not None:
        @app.get(METRICS_PATH)
        async def prometheus():
            # off the event loop: the scrape reads the kiosk's database
            return Response(await run_in_threadpool(metrics.exposition), media_type=metrics.content_type)

    return app


# -- the server -----------------------------------------------------------------------------------

def flood_alarm(settings) -> tuple[Callable[[str], None], Callable[[], None]]:
    """Raise and clear `management:refusal_flood` in the kiosk's database (kiosk.alarms)."""
    def with_alarms(fn) -> None:
        from kiosk.alarms import Alarms
        from kiosk.store import Store
        from kiosk.sync.outbox import Outbox

        conn = Store.from_settings(settings).connect()
        try:
            fn(Alarms(conn, Outbox(conn)))
        finally:
            conn.close()

    def on_flood(detail: str) -> None:
        with_alarms(lambda a: a.raise_alarm(http_guard.ALARM_DEVICE, http_guard.ALARM_CODE, detail,
                                            severity="warning"))

    def on_calm() -> None:
        with_alarms(lambda a: a.clear(http_guard.ALARM_DEVICE, http_guard.ALARM_CODE,
                                      "an operator's request was answered"))
    return on_flood, on_calm


class ManagementServer:
    """uvicorn in a thread of its own, on a socket bound here (a bind error is the caller's to report)."""

    def __init__(self, address: tuple[str, int], applier: ConfigApplier, limits: Limits = LIMITS, *,
                 on_flood: Callable[[str], Any] | None = None, on_calm: Callable[[], Any] | None = None,
                 metrics: AgentMetrics | None = None):
        import uvicorn

        self.applier = applier
        self.limits = limits
        self.guard = Guard(limits, on_flood=on_flood, on_calm=on_calm,
                           open_paths=frozenset({METRICS_PATH}) if metrics is not None else frozenset())
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind(address)
            self.socket.listen(64)
        except OSError:
            self.socket.close()
            raise
        self.server_address = self.socket.getsockname()
        app = self.guard.wrap(build_app(applier, limits, metrics=metrics))
        self.server = uvicorn.Server(uvicorn.Config(
            app, http=self.guard.protocol(), lifespan="off", log_config=None, access_log=False,
            server_header=False, date_header=True, timeout_keep_alive=int(max(1, limits.idle_s)),
            timeout_graceful_shutdown=3, h11_max_incomplete_event_size=16 * 1024))
        self.thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> None:
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]},
                                       name="management-api", daemon=True)
        self.thread.start()
        for _ in range(int(timeout / 0.02)):
            if self.server.started or not self.thread.is_alive():
                break
            threading.Event().wait(0.02)
        if not self.server.started:
            raise OSError("the management API did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(10)
        self.socket.close()


def make_server(settings, applier: ConfigApplier | None = None, limits: Limits = LIMITS,
                metrics: AgentMetrics | None = None) -> ManagementServer:
    host, port = parse_listen(settings.management.listen)
    if host not in ("127.0.0.1", "::1", "localhost"):
        log.warning("management API listens on %s, beyond this machine: every request must be signed by a "
                    "trusted operator key%s, but keep it on a management network", settings.management.listen,
                    f" ({METRICS_PATH} aside: open, nothing personal)" if metrics is not None else "")
    on_flood, on_calm = flood_alarm(settings)
    return ManagementServer((host, port), applier or ConfigApplier(settings), limits,
                            on_flood=on_flood, on_calm=on_calm, metrics=metrics)


def serve(settings, stop: threading.Event, applier: ConfigApplier | None = None,
          ready: threading.Event | None = None, limits: Limits = LIMITS,
          metrics: AgentMetrics | None = None) -> None:
    """Serve until `stop` is set; meant for a thread of the agent (which passes its metrics)."""
    try:
        server = make_server(settings, applier, limits, metrics)
        server.start()
    except (OSError, ValueError) as exc:  # the agent keeps syncing; a technician sees why pushes fail
        log.error("management API not started ([management] listen = %r): %s", settings.management.listen, exc)
        return
    log.info("management API on %s:%d", *server.server_address[:2])
    if ready is not None:
        ready.set()
    try:
        stop.wait()
    finally:
        server.stop()
