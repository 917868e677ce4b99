"""The console against the real platform: a `kiosk central` subprocess on loopback with two halls, a kiosk in
each, and one account of each role, made with the real `kiosk central add-user`.

`console` is one platform per test module and engine (SQLite, and PostgreSQL on the private server of
tests/pgcluster.py). Tests sign in over HTTP with `requests` (tests/console/test_console_security.py) or
in Debian's chromium through Selenium (tests/console/test_console_browser.py).
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
import requests

from kiosk.central.demo_hall import definition
from tests.central.conftest import Central, item, platform_key_env, start_central
from tests.conftest import ENGINES, run_kiosk

PASSWORD = "correct horse battery staple"
ACCOUNTS = {"ops": ("operator", None), "staff-a": ("staff", "hall-a"), "staff-b": ("staff", "hall-b"),
            "audit": ("auditor", None)}
HALLS = {"hall-a": ("一号政务服务中心", ["k1"]), "hall-b": ("二号政务服务中心", ["k2"])}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Console:
    central: Central

    @property
    def url(self) -> str:
        return self.central.url

    def sign_in(self, name: str, password: str = PASSWORD) -> requests.Session:
        """A browser-like session signed in as `name` (asserts that it worked)."""
        s = requests.Session()
        s.get(self.url + "/console/login", timeout=10)
        r = s.post(self.url + "/console/login", timeout=10, data={
            "name": name, "password": password, "csrf": s.cookies.get("kiosk_console_login"),
            "next": "/console/fleet"})
        assert r.status_code == 200 and r.url.endswith("/console/fleet"), (r.status_code, r.url, r.text[:500])
        return s

    def csrf(self, session: requests.Session) -> str:
        return CSRF.search(session.get(self.url + "/console/fleet", timeout=10).text).group(1)

    def heartbeat(self, kiosk: str, devices: list[dict] | None = None, **over) -> None:
        beat = {"kiosk_id": kiosk, "db_uuid": "db-" + kiosk, "sent_at": "2026-12-07T20:00:00+08:00",
                "software_version": "0.1.0", "config_version": None, "queue_depth": 0, "oldest_pending_age_s": None,
                "devices": devices if devices is not None else [
                    {"name": "locker", "driver": "lock8a", "state": "online", "detail": ""}],
                "alarms": []}
        beat.update(over)
        r = self.central.call("POST", f"/api/v1/kiosks/{kiosk}/heartbeat", beat, kiosk=kiosk)
        assert r.status_code == 200, r.text

    def send(self, kiosk: str, *items: dict) -> None:
        r = self.central.call("POST", "/api/v1/transactions", {"kiosk_id": kiosk, "items": list(items)},
                              kiosk=kiosk)
        assert r.status_code == 200 and all(x["status"] == "accepted" for x in r.json()["results"]), r.text

    def raise_alarm(self, kiosk: str, device: str = "locker", code: str = "door_left_open:3",
                    severity: str = "fault", detail: str = "door 3 is open; close it") -> str:
        raised = item(seq=_seq(), kind="alarm", data={"device": device, "code": code, "state": "raised",
                                                        "severity": severity, "detail": detail})
        self.send(kiosk, raised)
        return raised["id"]

    def clear_alarm(self, kiosk: str, raised_id: str, device: str = "locker", code: str = "door_left_open:3") -> None:
        self.send(kiosk, item(seq=_seq(), kind="alarm", data={
            "device": device, "code": code, "state": "cleared", "severity": "fault", "detail": None,
            "raised_id": raised_id}))

    def rate(self, kiosk: str, level: int, service: str = "pickup", reasons: list[str] | tuple[str, ...] = ()) -> str:
        """A citizen's rating (kiosk/core/rating.py) of `service` at `kiosk`, given now; its transaction id."""
        keys = {5: "very_satisfied", 4: "satisfied", 3: "fairly_satisfied", 2: "dissatisfied", 1: "very_dissatisfied"}
        rated = item(seq=_seq(), kind="rating", occurred_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     data={"service": service, "service_transaction_id": new_id(), "level": level,
                           "level_key": keys[level], "reasons": list(reasons)})
        self.send(kiosk, rated)
        return rated["id"]


    def call_staff(self, kiosk: str, screen: str = "pickup", hall_name: str = "示例政务服务中心",
                   ago_s: float = 0) -> str:
        """A citizen's "Call staff" (kiosk/core/help.py) at `kiosk` on `screen`, `ago_s` before now; its
        transaction id."""
        at = datetime.now(timezone.utc) - timedelta(seconds=ago_s)
        called = item(seq=_seq(), kind="help", occurred_at=at.isoformat(timespec="seconds"),
                      data={"screen": screen, "hall": hall_name})
        self.send(kiosk, called)
        return called["id"]


_counter = iter(range(1000, 10**9))


def _seq() -> int:
    return next(_counter)


def make_console(central: Central) -> Console:
    for hall, (name, kiosks) in HALLS.items():
        body = definition().model_dump(mode="json")
        body.update(name=name, kiosks=kiosks)
        r = central.call("PUT", f"/api/v1/halls/{hall}", body, operator="op")
        assert r.status_code == 200, r.text
    for name, (role, hall) in ACCOUNTS.items():
        args = ["central", "add-user", name, "--role", role, "--password-stdin", "--db", str(central.db)]
        res = run_kiosk(*args, *(["--hall", hall] if hall else []), input=PASSWORD + "\n")
        assert res.returncode == 0, res.stderr
    return Console(central)


@pytest.fixture(scope="module", params=ENGINES)
def console(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("console")
    if request.param == "sqlite":
        c = start_central(tmp)
        try:
            yield make_console(c)
        finally:
            c.stop()
        return
    with platform_key_env(tmp / "central.key"):
        c = start_central(tmp, db=request.getfixturevalue("pg_cluster").fresh())
        try:
            yield make_console(c)
        finally:
            c.stop()


def new_id() -> str:
    return str(uuid.uuid4())
