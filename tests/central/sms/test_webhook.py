"""The webhook gateway against a real server on loopback that checks each request the way docs/sms.md
tells a province's SMS platform to: HMAC-SHA256 over timestamp, nonce and the raw body, in its own code."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import socket
import time
from pathlib import Path

import pytest

from kiosk.central.sms import GatewaySettingsError, SendError, make_gateway
from kiosk.central.sms.webhook import signature
from tests.central.sms.conftest import CODE, PHONE, make_sms
from tests.central.sms.loopback import Reply, Request

ROOT = Path(__file__).resolve().parents[3]
SECRET = "webhook-secret-for-tests-0123456789"
WINDOW_S = 300


class Receiver:
    """A province's SMS platform as docs/sms.md describes it: verify, refuse replays, de-duplicate."""

    def __init__(self, secret: str = SECRET):
        self.secret = secret.encode()
        self.nonces: set[str] = set()
        self.taken: dict[str, dict] = {}
        self.refusals: list[str] = []

    def __call__(self, request: Request) -> Reply:
        h = request.headers
        try:
            timestamp, nonce, claimed = h["x-sms-timestamp"], h["x-sms-nonce"], h["x-sms-signature"]
        except KeyError as exc:
            return self.refuse(f"missing {exc}")
        expected = hmac.new(self.secret, timestamp.encode() + b"\n" + nonce.encode() + b"\n" + request.body,
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, claimed):
            return self.refuse("bad signature")
        if abs(time.time() - int(timestamp)) > WINDOW_S:
            return self.refuse("stale")
        if nonce in self.nonces or len(nonce) != 32:
            return self.refuse("nonce")
        self.nonces.add(nonce)
        if not h.get("content-type", "").startswith("application/json"):
            return self.refuse("content type")
        message = json.loads(request.body.decode("utf-8"))
        if h.get("idempotency-key") != message["message_id"]:
            return self.refuse("idempotency key")
        self.taken.setdefault(message["message_id"], message)
        return Reply(200, {"receipt": "wh-" + message["message_id"][:8]})

    def refuse(self, why: str) -> Reply:
        self.refusals.append(why)
        return Reply(401, {"error": why})


def webhook(url: str, **extra):
    return make_gateway({"gateway": "webhook", "url": url, "secret": SECRET, "timeout_s": 2, **extra})


def test_a_signed_message_is_verified_and_taken_by_the_receiver(loopback, sms):
    receiver = Receiver()
    server = loopback(receiver)
    receipt = webhook(server.url + "/kiosk-sms").send(sms)
    assert receipt == "wh-" + sms.message_id[:8]
    assert receiver.refusals == []
    assert receiver.taken[sms.message_id] == {"message_id": sms.message_id, "phone": PHONE,
                                              "template": "pickup_ready", "params": sms.params, "text": sms.text}
    assert server.requests[0].target == "/kiosk-sms"


def test_the_same_message_sent_twice_is_two_requests_with_their_own_nonces(loopback, sms):
    receiver = Receiver()
    server = loopback(receiver)
    gateway = webhook(server.url)
    gateway.send(sms)
    gateway.send(sms)
    assert len(server.requests) == 2 and receiver.refusals == [] and len(receiver.nonces) == 2
    assert list(receiver.taken) == [sms.message_id]


def test_a_request_signed_with_another_secret_is_rejected_and_not_retried(loopback, sms):
    receiver = Receiver(secret="the-receivers-own-secret-000000")
    server = loopback(receiver)
    with pytest.raises(SendError) as caught:
        webhook(server.url).send(sms)
    assert receiver.refusals == ["bad signature"] and receiver.taken == {}
    assert (caught.value.reason, caught.value.retryable) == ("http_401", False)


def test_a_body_changed_on_the_way_fails_the_signature(loopback, sms):
    receiver = Receiver()

    def tamper(request: Request) -> Reply:
        request.body = request.body.replace(CODE.encode(), b"000000")
        return receiver(request)

    with pytest.raises(SendError):
        webhook(loopback(tamper).url).send(sms)
    assert receiver.refusals == ["bad signature"]


def test_a_stale_timestamp_is_refused(loopback, sms):
    receiver = Receiver()
    server = loopback(receiver)
    gateway = make_gateway({"gateway": "webhook", "url": server.url, "secret": SECRET},
                           clock=lambda: time.time() - 3600)
    with pytest.raises(SendError):
        gateway.send(sms)
    assert receiver.refusals == ["stale"]


@pytest.mark.parametrize("status, retryable", [(500, True), (502, True), (503, True), (408, True), (429, True),
                                               (400, False), (403, False), (404, False), (422, False)])
def test_status_decides_whether_the_message_may_be_retried(loopback, sms, status, retryable):
    server = loopback(lambda request: Reply(status, {"error": "x"}))
    with pytest.raises(SendError) as caught:
        webhook(server.url).send(sms)
    assert (caught.value.reason, caught.value.retryable) == (f"http_{status}", retryable)


def test_a_redirect_is_not_followed_and_is_final(loopback, sms):
    other = loopback(Receiver())
    server = loopback(lambda request: Reply(307, b"", headers={"Location": other.url}))
    with pytest.raises(SendError) as caught:
        webhook(server.url).send(sms)
    assert (caught.value.reason, caught.value.retryable) == ("http_307", False)
    assert other.requests == []


