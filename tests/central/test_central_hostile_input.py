"""Hostile input to the central platform (issue 24): every refusal is a 4xx naming what is wrong, never a
500, and nothing a refused request carried is stored."""
from __future__ import annotations

import json

import requests

from tests.central.conftest import item

INT64_MAX = 2**63 - 1


def signed_headers(central, method: str, path: str, body: bytes = b"", **over) -> dict:
    h = central.headers(method, path, body)
    h.update(over)
    return h


# -- headers (finding 2) ----------------------------------------------------------------------------

def test_timestamp_that_isdigit_accepts_and_int_refuses_is_401(central):
    before = central.counts()
    body = json.dumps({"kiosk_id": "k1", "items": [item()]}).encode()
    h = signed_headers(central, "POST", "/api/v1/transactions", body)
    h["X-Timestamp"] = "\u00b2".encode("latin-1").decode("latin-1")  # superscript two
    resp = requests.post(central.url + "/api/v1/transactions", data=body, headers=h, timeout=10)
    assert resp.status_code == 401, resp.text
    assert resp.json()["error"] == "unauthenticated"
    assert central.counts() == before


def test_timestamp_of_5000_digits_is_401(central):
    before = central.counts()
    h = signed_headers(central, "GET", "/api/v1/catalog", **{"X-Timestamp": "9" * 5000})
    resp = requests.get(central.url + "/api/v1/catalog", headers=h, timeout=10)
    assert resp.status_code == 401, resp.text
    assert central.counts() == before


def test_auth_headers_outside_their_ascii_grammar_are_401(central):
    for name, value in (("X-Nonce", "\u00e9" * 32), ("X-Nonce", "a" * 5000), ("X-Signature", "z" * 64),
                        ("X-Signature", "0" * 5000), ("X-Kiosk-Id", "k1\u00e9"), ("X-Kiosk-Id", "k" * 300),
                        ("X-Timestamp", "1700000000.5"), ("X-Timestamp", "-1")):
        h = signed_headers(central, "GET", "/api/v1/catalog", **{name: value})
        resp = requests.get(central.url + "/api/v1/catalog", headers=h, timeout=10)
        assert resp.status_code == 401, (name, value[:20], resp.status_code, resp.text)


# -- bodies (finding 3) -----------------------------------------------------------------------------

def post_raw(central, path: str, raw: bytes, method: str = "POST", **signing) -> requests.Response:
    return central.call(method, path, raw=raw, **signing)


def test_json_nested_100000_deep_is_refused_4xx_not_500(central):
    before = central.counts()
    deep = b'{"kiosk_id":"k1","items":[' + b"[" * 100_000 + b"]" * 100_000 + b"]}"
    resp = post_raw(central, "/api/v1/transactions", deep)
    assert resp.status_code in (400, 422), resp.text
    assert "deep" in resp.json()["message"]
    deep_cfg = b'{"version":5,"targets":["k1"],"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    resp = post_raw(central, "/api/v1/fleet/config", deep_cfg, method="PUT", operator="op")
    assert resp.status_code in (400, 422), resp.text
    assert central.counts() == before


def test_json_nested_past_64_levels_is_refused(central):
    before = central.counts()
    data = {"v": 1}
    for _ in range(70):
        data = {"v": data}
    resp = central.call("POST", "/api/v1/transactions", {"kiosk_id": "k1", "items": [item(data=data)]})
    assert resp.status_code in (200, 400, 422), resp.text
    if resp.status_code == 200:
        assert resp.json()["results"][0]["status"] == "rejected"
    assert central.counts() == before


def test_seq_past_64_bits_rejects_that_item_and_accepts_the_rest(central):
    before = central.counts()
    bad, good = item(seq=2**63), item(seq=7)
    resp = central.call("POST", "/api/v1/transactions", {"kiosk_id": "k1", "items": [bad, good]})
    assert resp.status_code == 200, resp.text
    res = {r["id"]: r for r in resp.json()["results"]}
    assert res[bad["id"]]["status"] == "rejected" and "seq" in res[bad["id"]]["reason"]
    assert res[good["id"]]["status"] == "accepted"
    assert central.counts()["transactions"] == before["transactions"] + 1


