"""Hostile-network limits of the kiosk's management API, around uvicorn's HTTP/1.1 (h11) server.

The API listens on the hall's network, where anyone can connect. What this
module makes sure of, before a request reaches a route (and so before
anything on the kiosk is read or written for it):

- the request is strict HTTP/1.1: h11 parses it (a bad `Content-Length` such
  as "²", a bad header line, a header block over 16 KiB: 400, connection
  closed, no traceback); header values must be printable ASCII; one
  Content-Length of ASCII digits; no Transfer-Encoding (411); a body over
  `max_body` is refused from its declared length, unread (413);
- a whole-request deadline: from the first byte of a request (or the
  connection's start) the head and the whole body must be in within
  `request_deadline_s`, else 408 and the connection is closed; a slow sender
  gains nothing by dribbling one byte at a time;
- at most `per_address` connections from one address and `total` in all;
  past that a connection gets 503 at once and is closed;
- refusals are counted per address: more than `refusals` 4xx answers within
  `window_s` and that address gets 429 with Retry-After, unread, until the
  window has passed; the first such flood raises the alarm
  `management:refusal_flood` (cleared by the next authenticated success; an
  answer on an open path such as `/metrics` is not one).

The limits live on one `Guard`, shared by the protocol (connections, deadline,
parse errors) and the ASGI middleware (headers, refusal counting). Everything
runs on the server's event loop thread; the alarm callbacks, which write to
the kiosk's database, run on a worker thread.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Callable

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

ALARM_DEVICE, ALARM_CODE = "management", "refusal_flood"
MAX_TRACKED_ADDRESSES = 4096
_DIGITS = re.compile(rb"[0-9]{1,12}")
_PRINTABLE = re.compile(rb"[\x20-\x7e\t]*")


@dataclass(frozen=True)
class Limits:
    max_body: int = 1024 * 1024
    request_deadline_s: float = 10.0   # head and body of one request, from its first byte
    per_address: int = 4               # open connections from one address
    total: int = 32                    # open connections in all
    refusals: int = 10                 # 4xx answers to one address within window_s before 429
    window_s: float = 60.0
    idle_s: float = 5.0                # a kept-alive connection with no next request


class RefusalLimiter:
    """Refusals per address in a sliding window; an address over the limit is told to wait."""

    def __init__(self, limits: Limits, now: Callable[[], float] = time.monotonic):
        self.limits = limits
        self.now = now
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, addr: str) -> deque[float] | None:
        times = self._seen.get(addr)
        if times is None:
            return None
        cutoff = self.now() - self.limits.window_s
        while times and times[0] <= cutoff:
            times.popleft()
        if not times:
            del self._seen[addr]
            return None
        return times

    def retry_after(self, addr: str) -> int | None:
        """Seconds this address must wait, or None when it may be heard."""
        times = self._recent(addr)
        if times is None or len(times) < self.limits.refusals:
            return None
        return max(1, int(times[-self.limits.refusals] + self.limits.window_s - self.now()) + 1)

    def refused(self, addr: str) -> bool:
        """Count one refusal; True when this one put the address over the limit."""
        times = self._recent(addr)
        if times is None:
            if len(self._seen) >= MAX_TRACKED_ADDRESSES:
                self._seen.popitem(last=False)
            times = self._seen[addr] = deque(maxlen=self.limits.refusals)
        self._seen.move_to_end(addr)
        times.append(self.now())
        return len(times) == self.limits.refusals

    def flooding(self) -> bool:
        return any(self.retry_after(a) is not None for a in list(self._seen))


class ConnectionBoard:
    """Open connections per address and in all."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.by_address: dict[str, int] = {}
        self.total = 0

    def admit(self, addr: str) -> str | None:
        """None when admitted (then `leave` once), else why not."""
        if self.total >= self.limits.total:
            return f"{self.total} connections are open; at most {self.limits.total}"
        if self.by_address.get(addr, 0) >= self.limits.per_address:
            return f"{self.by_address[addr]} connections from {addr} are open; at most {self.limits.per_address}"
        self.by_address[addr] = self.by_address.get(addr, 0) + 1
        self.total += 1
        return None

    def leave(self, addr: str) -> None:
        n = self.by_address.get(addr, 0) - 1
        if n > 0:
            self.by_address[addr] = n
        else:
            self.by_address.pop(addr, None)
        self.total = max(0, self.total - 1)


