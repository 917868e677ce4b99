"""The webhook gateway: each message is POSTed as JSON to a province's or hall's own SMS platform,
signed with a shared secret.

    [notify]
    gateway = "webhook"
    url = "https://sms.example.gov.cn/api/kiosk-sms"   # http only to 127.0.0.1 / ::1 / localhost
    secret_file = "/etc/kiosk/sms-webhook.secret"       # or secret = "..." (16+ characters)
    timeout_s = 10

The request (docs/sms.md, "Webhook", says the same for the receiving side):

    POST <url>
    Content-Type: application/json; charset=utf-8
    Idempotency-Key: <message_id>
    X-Sms-Timestamp: <unix seconds, decimal>
    X-Sms-Nonce: <32 lowercase hex digits, new for every request>
    X-Sms-Signature: <lowercase hex of HMAC-SHA256(key = secret as UTF-8,
                                                   msg = timestamp + "\\n" + nonce + "\\n" + body)>

    {"message_id": "...", "phone": "13812341234", "template": "pickup_ready",
     "params": {"code": "...", ...}, "text": "<the whole message in Chinese>"}

`body` is the exact bytes sent (UTF-8 JSON); the receiver computes the HMAC over the raw bytes it
received, before parsing them. It should refuse a timestamp more than 300 s from its clock, refuse a
nonce it saw in the last 600 s, compare signatures in constant time, and treat a `message_id` it has
already taken as success without sending again (a retry after a lost answer repeats it).

The answer: 2xx = taken, optionally with a JSON body {"receipt": "<its id of the message>"}; 408, 429
and 5xx are tried again later; any other status is final (the message is marked failed).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from kiosk.central.sms import transport
from kiosk.central.sms.base import MIN_SECRET, Sms, logged_send, secret_setting, setting, timeout_setting

HEADER_TS, HEADER_NONCE, HEADER_SIG, HEADER_ID = "X-Sms-Timestamp", "X-Sms-Nonce", "X-Sms-Signature", "Idempotency-Key"
RECEIPT_MAX = 128


def signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The X-Sms-Signature of a request: what a receiver computes again to check one."""
    msg = timestamp.encode("ascii") + b"\n" + nonce.encode("ascii") + b"\n" + body
    return hmac.new(secret.encode("utf-8"), msg, hashlib.sha256).hexdigest()


class WebhookGateway:
    name = "webhook"

    def __init__(self, url: str, secret: str, *, timeout_s: float = 10.0, clock: Callable[[], float] = time.time,
                 session: requests.Session | None = None):
        self.endpoint = transport.Endpoint(url, "url", timeout_s, session)
        self._secret = secret
        self.clock = clock

    @classmethod
    def from_settings(cls, spec: Mapping[str, Any], *, clock: Callable[[], float] = time.time,
                      session: requests.Session | None = None, **_: Any) -> WebhookGateway:
        return cls(setting(spec, "url"), secret_setting(spec, "secret", min_length=MIN_SECRET),
                   timeout_s=timeout_setting(spec), clock=clock, session=session)

    def __repr__(self) -> str:
        return f"WebhookGateway({self.endpoint!r})"

    def request(self, sms: Sms) -> tuple[bytes, dict[str, str]]:
        """The body and headers of the POST for `sms`, signed now."""
        body = json.dumps({"message_id": sms.message_id, "phone": sms.phone, "template": sms.template,
                           "params": sms.params, "text": sms.text},
                          ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp, nonce = str(int(self.clock())), secrets.token_hex(16)
        return body, {"Content-Type": "application/json; charset=utf-8", HEADER_ID: sms.message_id,
                      HEADER_TS: timestamp, HEADER_NONCE: nonce,
                      HEADER_SIG: signature(self._secret, timestamp, nonce, body)}

    def send(self, sms: Sms) -> str:
        return logged_send(sms, f"the webhook at {self.endpoint.host}", lambda: self._attempt(sms))

    def _attempt(self, sms: Sms) -> str:
        body, headers = self.request(sms)
        answer = self.endpoint.post(body, headers)
        error = transport.status_error(answer.status)
        if error:
            raise error
        return _receipt(answer.body) or sms.message_id


def _receipt(body: bytes) -> str | None:
    try:
        value = json.loads(body).get("receipt")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and 0 < len(value) <= RECEIPT_MAX and value.isprintable() else None