def test_after_seq_past_64_bits_is_422_naming_it(central):
    resp = central.call("GET", f"/api/v1/kiosks/k1/transactions?after_seq={2**64}")
    assert resp.status_code == 422, resp.text
    assert "after_seq" in json.dumps(resp.json())


def test_bundle_version_past_64_bits_is_422_naming_it(central):
    before = central.counts()
    resp = central.call("PUT", "/api/v1/fleet/config", {"version": 2**63, "targets": ["k1"]}, operator="op")
    assert resp.status_code == 422, resp.text
    assert "version" in json.dumps(resp.json())
    assert central.counts() == before


def test_number_1e400_is_refused_and_listings_keep_working(central):
    before = central.counts()
    bad = item(seq=11)
    raw = json.dumps({"kiosk_id": "k1", "items": [bad]}).replace('"note": "test"', '"note": 1e400').encode()
    resp = post_raw(central, "/api/v1/transactions", raw)
    assert resp.status_code in (200, 400, 422), resp.text
    if resp.status_code == 200:
        assert resp.json()["results"][0]["status"] == "rejected"
        assert "data.note" in resp.json()["results"][0]["reason"]
    raw = json.dumps({"kiosk_id": "k1", "items": [item(seq=12)]}).replace('12.5', '1e400').encode()
    resp = post_raw(central, "/api/v1/transactions", raw)
    assert resp.status_code in (200, 400, 422), resp.text
    beat = {"kiosk_id": "k1", "sent_at": "2026-11-22T09:30:00+08:00", "software_version": "0.1",
            "queue_depth": 0, "oldest_pending_age_s": 1.5}
    raw = json.dumps(beat).replace("1.5", "1e400").encode()
    resp = post_raw(central, "/api/v1/kiosks/k1/heartbeat", raw)
    assert resp.status_code == 422, resp.text
    assert "oldest_pending_age_s" in json.dumps(resp.json())
    assert central.counts() == before
    assert central.call("GET", "/api/v1/kiosks/k1/transactions").status_code == 200
    assert central.call("GET", "/api/v1/kiosks", operator="op").status_code == 200


def test_catalog_version_with_a_lone_surrogate_is_422_naming_it(central):
    from tests.central.conftest import catalog
    before = central.counts()
    raw = json.dumps(catalog(version="SURROGATE")).replace("SURROGATE", "\\ud800").encode()
    resp = post_raw(central, "/api/v1/catalog", raw, method="PUT", operator="op")
    assert resp.status_code == 422, resp.text
    assert "version" in json.dumps(resp.json())
    assert central.counts() == before


def test_lone_surrogate_in_transaction_data_rejects_only_that_item(central):
    before = central.counts()
    bad, good = item(seq=21), item(seq=22)
    raw = json.dumps({"kiosk_id": "k1", "items": [bad, good]})
    raw = raw.replace('"note": "test"', '"note": "\\ud800"', 1).encode()
    resp = post_raw(central, "/api/v1/transactions", raw)
    assert resp.status_code == 200, resp.text
    res = {r["id"]: r for r in resp.json()["results"]}
    assert res[bad["id"]]["status"] == "rejected" and "data.note" in res[bad["id"]]["reason"]
    assert res[good["id"]]["status"] == "accepted"
    assert central.counts()["transactions"] == before["transactions"] + 1


# -- rows poisoned before the fix are quarantined (finding 3) ---------------------------------------