def refusal_body(code: str, reason: str) -> bytes:
    return json.dumps({"result": "rejected", "code": code, "reason": reason}, ensure_ascii=False).encode()


class Guard:
    """The limits and counters of one server; `protocol()` for uvicorn, `wrap(app)` for the routes."""

    def __init__(self, limits: Limits = Limits(), *, on_flood: Callable[[str], Any] | None = None,
                 on_calm: Callable[[], Any] | None = None, now: Callable[[], float] = time.monotonic,
                 open_paths: frozenset[str] = frozenset()):
        self.limits = limits
        self.open_paths = open_paths  # answered without authentication: a success there calms nothing
        self.limiter = RefusalLimiter(limits, now)
        self.board = ConnectionBoard(limits)
        self.on_flood = on_flood
        self.on_calm = on_calm
        self.alarm_up = False
        self.refusals = 0          # counters for the bench and the log
        self.held_peak = 0

    # -- refusals and the alarm (event loop thread) -----------------------------------------------
    def refused(self, addr: str) -> None:
        self.refusals += 1
        if self.limiter.refused(addr) and not self.alarm_up:
            self.alarm_up = True
            log.warning("management API: %d refusals to %s within %.0f s; refusing it for a while",
                        self.limits.refusals, addr, self.limits.window_s)
            self._off_loop(self.on_flood, f"{self.limits.refusals} refused requests from {addr} within "
                                          f"{self.limits.window_s:.0f} s; answered 429 since")

    def succeeded(self) -> None:
        if self.alarm_up and not self.limiter.flooding():
            self.alarm_up = False
            self._off_loop(self.on_calm)

    def _off_loop(self, fn: Callable | None, *args: Any) -> None:
        if fn is None:
            return

        def call() -> None:
            try:
                fn(*args)
            except Exception:  # the alarm is a report; the API goes on
                log.exception("management API: the refusal-flood alarm could not be recorded")
        try:
            asyncio.get_running_loop().run_in_executor(None, call)
        except RuntimeError:
            call()

    # -- the two layers --------------------------------------------------------------------------
    def protocol(self) -> type[H11Protocol]:
        uvicorn_log = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, QuietParseErrors) for f in uvicorn_log.filters):
            uvicorn_log.addFilter(QuietParseErrors())
        return type("GuardedH11Protocol", (GuardedH11Protocol,), {"guard": self})

    def wrap(self, app) -> "GuardMiddleware":
        return GuardMiddleware(app, self)


def check_head(method: str, headers: list[tuple[bytes, bytes]], limits: Limits) -> tuple[int, str, str] | None:
    """(status, code, reason) of a request head that is refused, else None."""
    lengths = []
    for name, value in headers:
        if not _PRINTABLE.fullmatch(value):
            return 400, "bad_header", f"header {name.decode('ascii', 'replace')}: only printable ASCII is accepted"
        if name == b"content-length":
            lengths.append(value)
        elif name == b"transfer-encoding":
            return 411, "length_required", "send the body with a Content-Length, not a Transfer-Encoding"
    if len(lengths) > 1:
        return 400, "bad_content_length", "more than one Content-Length"
    if lengths:
        if not _DIGITS.fullmatch(lengths[0]):
            return 400, "bad_content_length", "Content-Length must be ASCII digits"
        size = int(lengths[0])
        if size > limits.max_body:
            return 413, "too_large", f"{size} bytes; a signed bundle is at most {limits.max_body} bytes"
    elif method in ("POST", "PUT", "PATCH"):
        return 411, "length_required", "Content-Length is required"
    return None


