"""A real HTTP server on 127.0.0.1 for the gateway tests: each request goes to `handle(Request)`, whose
`Reply` is sent back. A handler may wait on `server.release` to hold its answer (a timeout); `close()`
releases it and stops the server."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

MAX_BODY = 1 << 20


@dataclass
class Request:
    method: str
    target: str                  # the request target as sent: path and query
    headers: dict[str, str]      # names lower case
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: Any = field(default_factory=dict)   # bytes as they are, anything else as JSON
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class LoopbackServer:
    def __init__(self, handle: Callable[[Request], Reply]):
        self.handle = handle
        self.requests: list[Request] = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, MAX_BODY))
                request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                server.requests.append(request)
                reply = server.handle(request)
                data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