def test_migrate_quarantines_rows_stored_with_non_finite_numbers(tmp_path):
    import sqlite3
    import uuid

    from tests.central.conftest import provision
    from tests.conftest import run_kiosk

    db = tmp_path / "central.db"
    provision(db, "add-kiosk", "k1")
    conn = sqlite3.connect(db)
    good, bad_data, bad_uptime = (str(uuid.uuid4()) for _ in range(3))
    for tx_id, seq, data, uptime in ((good, 1, '{"note":"ok"}', 1.0), (bad_data, 2, '{"note":Infinity}', 1.0),
                                     (bad_uptime, 3, '{}', float("inf"))):
        conn.execute("INSERT INTO transactions (id, kiosk_id, seq, kind, occurred_at, boot_id, uptime_s, data,"
                     " body_sha256, received_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                     (tx_id, "k1", seq, "probe", "2026-11-22T01:30:00Z", None, uptime, data, "0" * 64, 1.0))
    conn.execute("INSERT INTO heartbeats (kiosk_id, received_at, body) VALUES ('k1', 1.0, '{\"queue_depth\":NaN}')")
    conn.execute("INSERT INTO kiosk_status (kiosk_id, received_at, body) VALUES ('k1', 1.0, '{\"x\":-Infinity}')")
    conn.commit()
    conn.close()
    res = run_kiosk("central", "migrate", "--db", str(db), "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["quarantined"] == {"transactions": 2, "heartbeats": 1, "kiosk_status": 1}
    conn = sqlite3.connect(db)
    assert [r[0] for r in conn.execute("SELECT id FROM transactions")] == [good]
    kept = conn.execute("SELECT source_table, reason FROM quarantine ORDER BY rowid").fetchall()
    assert [k[0] for k in kept] == ["transactions", "transactions", "heartbeats", "kiosk_status"]
    assert "data.note" in kept[0][1] and "uptime_s" in kept[1][1]
    conn.close()
    again = json.loads(run_kiosk("central", "migrate", "--db", str(db), "--json").stdout)
    assert again["quarantined"] == {"transactions": 0, "heartbeats": 0, "kiosk_status": 0}


# -- authentication before the body is read (finding 6) ---------------------------------------------

def _declare_big_body(central, headers: dict, size: int = 60 * 1024 * 1024) -> tuple[int, dict]:
    """Send a PUT /catalog declaring `size` bytes but only 1 KiB of them: an answer can only come from a
    server that decided without reading the body."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", central.server.port, timeout=5)
    try:
        conn.putrequest("PUT", "/api/v1/catalog")
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(size))
        conn.endheaders()
        conn.send(b"{" + b" " * 1023)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def test_unauthenticated_large_put_is_refused_before_its_body_is_read(central):
    before = central.counts()
    status, doc = _declare_big_body(central, {"X-Operator-Id": "op"})
    assert status == 401 and doc["error"] == "unauthenticated", doc
    forged = central.headers("PUT", "/api/v1/catalog", b"x", operator="op", secret="not-the-secret-000000000")
    status, doc = _declare_big_body(central, forged)
    assert status == 401 and doc["error"] == "unauthenticated", doc
    assert central.counts() == before


def test_a_kiosk_may_not_upload_a_catalog_and_hears_so_before_sending_it(central):
    status, doc = _declare_big_body(central, central.headers("PUT", "/api/v1/catalog", b"x"))
    assert status == 403 and doc["error"] == "forbidden", doc


def test_signed_request_without_the_body_hash_header_is_401(central):
    h = central.headers("GET", "/api/v1/catalog")
    h.pop("X-Content-SHA256", None)
    resp = requests.get(central.url + "/api/v1/catalog", headers=h, timeout=10)
    assert resp.status_code == 401, resp.text
    assert "X-Content-SHA256" in resp.json()["message"]


def test_body_hash_header_other_than_the_body_is_401_and_nothing_stored(central):
    import hashlib

    before = central.counts()
    sent = json.dumps({"kiosk_id": "k1", "items": [item(seq=31)]}).encode()
    other = json.dumps({"kiosk_id": "k1", "items": [item(seq=32)]}).encode()
    # a signature over the hash of `other`, with `sent` on the wire
    h = central.headers("POST", "/api/v1/transactions", other)
    assert h["X-Content-SHA256"] == hashlib.sha256(other).hexdigest()
    resp = requests.post(central.url + "/api/v1/transactions", data=sent,
                         headers={**h, "Content-Type": "application/json"}, timeout=10)
    assert resp.status_code == 401, resp.text
    assert central.counts() == before
