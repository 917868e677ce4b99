"""The reference central platform as a real subprocess on a free loopback port, and a signing client.

`central` (one per test module and engine: a SQLite file, and a database on
the private PostgreSQL server of tests/pgcluster.py) provisions two kiosks and
an operator with the real `kiosk central add-*` commands, starts `kiosk
central`, waits for `/api/v1/health` (bounded), and stops the process by its
pid afterwards.
Tests post with fresh UUIDs and compare counts before and after, so they
share a server without depending on each other.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from kiosk.wire import auth
from tests.conftest import ENGINES, KIOSK, ROOT, run_kiosk

READY_TIMEOUT_S = 20
ENV_KEY_FILE = "KIOSK_CENTRAL_KEY_FILE"
TABLES = ("transactions", "transaction_conflicts", "heartbeats", "kiosk_status", "catalogs", "config_bundles",
          "document_downloads", "documents", "document_releases", "kiosks", "operators", "cases", "notices",
          "handins", "sms_queue")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def provision(db: Path, *args: str) -> dict:
    res = run_kiosk("central", *args, "--db", str(db), "--json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@dataclass
class Server:
    db: Path | str                # a SQLite file, or a postgresql:// URL
    port: int
    log: Path
    proc: subprocess.Popen | None = None
    args: tuple[str, ...] = ()   # more options of `kiosk central`
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = dict(os.environ, KIOSK_LOG_LEVEL="INFO", **self.env)
        self.proc = subprocess.Popen([str(KIOSK), "central", "--port", str(self.port), "--db", str(self.db),
                                      *self.args],
                                     cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                     stderr=self.log.open("ab"))
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kiosk central exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"kiosk central did not answer within {READY_TIMEOUT_S} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        code, self.proc = self.proc.returncode, None
        return code


@dataclass
class Central:
    """A running platform plus the principals provisioned on it."""

    server: Server
    secrets: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, name) -> secret
    _engine: object = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def db(self) -> Path | str:
        return self.server.db

    @property
    def engine_name(self) -> str:
        return "postgresql" if "://" in str(self.db) else "sqlite"

    def headers(self, method: str, path_qs: str, body: bytes = b"", *, kiosk: str | None = "k1",
                operator: str | None = None, secret: str | None = None, now: float | None = None,
                nonce: str | None = None) -> dict[str, str]:
        kind, name = ("operator", operator) if operator else ("kiosk", kiosk)
        secret = secret if secret is not None else self.secrets[(kind, name)]
        return auth.sign(secret, method, path_qs, name, body, operator=kind == "operator", now=now, nonce=nonce)

    def call(self, method: str, path_qs: str, body=None, *, raw: bytes | None = None, headers: dict | None = None,
             **signing) -> requests.Response:
        """A signed request; `raw` sends exact bytes, `headers` adds or overrides headers after signing."""
        data = raw if raw is not None else (b"" if body is None else json.dumps(body, ensure_ascii=False).encode())
        h = self.headers(method, path_qs, data, **signing)
        if data:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        return requests.request(method, self.url + path_qs, data=data or None, headers=h, timeout=10)

    def counts(self) -> dict[str, int]:
        from sqlalchemy import text

        from kiosk.central import database

        if self._engine is None:   # one for the module's platform: tests count around every request
            self._engine = database.open_engine(self.db, pool_size=1)
        with self._engine.connect() as conn:
            return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}

    def stop(self) -> int | None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        return self.server.stop()


def item(seq: int = 1, kind: str = "probe", **over) -> dict:
    doc = {"id": str(uuid.uuid4()), "seq": seq, "kind": kind, "occurred_at": "2026-11-22T09:30:00+08:00",
           "data": {"note": "test"}, "boot_id": "b1", "uptime_s": 12.5}
    doc.update(over)
    return doc


def catalog(version: str = "test-1", n: int = 2) -> dict:
    """A small valid catalog in the element set of DESIGN.md section 6."""
    items = []
    for i in range(n):
        items.append({
            "code": f"TEST-{i:04d}", "name": f"测试事项{i}", "department": "示例市测试局", "themes": ["测试"],
            "audience": "person", "kiosk_enabled": True, "conditions": "无", "materials": [
                {"name": "居民身份证", "required": True, "form": "original", "copies": 1}],
            "steps": [{"name": "申请", "description": "自助机提交"}],
            "time_limit": {"legal": {"value": 5, "unit": "working_days"}, "promised": {"value": 0, "unit": "immediate"}},
            "fees": [], "legal_basis": ["《测试条例》"], "location": "一楼", "hours": "24小时", "phone": "0000-1234567",
            "complaint_phone": "12345", "visits": 0, "faq": [{"q": "要钱吗？", "a": "免费。"}],
        })
    return {"version": version, "items": items}


def start_central(tmp: Path, *args: str, env: dict[str, str] | None = None, db: Path | str | None = None) -> Central:
    """The platform on `db` (default: a SQLite file in `tmp`); a postgresql:// URL needs
    $KIOSK_CENTRAL_KEY_FILE set (the `central` fixture does)."""
    db = db or tmp / "central.db"
    c = Central(Server(db, free_port(), tmp / "central.log", args=args, env=env or {}))
    for k in ("k1", "k2"):
        c.secrets[("kiosk", k)] = provision(db, "add-kiosk", k)["secret"]
    c.secrets[("operator", "op")] = provision(db, "add-operator", "op")["secret"]
    c.server.start()
    return c


@contextmanager
def platform_key_env(key: Path):
    """$KIOSK_CENTRAL_KEY_FILE for a PostgreSQL platform: the server, its commands and in-process CentralDBs
    read it (a module-wide setting; monkeypatch is per test)."""
    old = os.environ.get(ENV_KEY_FILE)
    os.environ[ENV_KEY_FILE] = str(key)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(ENV_KEY_FILE, None)
        else:
            os.environ[ENV_KEY_FILE] = old


@pytest.fixture(scope="module", params=ENGINES)
def central(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("central")
    if request.param == "sqlite":
        c = start_central(tmp)
        yield c
        c.stop()
        return
    with platform_key_env(tmp / "central.key"):
        c = start_central(tmp, db=request.getfixturevalue("pg_cluster").fresh())
        yield c
        c.stop()
