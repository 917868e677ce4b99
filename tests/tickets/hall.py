"""The REAL reference platform in a subprocess with the demo hall seeded, for the ticket tests.

`kiosk central` on a free loopback port (tests/sync/centralproc.py), on a SQLite file or a PostgreSQL database,
its database seeded with `kiosk central seed --hall-kiosk` (the test kiosk stands in the demo
hall), the demo queue's clock set with `kiosk central queue-clock` (a Monday morning, whatever the hour the test
runs at), an operator to read the queue back with. Stopped by pid afterwards.
"""
from __future__ import annotations

import json
from pathlib import Path

import requests

from kiosk.sync.client import CentralClient
from kiosk.wire import auth
from tests.sync.centralproc import KIOSK_ID, SECRET, Central, run_kiosk

OPERATOR, OPERATOR_SECRET = "ops-tickets", "operator-secret-for-tickets-0123456789"
HASH_KEY = "demo-deployment-key-change-me-000000"
MONDAY_0900 = "2026-05-18T09:00:00+08:00"


class TicketHall(Central):
    def __init__(self, workdir: Path, queue_time: str = MONDAY_0900, kiosk_id: str = KIOSK_ID, secret: str = SECRET,
                 db: Path | str | None = None):
        super().__init__(workdir, kiosk_id=kiosk_id, secret=secret, db=db)
        self.kiosk_id, self.secret = kiosk_id, secret
        self.queue_clock("--set", queue_time)
        r = run_kiosk("central", "seed", "--db", str(self.db), "--hash-key", HASH_KEY, "--hall-kiosk", kiosk_id,
                      "--json")
        assert r.returncode == 0, r.stderr
        self.seeded = json.loads(r.stdout)
        r = run_kiosk("central", "add-operator", OPERATOR, "--secret", OPERATOR_SECRET, "--db", str(self.db))
        assert r.returncode == 0, r.stderr

    def queue_clock(self, *args: str) -> dict:
        r = run_kiosk("central", "queue-clock", *args, "--db", str(self.db), "--json", process=True)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def client(self, kiosk_id: str | None = None, secret: str | None = None) -> CentralClient:
        return CentralClient(self.url, kiosk_id or self.kiosk_id, secret or self.secret, timeout_s=5,
                             lookup_timeout_s=5)

    def operator(self, method: str, path: str, body=None) -> requests.Response:
        data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = auth.sign(OPERATOR_SECRET, method, path, OPERATOR, data, operator=True)
        if body is not None:
            headers["Content-Type"] = "application/json"
        return requests.request(method, self.url + path, data=data or None, headers=headers, timeout=5)

    def tickets(self, day: str = "2026-05-18") -> dict:
        r = self.operator("GET", f"/api/v1/halls/demo-hall/tickets?day={day}")
        assert r.status_code == 200, r.text
        return r.json()