def test_a_receiver_that_does_not_answer_in_time_is_a_retryable_timeout(loopback, sms):
    def hold(request: Request) -> Reply:
        server.release.wait(10)
        return Reply(200, {})

    server = loopback(hold)
    started = time.monotonic()
    with pytest.raises(SendError) as caught:
        webhook(server.url, timeout_s=0.3).send(sms)
    assert (caught.value.reason, caught.value.retryable) == ("timeout", True)
    assert time.monotonic() - started < 5


def test_a_receiver_that_is_down_is_a_retryable_connection_error(sms):
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SendError) as caught:
        webhook(f"http://127.0.0.1:{port}/").send(sms)
    assert (caught.value.reason, caught.value.retryable) == ("connection_error", True)


def test_a_2xx_without_a_receipt_gives_the_message_id(loopback, sms):
    server = loopback(lambda request: Reply(204, b""))
    assert webhook(server.url).send(sms) == sms.message_id


@pytest.mark.parametrize("url", ["http://sms.example.gov.cn/hook", "http://10.1.2.3/hook", "http://192.168.1.5:8080/",
                                 "ftp://127.0.0.1/x", "https://user:pw@sms.example.gov.cn/hook", "sms.example.gov.cn"])
def test_plain_http_beyond_loopback_and_other_urls_are_refused_with_the_key_named(url):
    with pytest.raises(GatewaySettingsError, match=r"\[notify\] url"):
        make_gateway({"gateway": "webhook", "url": url, "secret": SECRET})


@pytest.mark.parametrize("url", ["https://sms.example.gov.cn/hook", "http://127.0.0.1:8700/hook",
                                 "http://localhost/hook", "http://[::1]:9000/hook", "http://127.8.9.10/"])
def test_https_anywhere_and_http_to_loopback_are_accepted(url):
    assert make_gateway({"gateway": "webhook", "url": url, "secret": SECRET}).endpoint.url == url


def test_the_secret_may_live_in_a_file_and_a_short_one_is_refused_without_showing_it(tmp_path, loopback, sms):
    secret_file = tmp_path / "sms.secret"
    secret_file.write_text(SECRET + "\n")
    secret_file.chmod(0o600)
    receiver = Receiver()
    server = loopback(receiver)
    make_gateway({"gateway": "webhook", "url": server.url, "secret_file": str(secret_file)}).send(sms)
    assert receiver.refusals == []
    with pytest.raises(GatewaySettingsError, match="shorter than 16") as caught:
        make_gateway({"gateway": "webhook", "url": server.url, "secret": "short-secret"})
    assert "short-secret" not in str(caught.value)
    with pytest.raises(GatewaySettingsError, match="exactly one of secret and secret_file"):
        make_gateway({"gateway": "webhook", "url": server.url, "secret": SECRET, "secret_file": str(secret_file)})
    with pytest.raises(GatewaySettingsError, match="cannot be read"):
        make_gateway({"gateway": "webhook", "url": server.url, "secret_file": str(tmp_path / "missing")})


def test_log_lines_show_the_number_masked_and_never_the_code_text_or_secret(loopback, caplog):
    server = loopback(Receiver())
    gateway = webhook(server.url)
    failing = webhook(loopback(lambda request: Reply(503, b"busy")).url)
    with caplog.at_level(logging.DEBUG):
        gateway.send(make_sms())
        with pytest.raises(SendError):
            failing.send(make_sms())
    text = "\n".join(r.getMessage() for r in caplog.records) + repr(gateway) + repr(make_sms())
    assert "138****1234" in text
    for secret in (PHONE, CODE, SECRET, "城东政务服务中心"):
        assert secret not in text


def test_docs_state_the_scheme_this_receiver_checks():
    doc = (ROOT / "docs" / "sms.md").read_text(encoding="utf-8")
    for fact in ("X-Sms-Timestamp", "X-Sms-Nonce", "X-Sms-Signature", "Idempotency-Key",
                 'HMAC-SHA256(secret, timestamp + "\\n" + nonce + "\\n" + body)'):
        assert fact in doc


def test_the_worked_example_in_the_docs_checks_out():
    doc = (ROOT / "docs" / "sms.md").read_text(encoding="utf-8")
    example = doc[doc.index("Worked example"):]
    secret = re.search(r"secret\s+`([^`]+)`", example)[1]
    timestamp = re.search(r"timestamp `(\d+)`", example)[1]
    nonce = re.search(r"nonce\s+`([0-9a-f]{32})`", example)[1]
    body = re.search(r"```\n(\{.*\})\n```", example)[1].encode("utf-8")
    claimed = re.search(r"X-Sms-Signature: ([0-9a-f]{64})", example)[1]
    assert f"body of {len(body)} bytes" in " ".join(example.split())
    assert hmac.new(secret.encode(), timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body,
                    hashlib.sha256).hexdigest() == claimed
    assert signature(secret, timestamp, nonce, body) == claimed
    message = json.loads(body)
    sms = make_sms(message_id=message["message_id"], phone=message["phone"], params=message["params"],
                   text=message["text"])
    gateway = make_gateway({"gateway": "webhook", "url": "https://sms.example.gov.cn/", "secret": secret},
                           clock=lambda: int(timestamp))
    made, headers = gateway.request(sms)
    assert made == body and headers["X-Sms-Timestamp"] == timestamp
