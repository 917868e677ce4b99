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
