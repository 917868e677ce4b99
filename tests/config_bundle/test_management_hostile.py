"""The management API on the hall's network: malformed heads, floods, slow senders and unsigned reads.

Each test names what an attacker on the hall's network could do before, and
checks that the API answers (never a dead handler), refuses before anything is
written, and holds no more connections than its caps. Deadlines are injected
small (`Limits`), so the slow-sender tests wait fractions of a second.
"""
from __future__ import annotations

import json
import select
import time

import pytest
import requests

from kiosk import config
from kiosk.alarms import Alarms
from kiosk.store import Store
from kiosk.wire import bundle
from kiosk.sync import management, operator_auth
from kiosk.sync.http_guard import ConnectionBoard, Guard, Limits
from kiosk.sync.outbox import Outbox
from tests.config_bundle.bundlekit import DAY, signed
from tests.config_bundle.managementkit import (DiskSpy, connect, disk, raw_request, read_all, running_api,
                                               signed_get)


@pytest.fixture
def api(tmp_path):
    with running_api(tmp_path / "kiosk") as kiosk:
        yield kiosk


GET_AND_CLOSE = f"GET {management.PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()


def post_head(length: bytes | str, path: str = management.PATH) -> bytes:
    if isinstance(length, str):
        length = length.encode()
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n").encode() + \
        b"Content-Length: " + length + b"\r\n\r\n"


def status_line(answer: bytes) -> bytes:
    return answer.split(b"\r\n", 1)[0]


def test_a_malformed_content_length_gets_400_and_nothing_is_written(tmp_path, monkeypatch):
    with running_api(tmp_path / "kiosk", Limits(refusals=100)) as api:  # under the flood limit (tested below)
        malformed_content_length_is_refused(api, monkeypatch)


def malformed_content_length_is_refused(api, monkeypatch):
    before = disk(api.dir, skip=())
    spy = DiskSpy(monkeypatch)
    # b"\xb2" is "²" to a latin-1 header parser: str.isdigit() says yes, int() raises
    for length in (b"\xb2", b"1\xb9", "²".encode(), b"12x", b"-1", b"1e3", b" ", b"0x10", "٣".encode()):
        answer = raw_request(api.port, post_head(length), b"{}", timeout=5)
        assert status_line(answer) == b"HTTP/1.1 400 Bad Request", (length, answer)
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["result"] == "rejected"
    two = (f"POST {management.PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n").encode()
    assert status_line(raw_request(api.port, two, b"{}", timeout=5)).startswith(b"HTTP/1.1 400")
    assert spy.calls == [] and disk(api.dir, skip=()) == before
    # the server is alive and answers the next request
    assert signed_get(api).status_code == 200


def test_a_header_that_is_not_printable_ascii_is_refused(api):
    head = (f"GET {management.PATH} HTTP/1.1\r\nHost: x\r\n").encode() + b"X-Note: caf\xc3\xa9\r\n\r\n"
    assert status_line(raw_request(api.port, head, timeout=5)).startswith(b"HTTP/1.1 400")


def test_a_forged_push_is_refused_401_before_any_write(api, stranger_key, monkeypatch):
    before = disk(api.dir, skip=())
    spy = DiskSpy(monkeypatch)
    now = time.time()
    forged = signed(stranger_key, 3, issued=now, expires=now + DAY)
    r = requests.post(api.url, data=forged, timeout=10)
    assert (r.status_code, r.json()["code"]) == (401, "unknown_key")
    assert r.headers["WWW-Authenticate"] == operator_auth.SCHEME
    # a signed bundle with its payload altered afterwards: the trusted key's signature no longer matches
    env = json.loads(signed(api.key, 3, issued=now, expires=now + DAY))
    env["payload"] = bundle.b64(bundle.b64(b"x").encode())
    r = requests.post(api.url, data=json.dumps(env), timeout=10)
    assert (r.status_code, r.json()["code"]) == (401, "bad_signature")
    for garbage in (b"{}", b"not json", b"[1]", b"\xff\xfe"):
        r = requests.post(api.url, data=garbage, timeout=10)
        assert (r.status_code, r.json()["code"]) == (400, "malformed")
    assert spy.calls == [] and disk(api.dir, skip=()) == before


