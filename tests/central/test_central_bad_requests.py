"""Bad requests to the central platform: each refused with a clear status and a JSON error, nothing stored."""
from __future__ import annotations

import http.client
import json
import socket
import time
import uuid

import requests

from kiosk.wire import auth
from tests.central.conftest import item, start_central

MIB = 1024 * 1024


def batch(kiosk: str = "k1", n: int = 1) -> dict:
    return {"kiosk_id": kiosk, "items": [item(seq=i + 1) for i in range(n)]}


def body_of(b: dict) -> bytes:
    return json.dumps(b).encode()


def assert_error(resp: requests.Response, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    doc = resp.json()
    assert doc["error"] == code, doc
    assert doc["message"], doc
    return doc


def test_request_without_credentials_is_refused_401_and_nothing_stored(central):
    before = central.counts()
    resp = requests.post(central.url + "/api/v1/transactions", json=batch(), timeout=10)
    doc = assert_error(resp, 401, "unauthenticated")
    assert "X-Kiosk-Id" in doc["message"]
    assert resp.headers["WWW-Authenticate"] == "KIOSK-HMAC-SHA256"
    assert central.counts() == before


def test_wrong_secret_is_refused_401_and_nothing_stored(central):
    before = central.counts()
    resp = central.call("POST", "/api/v1/transactions", batch(), secret="not-the-secret-of-k1-0000000")
    assert_error(resp, 401, "unauthenticated")
    assert central.counts() == before


def test_unknown_kiosk_is_refused_like_a_wrong_secret(central):
    before = central.counts()
    wrong = central.call("POST", "/api/v1/transactions", batch("k1"), secret="not-the-secret-of-k1-0000000")
    unknown = central.call("POST", "/api/v1/transactions", batch("k9"), kiosk="k9", secret="some-secret-0000000000000")
    assert_error(unknown, 401, "unauthenticated")
    # the same answer as a wrong secret: a caller cannot learn which kiosk ids exist
    assert unknown.json()["message"] == wrong.json()["message"]
    assert central.counts() == before


def test_body_other_than_the_signed_one_is_refused_as_forged(central):
    before = central.counts()
    signed, sent = body_of(batch()), body_of(batch())
    headers = central.headers("POST", "/api/v1/transactions", signed)
    resp = requests.post(central.url + "/api/v1/transactions", data=sent,
                         headers={**headers, "Content-Type": "application/json"}, timeout=10)
    assert_error(resp, 401, "unauthenticated")
    assert central.counts() == before


def test_query_other_than_the_signed_one_is_refused(central):
    headers = central.headers("GET", "/api/v1/kiosks/k1/transactions?after_seq=0", operator="op")
    resp = requests.get(central.url + "/api/v1/kiosks/k1/transactions?after_seq=5", headers=headers, timeout=10)
    assert_error(resp, 401, "unauthenticated")


def test_signature_of_one_kiosk_presented_as_another_is_refused(central):
    body = body_of(batch("k2"))
    headers = central.headers("POST", "/api/v1/transactions", body, kiosk="k1")
    headers[auth.HEADER_KIOSK] = "k2"
    before = central.counts()
    resp = requests.post(central.url + "/api/v1/transactions", data=body, headers=headers, timeout=10)
    assert_error(resp, 401, "unauthenticated")
    assert central.counts() == before


def test_replayed_request_with_the_same_headers_is_refused_and_stores_nothing_more(central):
    b = batch(n=2)
    data = body_of(b)
    headers = {**central.headers("POST", "/api/v1/transactions", data), "Content-Type": "application/json"}
    first = requests.post(central.url + "/api/v1/transactions", data=data, headers=headers, timeout=10)
    assert first.status_code == 200, first.text
    after_first = central.counts()
    replay = requests.post(central.url + "/api/v1/transactions", data=data, headers=headers, timeout=10)
    doc = assert_error(replay, 401, "unauthenticated")
    assert "nonce" in doc["message"]
    assert central.counts() == after_first


def test_replay_is_refused_after_the_platform_restarts(tmp_path):
    c = start_central(tmp_path)
    try:
        data = body_of(batch())
        headers = {**c.headers("POST", "/api/v1/transactions", data), "Content-Type": "application/json"}
        assert requests.post(c.url + "/api/v1/transactions", data=data, headers=headers, timeout=10).status_code == 200
        c.server.stop()
        c.server.start()
        before = c.counts()
        replay = requests.post(c.url + "/api/v1/transactions", data=data, headers=headers, timeout=10)
        assert_error(replay, 401, "unauthenticated")
        assert c.counts() == before
    finally:
        c.server.stop()


def test_stale_timestamp_is_refused_and_names_the_server_clock(central):
    before = central.counts()
    resp = central.call("POST", "/api/v1/transactions", batch(), now=time.time() - auth.WINDOW_S - 60)
    doc = assert_error(resp, 401, "unauthenticated")
    assert "clock" in doc["message"] and abs(doc["details"][0]["server_time"] - time.time()) < 60
    future = central.call("POST", "/api/v1/transactions", batch(), now=time.time() + auth.WINDOW_S + 60)
    assert_error(future, 401, "unauthenticated")
    assert central.counts() == before


def test_malformed_json_gets_400_naming_the_position_and_nothing_stored(central):
    before = central.counts()
    resp = central.call("POST", "/api/v1/transactions", raw=b'{"kiosk_id": "k1", "items": [')
    doc = assert_error(resp, 400, "malformed_json")
    assert "line 1" in doc["message"]
    nan = central.call("POST", "/api/v1/transactions",
                       raw=b'{"kiosk_id": "k1", "items": [{"id": "x", "seq": NaN}]}')
    assert_error(nan, 400, "malformed_json")
    not_utf8 = central.call("POST", "/api/v1/transactions", raw='{"kiosk_id": "机"}'.encode("gb18030"))
    assert_error(not_utf8, 400, "malformed_json")
    assert central.counts() == before


def test_malformed_json_from_an_unauthenticated_caller_gets_401_not_a_parse_report(central):
    resp = requests.post(central.url + "/api/v1/transactions", data=b"{{{", timeout=10)
    assert_error(resp, 401, "unauthenticated")


def test_other_content_type_gets_415(central):
    resp = central.call("POST", "/api/v1/transactions", raw=body_of(batch()), headers={"Content-Type": "text/plain"})
    assert_error(resp, 415, "unsupported_media_type")


def test_oversized_body_gets_413_before_it_is_sent_at_all(central):
    """The declared length alone refuses it: the server answers without waiting for the 100 MiB."""
    before = central.counts()
    conn = http.client.HTTPConnection("127.0.0.1", central.server.port, timeout=10)
    try:
        conn.putrequest("POST", "/api/v1/transactions")
        for k, v in central.headers("POST", "/api/v1/transactions", b"").items():
            conn.putheader(k, v)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(100 * MIB))
        conn.endheaders()
        conn.send(b'{"kiosk_id": "k1", "items": [')
        resp = conn.getresponse()
        doc = json.loads(resp.read())
    finally:
        conn.close()
    assert resp.status == 413 and doc["error"] == "too_large", doc
    assert str(8 * MIB) in doc["message"]
    assert central.counts() == before


