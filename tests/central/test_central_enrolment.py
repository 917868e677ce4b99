"""Enrolment tokens (kiosk/wire/enrolment.py, kiosk/central/enrolment.py): a kiosk exchanges its one-time
token for its secret, once; wrong, used and expired tokens are refused alike, five wrong tries void a
token, two workers given one token at once give out one secret. On both engines; the route through the
real platform on loopback."""
from __future__ import annotations

import json

import pytest
import requests

from kiosk.central import enrolment
from kiosk.central.db import CentralDB, ProvisioningError
from kiosk.wire.enrolment import MAX_FAILURES, PATH, looks_like_token, new_token, normalize
from tests.conftest import run_kiosk, together


class Clock:
    def __init__(self, t: float = 1_800_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_a_token_is_a_hundred_random_bits_a_person_can_type():
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    for t in tokens:
        assert looks_like_token(t) and len(t) == 23 and t.count("-") == 3
        assert not set(t.replace("-", "")) & set("ILOU")
    t = "7KQ2M-XR4TD-9HWJP-C3V8N"
    assert normalize("7kq2m xr4td 9hwjp c3v8n") == t == normalize("7KQ2MXR4TD9HWJPC3V8N")
    assert normalize("O0IL1-XR4TD-9HWJP-C3V8N") == "00111-XR4TD-9HWJP-C3V8N"   # read as the digits they look like


def test_a_token_gives_the_kiosk_a_new_secret_once(platform_db):
    clock = Clock()
    with CentralDB(platform_db, clock=clock) as db:
        first, _ = db.add_kiosk("hall-03-k07")
        issued = enrolment.issue(db, "hall-03-k07")
        assert issued.expires_at == clock.t + enrolment.DEFAULT_VALID_S
        secret = enrolment.exchange(db, "hall-03-k07", issued.token.lower().replace("-", " "))
        assert secret and secret != first and db.secret_of("kiosk", "hall-03-k07") == secret
        assert enrolment.exchange(db, "hall-03-k07", issued.token) is None           # used up
        with pytest.raises(ProvisioningError, match="not provisioned"):
            enrolment.issue(db, "hall-09-k01")


def test_wrong_tries_void_a_token_and_an_expired_one_is_refused(platform_db):
    clock = Clock()
    with CentralDB(platform_db, clock=clock) as db:
        db.add_kiosk("k7")
        issued = enrolment.issue(db, "k7")
        for _ in range(MAX_FAILURES - 1):
            assert enrolment.exchange(db, "k7", new_token()) is None
        again = enrolment.issue(db, "k7")                 # a new token starts the count again
        assert enrolment.exchange(db, "k7", issued.token) is None     # the earlier one is void: a wrong try
        for _ in range(MAX_FAILURES - 2):
            assert enrolment.exchange(db, "k7", new_token()) is None
        assert enrolment.exchange(db, "k7", again.token) is not None  # four wrong tries: still good

        late = enrolment.issue(db, "k7", valid_s=3600)
        clock.t += 3601
        assert enrolment.exchange(db, "k7", late.token) is None

        voided = enrolment.issue(db, "k7")
        for _ in range(MAX_FAILURES):
            assert enrolment.exchange(db, "k7", new_token()) is None
        assert enrolment.exchange(db, "k7", voided.token) is None     # the fifth wrong try voided it


def test_two_workers_given_one_token_at_once_give_out_one_secret(platform_db):
    with CentralDB(platform_db) as db:
        db.add_kiosk("k7")
        token = enrolment.issue(db, "k7").token
    results = together([CentralDB(platform_db) for _ in range(4)],
                       lambda db, i: enrolment.exchange(db, "k7", token), teardown=lambda db: db.close())
    given = [r for r in results if r is not None]
    assert len(given) == 1
    with CentralDB(platform_db) as db:
        assert db.secret_of("kiosk", "k7") == given[0]


def test_the_platform_gives_the_secret_over_http_and_refuses_the_rest_in_the_same_words(central):
    made = run_kiosk("central", "add-kiosk", "hall-03-k09", "--enrolment-token", "--db", str(central.db), "--json")
    assert made.returncode == 0, made.stderr
    doc = json.loads(made.stdout)
    assert doc["created"] and looks_like_token(doc["enrolment_token"]) and "secret" not in doc
    url = central.url + PATH

    r = requests.post(url, json={"kiosk_id": "hall-03-k09", "token": doc["enrolment_token"]}, timeout=10)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store", r.text
    secret = r.json()["secret"]
    central.secrets[("kiosk", "hall-03-k09")] = secret
    beat = central.call("POST", "/api/v1/kiosks/hall-03-k09/heartbeat",
                        {"kiosk_id": "hall-03-k09", "sent_at": "2026-12-07T10:00:00+08:00", "devices": [],
                         "queue_depth": 0, "software_version": "0.1.0"}, kiosk="hall-03-k09")
    assert beat.status_code == 200, beat.text            # the secret it was given signs its requests

    refusals = [requests.post(url, json=body, timeout=10) for body in (
        {"kiosk_id": "hall-03-k09", "token": doc["enrolment_token"]},        # used
        {"kiosk_id": "hall-03-k09", "token": new_token()},                   # wrong
        {"kiosk_id": "nobody", "token": new_token()})]                      # no such kiosk
    assert [x.status_code for x in refusals] == [401, 401, 401]
    assert {x.json()["error"] for x in refusals} == {"enrolment_refused"}
    words = {x.json()["message"].replace("nobody", "hall-03-k09") for x in refusals}
    assert len(words) == 1 and "--enrolment-token" in words.pop()
    assert requests.post(url, json={"kiosk_id": "k", "token": "x"}, timeout=10).status_code == 422
    assert requests.post(url, data=b"x" * 5000, headers={"Content-Type": "application/json"},
                         timeout=10).status_code == 413
    log = central.server.log.read_text()
    assert doc["enrolment_token"] not in log and secret not in log