def test_an_unauthenticated_post_flood_gets_401_then_429_writes_nothing_and_raises_one_alarm(api, monkeypatch,
                                                                                              stranger_key):
    before = disk(api.dir)  # the store's files left out: the alarm is written there, once
    spy = DiskSpy(monkeypatch)
    now = time.time()
    forged = signed(stranger_key, 3, issued=now, expires=now + DAY)
    statuses = [requests.post(api.url, data=forged, timeout=10).status_code for _ in range(30)]
    limit = management.LIMITS.refusals
    assert statuses[:limit] == [401] * limit
    assert set(statuses[limit:]) == {429}
    r = requests.post(api.url, data=forged, timeout=10)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    # a new connection from the flooding address is answered before its request is parsed
    answer = raw_request(api.port, post_head(b"\xb2"), timeout=5)
    assert status_line(answer) == b"HTTP/1.1 429 Too Many Requests" and b"retry-after" in answer
    # a flooded address is refused even with a valid signature, until its window passes
    assert signed_get(api).status_code == 429
    assert spy.calls == [] and disk(api.dir) == before
    settings = config.load(api.config)
    deadline = time.monotonic() + 5  # the alarm is recorded off the event loop
    while True:
        conn = Store.from_settings(settings).connect()
        try:
            active = [(a.device, a.code) for a in Alarms(conn, Outbox(conn)).active()]
            sent = conn.execute("SELECT count(*) FROM outbox WHERE kind='alarm'").fetchone()[0]
        finally:
            conn.close()
        if ("management", "refusal_flood") in active or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert ("management", "refusal_flood") in active
    assert sent == 1


def test_a_read_of_the_config_needs_a_request_signed_by_a_trusted_operator_key(api, stranger_key):
    r = requests.get(api.url, timeout=10)
    assert (r.status_code, r.json()["code"]) == (401, "unauthenticated")
    assert "version" not in r.json()
    assert signed_get(api, key=stranger_key).status_code == 401
    assert requests.get(api.base + management.OPENAPI_PATH, timeout=10).status_code == 401
    headers = operator_auth.sign_request(api.key, "GET", management.PATH)
    assert requests.get(api.url, headers=headers, timeout=10).status_code == 200
    same_second = operator_auth.sign_request(api.key, "GET", management.PATH, now=int(time.time()))
    assert requests.get(api.url, headers=same_second, timeout=10).status_code == 200
    replay = requests.get(api.url, headers=headers, timeout=10)
    assert (replay.status_code, replay.json()["code"]) == (401, "replayed")
    other_path = operator_auth.sign_request(api.key, "GET", management.OPENAPI_PATH)
    assert requests.get(api.url, headers=other_path, timeout=10).status_code == 401
    old = operator_auth.sign_request(api.key, "GET", management.PATH, now=time.time() - 3600)
    r = requests.get(api.url, headers=old, timeout=10)
    assert (r.status_code, r.json()["code"]) == (401, "stale_request")
    doc = signed_get(api, management.OPENAPI_PATH).json()
    assert doc["paths"][management.PATH]["get"]["security"] == [{"operatorSignature": []}]


def test_a_slow_sender_is_answered_408_and_closed_at_the_whole_request_deadline(tmp_path):
    with running_api(tmp_path / "kiosk", Limits(request_deadline_s=0.6)) as api:
        body = b"{}"
        data = post_head(str(len(body))) + body
        with connect(api.port, timeout=5) as s:
            start = time.monotonic()
            answered = False
            for byte in data:  # one byte every 0.1 s: each read is quick, the request never completes in time
                try:
                    s.send(bytes([byte]))
                except OSError:
                    answered = True
                    break
                if select.select([s], [], [], 0.1)[0]:
                    answered = True
                    break
            elapsed = time.monotonic() - start
            answer = read_all(s)
        assert answered and status_line(answer) == b"HTTP/1.1 408 Request Timeout"
        assert elapsed < 0.6 + 1.0  # cut at the deadline, not after the last byte (~9 s of dribbling)


def test_a_body_sent_slowly_after_a_quick_head_is_cut_at_the_deadline_without_a_traceback(tmp_path, caplog):
    with running_api(tmp_path / "kiosk", Limits(request_deadline_s=0.5)) as api:
        with connect(api.port, timeout=5) as s:
            s.sendall(post_head("100"))
            for _ in range(30):  # 3 s of body at one byte per 0.1 s; the deadline comes first
                try:
                    s.send(b"x")
                except OSError:
                    break
                if select.select([s], [], [], 0.1)[0]:
                    break
            answer = read_all(s)
        assert status_line(answer) == b"HTTP/1.1 408 Request Timeout"
        truncated = raw_request(api.port, post_head("100"), b"{", shut=True, timeout=5)
        assert status_line(truncated).startswith(b"HTTP/1.1 400") and b"truncated" in truncated
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records if r.exc_info]


