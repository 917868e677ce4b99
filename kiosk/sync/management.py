"""The kiosk's management API, served by the agent on `[management] listen` (loopback by default).

    POST /api/v1/config   body: a signed bundle or key rotation (the JSON `kiosk config sign` writes)
                          200 {"result": "applied|unchanged|rotated", ...}
                          422 {"result": "rejected|rolled_back", "code", "reason", ...}
                          411 without Content-Length, 413 over the size limit (refused before a byte is read)
    GET  /api/v1/config   the config status (`kiosk config status --json`)

Who may push: whoever holds a trusted operator key. The bundle's own signature
is the authority, checked by the same `ConfigApplier.apply_bytes` as a bundle
from a file or from the fleet; a body that is not signed by a trusted key
changes nothing, and a replay of a signed one is refused by its version. So
no second secret is kept on the kiosk for this API. Rejections raise the
`config:rejected` alarm once (kiosk.core.alarms), so a stream of bad bodies is
one alarm, not a flood. Bodies are read with a deadline so a slow sender
cannot hold a thread.
"""
from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kiosk.sync import bundle
from kiosk.sync.config_apply import ConfigApplier

log = logging.getLogger(__name__)

PATH = "/api/v1/config"
READ_TIMEOUT_S = 15.0


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT` or `[IPv6]:PORT` of `[management] listen`."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"[management] listen = {text!r}: expected HOST:PORT, e.g. 127.0.0.1:8701")
    return host.strip("[]") or "127.0.0.1", int(port)


class _Handler(BaseHTTPRequestHandler):
    server: "ManagementServer"
    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT_S  # an idle or slow connection is dropped, not kept on a thread for ever
    server_version = "kiosk-management"
    sys_version = ""

    def log_message(self, fmt: str, *args: Any) -> None:
        log.debug("management: %s %s", self.client_address[0], fmt % args)

    def _send(self, status: int, doc: dict[str, Any], close: bool = False) -> None:
        body = json.dumps(doc, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, code: str, message: str) -> None:
        # the body was not (fully) read: the connection cannot carry another request
        self._send(status, {"result": "rejected", "code": code, "reason": message}, close=True)

    def do_GET(self) -> None:
        if self.path.split("?")[0] != PATH:
            return self._error(404, "not_found", f"no such path; the config lives at {PATH}")
        self._send(200, self.server.applier.status())

    def do_POST(self) -> None:
        if self.path.split("?")[0] != PATH:
            return self._error(404, "not_found", f"no such path; POST a signed bundle to {PATH}")
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._error(411, "length_required", "send the bundle with a Content-Length, not chunked")
        declared = self.headers.get("Content-Length")
        if declared is None:
            return self._error(411, "length_required", "Content-Length is required")
        if not declared.isdigit():
            return self._error(400, "bad_request", "Content-Length is not a number")
        size = int(declared)
        if size > self.server.limit:
            log.warning("management: %s sent a %d-byte body; refused unread", self.client_address[0], size)
            return self._error(413, "too_large", f"{size} bytes; a signed bundle is at most {self.server.limit} bytes")
        try:
            body = self.rfile.read(size)
        except OSError:
            body = b""
        if len(body) < size:
            return self._error(400, "truncated", f"the body ended after {len(body)} of {size} bytes")
        outcome = self.server.applier.apply_bytes(body, source=f"management API ({self.client_address[0]})")
        self._send(200 if outcome.ok else 422, outcome.as_dict())

    def _not_allowed(self) -> None:
        self._error(405, "method_not_allowed", f"use POST {PATH} (a signed bundle) or GET {PATH} (status)")

    do_PUT = do_DELETE = do_PATCH = _not_allowed


class ManagementServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], applier: ConfigApplier, limit: int = bundle.MAX_ENVELOPE_BYTES):
        if ":" in address[0]:
            import socket
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        self.applier = applier
        self.limit = limit


def make_server(settings, applier: ConfigApplier | None = None) -> ManagementServer:
    host, port = parse_listen(settings.management.listen)
    if host not in ("127.0.0.1", "::1", "localhost"):
        log.warning("management API listens on %s, beyond this machine: only signed bundles are accepted, "
                    "but keep it on a management network", settings.management.listen)
    return ManagementServer((host, port), applier or ConfigApplier(settings))


def serve(settings, stop: threading.Event, applier: ConfigApplier | None = None,
          ready: threading.Event | None = None) -> None:
    """Serve until `stop` is set; meant for a thread of the agent."""
    try:
        server = make_server(settings, applier)
    except (OSError, ValueError) as exc:  # the agent keeps syncing; a technician sees why pushes fail
        log.error("management API not started ([management] listen = %r): %s", settings.management.listen, exc)
        return
    worker = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5},
                              name="management-api", daemon=True)
    worker.start()
    log.info("management API on %s:%d", *server.server_address[:2])
    if ready is not None:
        ready.set()
    try:
        stop.wait()
    finally:
        server.shutdown()
        server.server_close()
