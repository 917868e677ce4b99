"""`kiosk central --workers 2`: workers side by side on one database, killed with SIGKILL under load, lose
nothing acknowledged and store nothing twice; liveness, readiness and metrics summed over the workers."""
from __future__ import annotations

import http.client
import json
import os
import signal
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from kiosk.central.db import CentralDB
from tests.central.conftest import Central, Server, free_port, item, platform_key_env
from tests.conftest import ENGINES

WAIT_S = 60   # a replaced worker starts in 5-15 s on a busy 2-core machine


def workers_of(pid: int) -> list[int]:
    """The server's worker processes: its children running uvicorn's spawned worker (not a helper)."""
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            except FileNotFoundError:
                continue
            if b"multiprocessing.spawn" in cmdline and b"resource_tracker" not in cmdline:
                out.append(int(child))
    return sorted(out)


def wait_for_workers(pid: int, n: int, not_in: set[int] = frozenset()) -> list[int]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = [w for w in workers_of(pid) if w not in not_in]
        if len(found) >= n:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{n} workers did not come up within {WAIT_S} s: {workers_of(pid)}")


@pytest.fixture(scope="module", params=ENGINES)
def two_workers(request, tmp_path_factory):
    """One server with two workers per engine for this module (a worker starts in seconds); each test
    uses kiosks of its own."""
    tmp_path = tmp_path_factory.mktemp("workers")
    if request.param == "sqlite":
        db, env = tmp_path / "central.db", None
    else:
        db = request.getfixturevalue("pg_cluster").fresh()
        env = platform_key_env(tmp_path / "central.key")
        env.__enter__()
    c = Central(Server(db, free_port(), tmp_path / "central.log", args=("--workers", "2")))
    with CentralDB(db) as platform:   # in this process: three `kiosk central add-kiosk` would take seconds
        for k in ("k1", "k2", "k3"):
            c.secrets[("kiosk", k)] = platform.add_kiosk(k)[0]
    c.server.start()
    wait_for_workers(c.server.proc.pid, 2)
    try:
        yield c
    finally:
        c.server.stop()
        if env is not None:
            env.__exit__(None, None, None)


def send_until_answered(c: Central, batch: dict) -> list[dict]:
    """As the kiosk's relay does: the same batch again until an answer comes back."""
    body = json.dumps(batch).encode()
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        try:
            r = c.call("POST", "/api/v1/transactions", raw=body)
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.05)
            continue
        if r.status_code == 200:
            return r.json()["results"]
        assert r.status_code >= 500, r.text
        time.sleep(0.05)
    raise AssertionError("no answer within the bound")


def test_workers_killed_with_sigkill_mid_batch_lose_nothing_acknowledged_and_store_nothing_twice(two_workers):
    c = two_workers
    pid = c.server.proc.pid
    acknowledged: set[str] = set()
    sent: list[str] = []
    killed: set[int] = set()
    for round_no, whom in enumerate(("all", "one", "one", "all")):
        batch = {"kiosk_id": "k1", "items": [item(seq=round_no * 500 + i + 1) for i in range(500)]}
        sent += [i["id"] for i in batch["items"]]
        # the batch's request written whole, then a worker (or every worker: then surely the one storing
        # it) killed before its answer is read: the batch was committed, or not at all; the kiosk, getting
        # no answer, sends it again
        body = json.dumps(batch).encode()
        conn = http.client.HTTPConnection("127.0.0.1", c.server.port, timeout=WAIT_S)
        conn.request("POST", "/api/v1/transactions", body=body,
                     headers={**c.headers("POST", "/api/v1/transactions", body), "Content-Type": "application/json"})
        victims = workers_of(pid)[: None if whom == "all" else 1]
        for w in victims:
            os.kill(w, signal.SIGKILL)
        killed.update(victims)
        try:
            answer = conn.getresponse()
            if answer.status == 200:
                acknowledged.update(r["id"] for r in json.loads(answer.read())["results"]
                                    if r["status"] in ("accepted", "duplicate"))
        except (ConnectionError, http.client.HTTPException, OSError):
            pass
        finally:
            conn.close()
        results = send_until_answered(c, batch)
        assert {r["status"] for r in results} <= {"accepted", "duplicate"}, results
        acknowledged.update(r["id"] for r in results)
        wait_for_workers(pid, 2, not_in=killed)
    assert acknowledged == set(sent)
    with CentralDB(c.db) as db:
        stored = [t["id"] for t in db.transactions("k1")]
    assert len(stored) == len(set(stored)) == len(sent)
    assert set(stored) == acknowledged


