"""A stand-in for the platform's case look-up on loopback, for the kiosk-side tests.

It answers `GET /api/v1/kiosks/{kiosk_id}/cases/{case_number}` as docs/central-api.md and
DESIGN.md section 5 define it: the request must be signed with the kiosk's secret (401
otherwise, 403 for another kiosk's path), 200 with the case's JSON, 404 with the error body
`{"error": "not_found", ...}` for a case it does not hold. `delay_s` holds every answer (a slow
network); `answers` overrides the body of a case (a platform that answers something else): the
faults the reference platform (kiosk/central/routes/cases.py, tested with the kiosk in
tests/pickup/test_pickup_loop.py) does not make on purpose.
"""
from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kiosk.wire import auth

ROUTE = re.compile(r"^/api/v1/kiosks/([^/?]+)/cases/([^/?]+)$")


def demo_case(case_number: str = "BJ2026-0001", **over) -> dict:
    doc = {"case_number": case_number, "item_name": "不动产权证书", "needs_id_card": True, "hold_days": 5,
           "holder_hash": None, "phone_masked": "138****1234", "state": "awaiting_deposit", "handins": 0}
    doc.update(over)
    return doc


class CasePlatform:
    def __init__(self, kiosk_id: str, secret: str, cases: dict[str, dict] | None = None, delay_s: float = 0.0):
        self.kiosk_id, self.secret = kiosk_id, secret
        self.cases = dict(cases or {})
        self.answers: dict[str, bytes] = {}
        self.delay_s = delay_s
        self.seen: list[tuple[str, int]] = []     # (path, status) of each request
        self.release = threading.Event()          # set: held answers go out now
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_a):   # quiet
                pass

            def do_GET(self):
                status, body = platform._answer(self.path, self.headers)
                if platform.delay_s:
                    platform.release.wait(platform.delay_s)
                platform.seen.append((self.path, status))
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:   # the kiosk gave up waiting
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def _answer(self, path: str, headers) -> tuple[int, bytes]:
        def error(status: int, code: str, message: str) -> tuple[int, bytes]:
            return status, json.dumps({"error": code, "message": message}).encode()
        try:
            claimed = auth.parse_headers(headers)
            auth.verify(self.secret, claimed, "GET", path, b"", now=time.time())
        except auth.AuthError as exc:
            return error(401, "unauthenticated", str(exc))
        m = ROUTE.match(path)
        if not m:
            return error(404, "not_found", "no such route")
        kiosk_id, case_number = m.groups()
        if kiosk_id != claimed.principal or kiosk_id != self.kiosk_id:
            return error(403, "forbidden", "another kiosk's cases")
        if case_number in self.answers:
            return 200, self.answers[case_number]
        if case_number not in self.cases:
            return error(404, "not_found", f"no case {case_number}")
        return 200, json.dumps(self.cases[case_number], ensure_ascii=False).encode()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    """A loopback URL where nothing listens: the platform is down (the connection is refused at once)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"