def test_oversized_chunked_body_is_cut_off_at_the_limit(central):
    """Without a declared length the server counts while reading, and stops at the limit."""
    before = central.counts()
    conn = http.client.HTTPConnection("127.0.0.1", central.server.port, timeout=10)
    chunk = b" " * (256 * 1024)
    try:
        conn.putrequest("POST", "/api/v1/transactions")
        for k, v in central.headers("POST", "/api/v1/transactions", b"").items():
            conn.putheader(k, v)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for _ in range(8 * MIB // len(chunk) + 1):
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        resp = conn.getresponse()
        doc = json.loads(resp.read())
    finally:
        conn.close()
    assert resp.status == 413 and doc["error"] == "too_large", doc
    assert central.counts() == before


def test_heartbeat_limit_is_smaller_than_the_batch_limit(central):
    beat = {"kiosk_id": "k1", "sent_at": "2026-11-22T10:00:00Z", "software_version": "0.1.0", "queue_depth": 0,
            "devices": [{"name": "x" * 1000}] * 300}
    before = central.counts()
    assert_error(central.call("POST", "/api/v1/kiosks/k1/heartbeat", beat), 413, "too_large")
    assert central.counts() == before


def test_wrong_types_in_the_batch_envelope_get_422_naming_the_field(central):
    before = central.counts()
    resp = central.call("POST", "/api/v1/transactions", {"kiosk_id": 7, "items": {"id": "x"}})
    doc = assert_error(resp, 422, "invalid")
    assert {d["field"] for d in doc["details"]} == {"kiosk_id", "items"}
    not_object = central.call("POST", "/api/v1/transactions", [batch()])
    assert_error(not_object, 422, "invalid")
    assert central.counts() == before


def test_batch_over_500_items_is_refused_whole(central):
    before = central.counts()
    resp = central.call("POST", "/api/v1/transactions", batch(n=501))
    doc = assert_error(resp, 422, "invalid")
    assert "at most 500" in doc["message"]
    assert central.counts() == before


def test_wrong_types_in_a_heartbeat_get_422_naming_the_field(central):
    before = central.counts()
    beat = {"kiosk_id": "k1", "sent_at": "2026-11-22T10:00:00Z", "software_version": "0.1.0", "queue_depth": "3"}
    doc = assert_error(central.call("POST", "/api/v1/kiosks/k1/heartbeat", beat), 422, "invalid")
    assert [d["field"] for d in doc["details"]] == ["queue_depth"]
    assert central.counts() == before


def test_wrong_type_of_query_parameter_gets_422(central):
    resp = central.call("GET", "/api/v1/kiosks/k1/transactions?after_seq=many", operator="op")
    doc = assert_error(resp, 422, "invalid")
    assert doc["details"][0]["field"].endswith("after_seq")


def test_kiosk_cannot_post_transactions_as_another_kiosk(central):
    before = central.counts()
    resp = central.call("POST", "/api/v1/transactions", batch("k2"), kiosk="k1")
    doc = assert_error(resp, 403, "forbidden")
    assert "'k1'" in doc["message"] and "'k2'" in doc["message"]
    assert central.counts() == before


def test_kiosk_cannot_reach_another_kiosks_resources(central):
    before = central.counts()
    beat = {"kiosk_id": "k2", "sent_at": "2026-11-22T10:00:00Z", "software_version": "0.1.0", "queue_depth": 0}
    assert_error(central.call("POST", "/api/v1/kiosks/k2/heartbeat", beat, kiosk="k1"), 403, "forbidden")
    holder = "0" * 64
    for path in ("/api/v1/kiosks/k2/config", f"/api/v1/kiosks/k2/documents?holder={holder}",
                 "/api/v1/kiosks/k2/transactions", "/api/v1/kiosks/k2/heartbeat"):
        assert_error(central.call("GET", path, kiosk="k1"), 403, "forbidden")
    # and a heartbeat for itself that names another kiosk inside
    assert_error(central.call("POST", "/api/v1/kiosks/k1/heartbeat", beat, kiosk="k1"), 403, "forbidden")
    assert central.counts() == before


def test_operator_endpoints_refuse_kiosks(central):
    from tests.central.conftest import catalog  # noqa: E402

    before = central.counts()
    assert_error(central.call("PUT", "/api/v1/catalog", catalog(), kiosk="k1"), 403, "forbidden")
    bundle = {"version": 1, "targets": ["k1"], "signature": "x"}
    assert_error(central.call("PUT", "/api/v1/fleet/config", bundle, kiosk="k1"), 403, "forbidden")
    assert_error(central.call("GET", "/api/v1/kiosks", kiosk="k1"), 403, "forbidden")
    assert central.counts() == before


def test_unknown_path_gets_a_json_404(central):
    resp = requests.get(central.url + "/api/v1/nothing-here", timeout=10)
    assert_error(resp, 404, "not_found")


def test_uuid_of_a_fresh_id_is_not_stored_by_a_refused_request(central):
    """The strongest form of 'nothing stored': the refused item's id is nowhere afterwards."""
    it = item()
    central.call("POST", "/api/v1/transactions", {"kiosk_id": "k1", "items": [it]}, secret="wrong-secret-000000000000")
    resp = central.call("GET", "/api/v1/kiosks/k1/transactions?after_seq=0&limit=5000", operator="op")
    assert it["id"] not in {t["id"] for t in resp.json()["transactions"]}
    assert uuid.UUID(it["id"])


def test_body_cut_short_by_a_vanishing_client_stores_nothing(central):
    before = central.counts()
    headers = central.headers("POST", "/api/v1/transactions", b"")
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection(("127.0.0.1", central.server.port), timeout=10) as s:
        s.sendall(f"POST /api/v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  f"{head}Content-Length: 1000\r\n\r\n".encode() + b'{"kiosk_id": "k1"')
    deadline = time.monotonic() + 10
    while "went away" not in central.server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "went away" in central.server.log.read_text()
    assert requests.get(central.url + "/api/v1/health", timeout=10).status_code == 200
    assert central.counts() == before
