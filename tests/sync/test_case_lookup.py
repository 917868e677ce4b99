"""The kiosk's case look-up (CentralClient.find_case) against a loopback stand-in of the platform's route.

These talk to tests/sync/caseplatform.py, which answers as the documented route does, checks the
signature, and can be slow or answer wrongly on purpose; tests/pickup/test_pickup_loop.py looks cases up
on the reference platform itself.
"""
from __future__ import annotations

import time

import pytest

from kiosk.sync.client import CentralAuthRefused, CentralClient, CentralOffline, CentralServerError, CentralTimeout
from kiosk.wire.errors import PlatformUnavailable
from tests.sync.caseplatform import CasePlatform, closed_port_url, demo_case

KIOSK, SECRET = "demo-hall-k01", "case-lookup-secret-0000000000"
HOLDER = "a" * 64


@pytest.fixture
def platform():
    p = CasePlatform(KIOSK, SECRET, {"BJ2026-0001": demo_case(holder_hash=HOLDER)})
    yield p
    p.close()


def client(url: str, secret: str = SECRET, lookup_timeout_s: float = 3) -> CentralClient:
    return CentralClient(url, KIOSK, secret, lookup_timeout_s=lookup_timeout_s)


def test_a_known_case_comes_back_with_its_item_rules_holder_and_masked_phone(platform):
    case = client(platform.url).find_case("BJ2026-0001")
    assert case.case_number == "BJ2026-0001" and case.item_name == "不动产权证书"
    assert case.needs_id_card is True and case.hold_days == 5 and case.holder_hash == HOLDER
    assert case.phone_masked == "138****1234" and case.ended is None
    assert platform.seen == [(f"/api/v1/kiosks/{KIOSK}/cases/BJ2026-0001", 200)]


def test_an_unknown_case_is_none_not_an_error(platform):
    assert client(platform.url).find_case("BJ2026-9999") is None
    assert platform.seen[-1][1] == 404


def test_a_platform_that_is_down_or_too_slow_is_unavailable_within_the_lookup_timeout(platform):
    with pytest.raises(CentralOffline) as down:
        client(closed_port_url()).find_case("BJ2026-0001")
    assert isinstance(down.value, PlatformUnavailable)
    platform.delay_s = 5
    start = time.monotonic()
    with pytest.raises(CentralTimeout) as slow:
        client(platform.url, lookup_timeout_s=0.3).find_case("BJ2026-0001")
    assert time.monotonic() - start < 2 and isinstance(slow.value, PlatformUnavailable)


def test_a_wrong_secret_is_refused_and_said_so(platform):
    with pytest.raises(CentralAuthRefused, match=r"\[central\] secret"):
        client(platform.url, secret="another-secret-000000000000000").find_case("BJ2026-0001")


@pytest.mark.parametrize("body", [b"<html>proxy</html>", b'{"case_number": "BJ2026-0001"}',
                                  b'{"case_number": "BJ2026-0001", "item_name": "x", "needs_id_card": "yes"}',
                                  b'{"case_number": "BJ2026-0002", "item_name": "x", "needs_id_card": true}'])
def test_an_answer_that_is_not_this_case_is_the_platform_failing_not_a_case(platform, body):
    platform.answers["BJ2026-0001"] = body
    with pytest.raises(CentralServerError) as failed:
        client(platform.url).find_case("BJ2026-0001")
    assert isinstance(failed.value, PlatformUnavailable)


def test_a_phone_number_sent_whole_is_masked_before_anyone_sees_it(platform):
    platform.cases["BJ2026-0003"] = demo_case("BJ2026-0003", phone_masked="13812345678")
    assert client(platform.url).find_case("BJ2026-0003").phone_masked == "138****5678"


def test_the_platform_may_add_fields_and_say_the_item_has_left_already(platform):
    platform.cases["BJ2026-0004"] = demo_case("BJ2026-0004", state="collected", notified_at="2026-05-18T09:30:00+08:00")
    case = client(platform.url).find_case("BJ2026-0004")
    assert case.ended == "collected"


def test_an_answer_refused_is_described_by_its_fields_never_by_their_values(platform):
    platform.answers["BJ2026-0001"] = ('{"case_number": "BJ2026-0001", "item_name": "x", "needs_id_card": true, '
                                      '"phone_masked": "13812345678 13812345678 13812345678"}').encode()
    with pytest.raises(CentralServerError) as failed:
        client(platform.url).find_case("BJ2026-0001")
    assert "phone_masked" in str(failed.value) and "12345678" not in str(failed.value)
