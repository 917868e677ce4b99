"""The kiosk's progress look-ups (CentralClient.case_progress, cases_of_holder) against the real platform.

`kiosk central` runs as a subprocess on loopback (tests/central/pickup_kit.py, with its hash key); the
approval system's cases and events are posted to it as an operator, a deposit uploaded as a kiosk. A
platform that is down, that never answers, or that answers something else is a loopback socket of the
test's own: each is `PlatformUnavailable` within the look-up timeout, never a hang.
"""
from __future__ import annotations

import socket
import threading
import time
from contextlib import closing
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kiosk.sync.client import CentralClient, CentralServerError, CentralTimeout
from kiosk.wire.errors import PlatformUnavailable
from kiosk.wire.hashing import holder_hash
from tests.central.pickup_kit import HASH_KEY, T0, id_number, new_case, start_loop
from tests.sync.caseplatform import closed_port_url


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    lp = start_loop(tmp_path_factory.mktemp("progress-client"))
    yield lp
    lp.central.server.stop()


def kiosk_client(loop, url: str | None = None, timeout_s: float = 3) -> CentralClient:
    return CentralClient(url or loop.central.url, "k1", loop.central.secrets[("kiosk", "k1")],
                         lookup_timeout_s=timeout_s)


def test_a_case_comes_back_with_its_steps_promised_date_and_the_door_to_collect_it_from(loop):
    case = new_case()
    assert loop.post_case(case, "13800138000", id_serial=41, promised_by="2099-12-31",
                          department="市场监督管理局").status_code == 201
    for n, (step, status) in enumerate((("受理", "done"), ("审查", "done"), ("制证", "done"))):
        res = loop.central.call("POST", f"/api/v1/cases/{case}/events", {
            "event_id": f"ev-{n}", "step": step, "status": status, "at": (T0 + timedelta(days=n)).isoformat(),
            "final": step == "制证"}, operator="op")
        assert res.status_code == 201, res.text
    loop.upload(loop.deposit(case, "620001", door=7, at=T0.replace(year=2099)))
    with closing(kiosk_client(loop)) as client:
        found = client.case_progress(case.lower())
    assert found.case_number == case and found.department == "市场监督管理局"
    assert [s.step for s in found.steps] == ["受理", "审查", "制证"] and found.finished and not found.late
    assert found.promised_by.isoformat() == "2099-12-31"
    assert found.next.action == "collect_from_locker" and found.next.door == 7 and found.next.needs_id_card
    assert "7号柜门" in found.next.text and found.locker.kiosk_id == "k1"


def test_an_unknown_case_or_a_number_the_platform_refuses_is_none(loop):
    with closing(kiosk_client(loop)) as client:
        assert client.case_progress(new_case()) is None
        assert client.case_progress("110101199001010015") is None


def test_a_holders_cases_come_back_newest_first(loop):
    cases = [new_case() for _ in range(2)]
    for n, case in enumerate(cases):
        loop.post_case(case, "13800138000", id_serial=42, accepted_at=(T0 + timedelta(days=n)).isoformat())
    with closing(kiosk_client(loop)) as client:
        listed = client.cases_of_holder(holder_hash(HASH_KEY, id_number(42)))
        nobody = client.cases_of_holder("0" * 64)
    assert [c.case_number for c in listed.cases] == cases[::-1] and not listed.more
    assert nobody.cases == []


def test_a_platform_that_is_down_or_never_answers_is_unavailable_within_the_lookup_timeout(loop):
    with closing(kiosk_client(loop, closed_port_url())) as client, pytest.raises(PlatformUnavailable):
        client.case_progress("SX2026-0001")
    silent = socket.socket()             # takes the connection, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        start = time.monotonic()
        with closing(kiosk_client(loop, f"http://127.0.0.1:{silent.getsockname()[1]}", timeout_s=0.4)) as client:
            with pytest.raises(CentralTimeout):
                client.cases_of_holder("a" * 64)
        assert time.monotonic() - start < 3
    finally:
        silent.close()


@pytest.mark.parametrize("body", [b"<html>proxy</html>", b'{"case_number": "SX2026-0001"}',
                                  b'{"case_number": "SX2026-0002", "item_name": "x", "next": {"action": "wait", '
                                  b'"text": "x"}}'])
def test_an_answer_that_is_not_this_cases_progress_is_the_platform_failing(loop, body):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_a):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with closing(kiosk_client(loop, f"http://127.0.0.1:{server.server_address[1]}")) as client:
            with pytest.raises(CentralServerError) as failed:
                client.case_progress("SX2026-0001")
        assert isinstance(failed.value, PlatformUnavailable)
    finally:
        server.shutdown()
        server.server_close()
