"""The REAL central platform in a subprocess, and a kiosk config that uses it (helpers of the sync tests).

Nothing here imitates the platform: the tests that need one start `kiosk central`
on a free loopback port and stop it by pid afterwards.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

from tests.conftest import DEFAULT_CONFIG, KIOSK, ROOT, run_kiosk, write_config  # noqa: F401 (re-exported)

KIOSK_ID = "test-hall-k07"
SECRET = "test-secret-for-k07-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Central:
    """`kiosk central` in a subprocess, with one provisioned kiosk."""

    def __init__(self, workdir: Path, port: int | None = None, *, kiosk_id: str = KIOSK_ID, secret: str = SECRET,
                 seed_hash_key: str | None = None, db: Path | str | None = None):
        """`seed_hash_key`: also load the demo catalog and documents, released to the demo card holder
        hashed with that key (`kiosk central seed`). `db`: a SQLite file (default central.db in `workdir`)
        or a postgresql:// URL (with $KIOSK_CENTRAL_KEY_FILE set: tests/conftest.py `platform_db`)."""
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.db = db or self.dir / "central.db"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = self.dir / "central.log"
        r = run_kiosk("central", "add-kiosk", kiosk_id, "--secret", secret, "--db", str(self.db), "--json")
        assert r.returncode == 0, r.stderr
        if seed_hash_key is not None:
            r = run_kiosk("central", "seed", "--db", str(self.db), "--hash-key", seed_hash_key)
            assert r.returncode == 0, r.stderr

    def start(self, timeout: float = 20) -> "Central":
        env = dict(os.environ, KIVY_NO_ARGS="1")
        self.proc = subprocess.Popen([str(KIOSK), "central", "--host", "127.0.0.1", "--port", str(self.port),
                                      "--db", str(self.db)], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=self.log.open("ab"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kiosk central exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                requests.get(self.url + "/api/v1/health", timeout=0.5)
                return self
            except requests.RequestException:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"kiosk central did not answer within {timeout} s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.proc = None

    def export(self) -> list[dict]:
        r = run_kiosk("central", "export", "--kiosk", KIOSK_ID, "--db", str(self.db), "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)["transactions"]

    def stored_ids(self) -> list[str]:
        return [t["id"] for t in self.export()]


def kiosk_config(directory: Path, url: str, **sync) -> Path:
    """The default config pointed at `url` as kiosk KIOSK_ID, with `[sync]` keys for a quick test."""
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    text = re.sub(r"(?ms)^\[sync\]\n.*?(?=^\[|\Z)", "", text)
    keys = {"start_jitter_s": 0.0, "interval_s": 0.2, "backoff_base_s": 0.05, "backoff_cap_s": 0.5,
            "heartbeat_interval_s": 1.0} | sync
    text += "\n[sync]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items())
    return write_config(directory, text, **{
        r'^id = .*$': f'id = "{KIOSK_ID}"',
        r'^url = "http://127\.0\.0\.1:8700"': f'url = "{url}"',
        r'^secret = .*$': f'secret = "{SECRET}"',
        r'^listen = .*$': f'listen = "127.0.0.1:{free_port()}"',  # the agent's management API, not 8701
    })
