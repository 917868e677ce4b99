"""A loopback HTTP proxy for tests that puts faults between the kiosk and the real central platform.

Each request the kiosk sends takes the next action from `plan` (then `default`):
    "pass"                forward, return the answer
    "drop"                forward (the platform stores the batch), then cut the connection unanswered
    ("delay", s)          forward, hold the answer s seconds (longer than the kiosk's timeout)
    ("status", code, hdr) answer `code` itself with extra headers, without forwarding
A request whose body contains `refuse_marker` is answered 422 for the whole request (a platform that
validates batches as a whole), whatever the plan.
Upstream requests get `Connection: close`, so each answer ends when the platform closes.
"""
from __future__ import annotations

import socket
import threading
import time


class FaultProxy:
    def __init__(self, upstream_port: int, plan=(), default="pass", refuse_marker: bytes | None = None):
        self.upstream = ("127.0.0.1", upstream_port)
        self.plan = list(plan)
        self.default = default
        self.refuse_marker = refuse_marker
        self.log: list[tuple[float, str, str]] = []  # (time, request line, action)
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.closed.set()
        self.sock.close()

    def requests_to(self, path: str) -> list[str]:
        with self.lock:
            return [a for _, line, a in self.log if path in line]

    def _next(self):
        with self.lock:
            return self.plan.pop(0) if self.plan else self.default

    def _accept(self):
        while not self.closed.is_set():
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket):
        client.settimeout(30)
        buf = b""
        try:
            while True:
                request, buf = _read_request(client, buf)
                if request is None:
                    return
                head, body = request
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                action = self._next()
                if self.refuse_marker and self.refuse_marker in body:
                    action = ("status", 422)
                with self.lock:
                    self.log.append((time.monotonic(), line, str(action)))
                if isinstance(action, tuple) and action[0] == "status":
                    extra = "".join(f"{k}: {v}\r\n" for k, v in (action[2] if len(action) > 2 else {}).items())
                    payload = b'{"error":"injected","message":"injected by the test proxy"}'
                    client.sendall(f"HTTP/1.1 {action[1]} Injected\r\nContent-Type: application/json\r\n"
                                   f"Content-Length: {len(payload)}\r\n{extra}Connection: close\r\n\r\n".encode()
                                   + payload)
                    return
                answer = self._forward(head, body)
                if action == "drop":
                    client.shutdown(socket.SHUT_RDWR)
                    return
                if isinstance(action, tuple) and action[0] == "delay":
                    time.sleep(action[1])
                client.sendall(answer)
                return  # the answer says Connection: close
        except OSError:
            return
        finally:
            client.close()

    def _forward(self, head: bytes, body: bytes) -> bytes:
        lines = [l for l in head.split(b"\r\n") if not l.lower().startswith(b"connection:")]
        head = b"\r\n".join(lines) + b"\r\nConnection: close"
        with socket.create_connection(self.upstream, timeout=30) as up:
            up.sendall(head + b"\r\n\r\n" + body)
            chunks = []
            while True:
                c = up.recv(65536)
                if not c:
                    break
                chunks.append(c)
        answer = b"".join(chunks)
        # the kiosk must close too: it will see this answer's connection end
        h, _, rest = answer.partition(b"\r\n\r\n")
        h = b"\r\n".join(l for l in h.split(b"\r\n") if not l.lower().startswith(b"connection:"))
        return h + b"\r\nConnection: close\r\n\r\n" + rest


def _read_request(sock: socket.socket, buf: bytes):
    while b"\r\n\r\n" not in buf:
        c = sock.recv(65536)
        if not c:
            return None, b""
        buf += c
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(rest) < length:
        c = sock.recv(65536)
        if not c:
            return None, b""
        rest += c
    return (head, rest[:length]), rest[length:]
