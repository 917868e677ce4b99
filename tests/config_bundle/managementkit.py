"""Helpers of the management API tests: a live server on loopback, raw sockets, signed reads, disk snapshots."""
from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from kiosk import config
from kiosk.store import Store
from kiosk.sync import management, operator_auth
from kiosk.sync.config_apply import ConfigApplier
from kiosk.sync.http_guard import Limits
from kiosk.sync.metrics import AgentMetrics
from tests.config_bundle.bundlekit import DAY, make_kiosk, signed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_api(directory: Path, limits: Limits | None = None):
    """A kiosk (bundlekit) with its management API served as the agent serves it (with its `/metrics`), until
    the block ends."""
    port = free_port()
    kiosk = make_kiosk(directory, **{r'^listen = .*$': f'listen = "127.0.0.1:{port}"'})
    settings = config.load(kiosk.config)
    stop, ready = threading.Event(), threading.Event()
    kw = {"ready": ready, "applier": ConfigApplier(settings),
          "metrics": AgentMetrics(settings.kiosk.id, Store.from_settings(settings).connect)}
    if limits is not None:
        kw["limits"] = limits
    worker = threading.Thread(target=management.serve, args=(settings, stop), kwargs=kw, daemon=True)
    worker.start()
    assert ready.wait(10)
    kiosk.base = f"http://127.0.0.1:{port}"
    kiosk.url = kiosk.base + management.PATH
    kiosk.port = port
    kiosk.dir = directory
    try:
        yield kiosk
    finally:
        stop.set()
        worker.join(15)
        assert not worker.is_alive()


def fresh(kiosk, version, **kw):
    now = time.time()
    return signed(kiosk.key, version, issued=now, expires=now + 30 * DAY, **kw)


def signed_get(kiosk, path: str = management.PATH, key=None) -> requests.Response:
    headers = operator_auth.sign_request(key or kiosk.key, "GET", path)
    return requests.get(kiosk.base + path, headers=headers, timeout=10)


def raw_request(port: int, head: bytes, body: bytes = b"", shut: bool = False, source: str | None = None,
                timeout: float = 10) -> bytes:
    with connect(port, source, timeout) as s:
        s.sendall(head + body)
        if shut:
            s.shutdown(socket.SHUT_WR)
        return read_all(s)


def connect(port: int, source: str | None = None, timeout: float = 10) -> socket.socket:
    s = socket.socket()
    s.settimeout(timeout)
    if source:
        s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_all(s: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            data = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def disk(root: Path, skip=("kiosk.db",)) -> dict[str, tuple[int, int]]:
    """Every file under root with its size and mtime (the store's files left out when `skip` names them)."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.name.startswith(skip):
            st = p.stat()
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


class DiskSpy:
    """Counts os.fsync and os.replace calls anywhere in this process (the server runs in a thread of it)."""

    def __init__(self, monkeypatch):
        self.calls: list[str] = []
        real_fsync, real_replace = os.fsync, os.replace

        def fsync(fd):
            self.calls.append("fsync")
            return real_fsync(fd)

        def replace(a, b, **kw):
            self.calls.append(f"replace {b}")
            return real_replace(a, b, **kw)
        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "replace", replace)