def test_a_silent_connection_is_closed_at_the_deadline(tmp_path):
    with running_api(tmp_path / "kiosk", Limits(request_deadline_s=0.3)) as api:
        with connect(api.port, timeout=5) as s:
            assert status_line(read_all(s)) == b"HTTP/1.1 408 Request Timeout"


def test_one_address_holds_at_most_its_connection_cap(tmp_path):
    limits = Limits(request_deadline_s=5, per_address=4, total=32)
    with running_api(tmp_path / "kiosk", limits) as api:
        held = [connect(api.port, timeout=5) for _ in range(limits.per_address)]
        for s in held:
            s.sendall(b"POST " + management.PATH.encode())  # a head that never ends
        time.sleep(0.2)  # let the server take them in
        extra = [connect(api.port, timeout=5) for _ in range(6)]
        answers = [read_all(s) for s in extra]
        assert all(status_line(a) == b"HTTP/1.1 503 Service Unavailable" for a in answers), answers
        assert all(b"retry-after" in a.lower() for a in answers)
        # the held ones are still open (no answer yet), and another address still gets in
        assert not select.select(held, [], [], 0)[0]
        other = raw_request(api.port, GET_AND_CLOSE, source="127.0.0.2", timeout=5)
        assert status_line(other).startswith(b"HTTP/1.1 401")
        for s in held:
            s.close()


def test_all_addresses_together_hold_at_most_the_total_cap(tmp_path):
    limits = Limits(request_deadline_s=5, per_address=2, total=3)
    with running_api(tmp_path / "kiosk", limits) as api:
        held = [connect(api.port, source=f"127.0.0.{n}", timeout=5) for n in (2, 2, 3)]
        time.sleep(0.2)
        answer = read_all(connect(api.port, source="127.0.0.4", timeout=5))
        assert status_line(answer) == b"HTTP/1.1 503 Service Unavailable"
        for s in held:
            s.close()
        time.sleep(0.2)
        r = raw_request(api.port, GET_AND_CLOSE, source="127.0.0.4", timeout=5)
        assert status_line(r).startswith(b"HTTP/1.1 401")


def test_kiosk_config_status_remote_reads_a_kiosk_with_a_signed_request(api):
    from tests.conftest import run_kiosk

    key = api.dir / "keys" / "operator.key"
    r = run_kiosk("config", "status", "--remote", api.base, "--key", str(key), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["state"] == "none"
    unsigned = run_kiosk("config", "status", "--remote", api.base, "--json")
    assert unsigned.returncode == 2 and "--key" in unsigned.stderr


def test_a_flooding_address_waits_out_its_window_and_the_alarm_is_raised_once_and_cleared_once():
    t = [1000.0]
    raised, cleared = [], []
    guard = Guard(Limits(refusals=3, window_s=60), on_flood=raised.append, on_calm=lambda: cleared.append(1),
                  now=lambda: t[0])
    for _ in range(3):
        assert guard.limiter.retry_after("10.0.0.9") is None
        guard.refused("10.0.0.9")
    assert guard.limiter.retry_after("10.0.0.9") == 61
    assert guard.limiter.retry_after("10.0.0.8") is None  # another address is heard
    for _ in range(5):
        guard.refused("10.0.0.9")
    assert len(raised) == 1 and "10.0.0.9" in raised[0]
    guard.succeeded()  # an operator answered while the flood goes on: the alarm stays
    assert cleared == []
    t[0] += 61
    assert guard.limiter.retry_after("10.0.0.9") is None
    guard.succeeded()
    assert cleared == [1]
    guard.succeeded()
    assert cleared == [1]


def test_connection_caps_count_per_address_and_in_all():
    board = ConnectionBoard(Limits(per_address=2, total=3))
    assert board.admit("a") is None and board.admit("a") is None
    assert "from a" in board.admit("a")
    assert board.admit("b") is None
    assert "at most 3" in board.admit("c")
    board.leave("a")
    assert board.admit("c") is None