class GuardMiddleware:
    """ASGI: refuse a flooding address and a bad head before the routes; count what the routes refuse."""

    def __init__(self, app, guard: Guard):
        self.app = app
        self.guard = guard

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        addr = (scope.get("client") or ("?", 0))[0]
        wait = self.guard.limiter.retry_after(addr)
        if wait is not None:
            return await self._reply(send, 429, "too_many_refusals",
                                     f"too many refused requests from {addr}; try again in {wait} s",
                                     [(b"retry-after", str(wait).encode())])
        refused = check_head(scope["method"], scope["headers"], self.guard.limits)
        if refused is not None:
            self.guard.refused(addr)
            return await self._reply(send, *refused)
        status: list[int] = []

        async def watch(message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        if status and 400 <= status[0] < 500:
            self.guard.refused(addr)
        elif status and status[0] < 300 and scope.get("path") not in self.guard.open_paths:
            self.guard.succeeded()

    @staticmethod
    async def _reply(send, status: int, code: str, reason: str,
                     extra: list[tuple[bytes, bytes]] = ()) -> None:
        body = refusal_body(code, reason)
        # the body was not read: the connection cannot carry another request
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close"), *extra]})
        await send({"type": "http.response.body", "body": body})


class QuietParseErrors(logging.Filter):
    """uvicorn logs each unparsable request; the guard counts them and logs a flood once instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Invalid HTTP request received."


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the connection caps, the whole-request deadline and JSON 400s."""

    guard: Guard

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._peer = (self.client or ("?", 0))[0]
        self._admitted = False
        self._deadline: asyncio.TimerHandle | None = None
        wait = self.guard.limiter.retry_after(self._peer)
        if wait is not None:  # a flooding address is not even parsed
            self._refuse(429, "too_many_refusals", f"too many refused requests from {self._peer}; try again in "
                                                   f"{wait} s", [b"retry-after: %d" % wait])
            return
        why = self.guard.board.admit(self._peer)
        if why is not None:
            self.guard.refused(self._peer)
            self._refuse(503, "too_many_connections", why, [b"retry-after: 10"])
            return
        self._admitted = True
        self.guard.held_peak = max(self.guard.held_peak, self.guard.board.total)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._admitted:
            self._admitted = False
            self.guard.board.leave(self._peer)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and not self.transport.is_closing():
            self._arm()  # the first byte of the next request on this connection
        super().data_received(data)

    def eof_received(self) -> bool | None:
        cycle = self.cycle
        working = cycle is not None and not cycle.response_complete
        if (working and cycle.more_body) or (not working and self.conn.trailing_data[0]):
            self._refuse(400, "truncated", "the connection was shut before the request was complete")
            return None
        return True if working else None  # a whole request still gets its answer on the half-open line

    def on_response_complete(self) -> None:
        self._disarm()  # from here the keep-alive idle timeout holds the connection
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        self.guard.refused(self._peer)
        self._refuse(400, "bad_request", "not a valid HTTP/1.1 request (request line, header lines or "
                                         "Content-Length)")

    # -- the deadline ----------------------------------------------------------------------------
    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.guard.limits.request_deadline_s, self._expired)

    def _disarm(self) -> None:
        if getattr(self, "_deadline", None) is not None:
            self._deadline.cancel()
            self._deadline = None

    def _arriving(self) -> bool:
        """The current request's head or body is still coming in."""
        cycle = self.cycle
        return cycle is None or cycle.response_complete or cycle.more_body

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or not self._arriving():
            return  # the request is in; the route is working on it
        self.guard.refused(self._peer)
        self._refuse(408, "request_timeout", f"the request did not arrive whole within "
                                             f"{self.guard.limits.request_deadline_s:g} s")

    def _refuse(self, status: int, code: str, reason: str, extra: list[bytes] = ()) -> None:
        """Answer and close, outside h11 (its state may be an error); nothing when a response began."""
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is None or cycle.response_complete or not cycle.response_started:
            body = refusal_body(code, reason)
            head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}".encode(), b"content-type: application/json",
                    b"content-length: %d" % len(body), b"connection: close", *extra]
            self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the route's answer, if any, would follow ours: drop it
            cycle.message_event.set()
        self.transport.close()
