"""The management API over loopback HTTP: the same verification as a file, size refused before reading."""
from __future__ import annotations

import json
import time

import pytest
import requests

from kiosk.sync import management
from tests.config_bundle.bundlekit import DAY, signed
from tests.config_bundle.managementkit import fresh, raw_request, running_api, signed_get
from tests.conftest import run_kiosk


@pytest.fixture
def api(tmp_path):
    with running_api(tmp_path / "kiosk") as kiosk:
        yield kiosk


def test_a_signed_bundle_posted_to_the_management_api_is_applied(api):
    r = requests.post(api.url, data=fresh(api, 3), timeout=10)
    assert r.status_code == 200 and r.json()["result"] == "applied"
    assert api.hall() == "Hall v3"
    status = signed_get(api).json()
    assert (status["version"], status["state"]) == (3, "applied")


def test_a_forged_bundle_posted_is_refused_401_with_the_reason_and_nothing_recorded(api, stranger_key):
    now = time.time()
    r = requests.post(api.url, data=signed(stranger_key, 3, issued=now, expires=now + DAY), timeout=10)
    assert r.status_code == 401
    assert (r.json()["result"], r.json()["code"]) == ("rejected", "unknown_key")
    # unauthenticated: refused before the applier, so not even the rejection is written
    assert signed_get(api).json()["last_rejection"] is None
    assert api.hall() == "示例政务服务中心 24小时自助服务区"


def test_a_50_mb_body_is_refused_from_its_length_before_it_is_sent(api):
    size = 50 * 1024 * 1024
    head = (f"POST {management.PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n").encode()
    answer = raw_request(api.port, head)  # not one byte of the body is sent: the answer comes anyway
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"too_large" in answer
    assert api.status()["state"] == "none"


def test_a_truncated_body_is_refused(api):
    body = fresh(api, 3)
    head = (f"POST {management.PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    answer = raw_request(api.port, head, body[: len(body) // 2], shut=True)
    assert answer.startswith(b"HTTP/1.1 400") and b"truncated" in answer
    assert api.status()["version"] is None


def test_a_body_without_a_length_is_refused(api):
    head = (f"POST {management.PATH} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    assert raw_request(api.port, head, b"5\r\nhello\r\n0\r\n\r\n").startswith(b"HTTP/1.1 411")


def test_other_paths_and_methods_are_refused(api):
    base = api.url.removesuffix(management.PATH)
    assert requests.get(base + "/", timeout=10).status_code == 404
    assert requests.delete(api.url, timeout=10).status_code == 405
    assert requests.put(api.url, data=b"{}", timeout=10).status_code == 405


def test_kiosk_config_push_reaches_the_management_api(api, tmp_path):
    path = tmp_path / "b.json"
    path.write_bytes(fresh(api, 4))
    r = run_kiosk("config", "push", str(path), "--to", f"http://127.0.0.1:{api.port}", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["kind"] == "kiosk" and doc["answer"]["result"] == "applied"
    again = run_kiosk("config", "push", str(path), "--to", f"http://127.0.0.1:{api.port}")
    assert again.returncode == 0 and "unchanged" in again.stdout
    path.write_bytes(fresh(api, 2))  # older than what is applied
    old = run_kiosk("config", "push", str(path), "--to", f"http://127.0.0.1:{api.port}")
    assert old.returncode == 1 and "stale_version" in old.stdout
    assert api.hall() == "Hall v4"


def test_listen_addresses_are_parsed_or_named():
    assert management.parse_listen("127.0.0.1:8701") == ("127.0.0.1", 8701)
    assert management.parse_listen("[::1]:8701") == ("::1", 8701)
    with pytest.raises(ValueError, match="listen"):
        management.parse_listen("8701")