def test_one_batch_sent_to_both_workers_at_once_is_stored_once(two_workers):
    from concurrent.futures import ThreadPoolExecutor

    c = two_workers
    batch = {"kiosk_id": "k2", "items": [item(seq=i + 1) for i in range(300)]}
    body = json.dumps(batch).encode()
    with ThreadPoolExecutor(4) as pool:   # four connections: the kernel spreads them over both workers
        answers = list(pool.map(lambda _: c.call("POST", "/api/v1/transactions", raw=body, kiosk="k2"), range(4)))
    assert [a.status_code for a in answers] == [200] * 4
    statuses = [r["status"] for a in answers for r in a.json()["results"]]
    assert statuses.count("accepted") == 300 and statuses.count("duplicate") == 900
    with CentralDB(c.db) as db:
        assert len(db.transactions("k2")) == 300


def test_liveness_readiness_and_metrics_summed_over_the_workers(two_workers):
    c = two_workers
    assert requests.get(c.url + "/healthz", timeout=10).json()["status"] == "ok"
    ready = requests.get(c.url + "/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json()["schema_revision"] == ready.json()["needed_revision"]

    def scrape() -> dict:
        text = requests.get(c.url + "/metrics", timeout=10).text
        assert "/api/v1/kiosks/k3/heartbeat" not in text   # the path of a request is never a label
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text) for s in family.samples}

    accepted = ("kiosk_central_transactions_total", (("result", "accepted"),))
    batches = ("kiosk_central_batch_items_count", ())
    posts = ("kiosk_central_requests_total", (("method", "POST"), ("route", "/api/v1/transactions"), ("status", "200")))
    before = scrape()
    for n in range(8):   # on new connections, so both workers serve some
        batch = {"kiosk_id": "k3", "items": [item(seq=n * 10 + i + 1) for i in range(10)]}
        assert c.call("POST", "/api/v1/transactions", batch, kiosk="k3").status_code == 200
    beat = {"kiosk_id": "k3", "sent_at": "2026-12-07T10:00:00+08:00", "software_version": "t", "queue_depth": 7,
            "oldest_pending_age_s": 42.5}
    assert c.call("POST", "/api/v1/kiosks/k3/heartbeat", beat, kiosk="k3").status_code == 200
    after = scrape()
    assert after[accepted] - before.get(accepted, 0) == 80
    assert after[batches] - before.get(batches, 0) == 8
    assert after[posts] - before.get(posts, 0) == 8
    assert after[("kiosk_central_kiosk_queue_depth", (("kiosk_id", "k3"),))] == 7
    assert after[("kiosk_central_kiosk_oldest_pending_seconds", (("kiosk_id", "k3"),))] == 42.5
    assert 0 <= after[("kiosk_central_heartbeat_age_seconds", (("kiosk_id", "k3"),))] < 60
    with CentralDB(c.db) as db:
        assert after[("kiosk_central_transactions_stored", ())] == db.count("transactions")


def test_workers_must_be_a_sensible_number(tmp_path):
    from tests.conftest import run_kiosk

    res = run_kiosk("central", "--db", str(tmp_path / "c.db"), "--workers", "0", "--port", str(free_port()))
    assert res.returncode == 2 and "--workers 0" in res.stderr
