"""Alibaba Cloud SMS (dysmsapi): SendSms of version 2017-05-25, signed with the RPC signature (HMAC-SHA1).

    [notify]
    gateway = "aliyun"
    access_key_id = "LTAI..."
    access_key_secret_file = "/etc/kiosk/aliyun-sms.key"   # or access_key_secret = "..."
    sign_name = "某某市政务服务中心"                        # the approved signature (签名)
    region = "cn-hangzhou"                                 # default
    endpoint = "https://dysmsapi.aliyuncs.com"             # default
    timeout_s = 10
    [notify.template_ids]                                  # the approved template code of each message
    pickup_ready = "SMS_123456789"
    ...
    [notify.template_params]                               # optional: which of our parameters the template has
    pickup_ready = ["code", "hall", "place", "deadline"]

Alibaba's templates name their variables (${code}), so TemplateParam is a JSON object of our parameter
names, limited to those the template has. The request follows the vendor's published documents:

- SendSms: https://help.aliyun.com/document_detail/55284.html — PhoneNumbers, SignName, TemplateCode,
  TemplateParam (JSON), OutId (our message id; the vendor echoes it in receipts and, as it says there,
  does not de-duplicate sends). The answer {"Code": "OK", "Message", "BizId", "RequestId"}; any other
  Code is the error.
- Signature (RPC, 签名机制): https://help.aliyun.com/document_detail/28839.html — every parameter but
  Signature, common ones included (AccessKeyId, Action, Format, RegionId, SignatureMethod=HMAC-SHA1,
  SignatureNonce, SignatureVersion=1.0, Timestamp=YYYY-MM-DDThh:mm:ssZ, Version), sorted by name, each
  name and value percent-encoded as UTF-8 with only A-Z a-z 0-9 - _ . ~ left as they are (space is
  %20), joined name=value with &:
      StringToSign = "POST&%2F&" + percentEncode(CanonicalizedQueryString)
      Signature    = Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign))
  sent as a form body (application/x-www-form-urlencoded). The document's worked example (SendSms,
  Timestamp 2017-07-12T02:42:19Z, signature zJDF+Lrzhj/ThnlvIToysFRq6t4=) is a test vector in
  tests/central/sms/test_aliyun.py.
- Error codes: https://help.aliyun.com/document_detail/101346.html; `retryable` below sorts them:
  flow control, send limits and system errors may pass later; wrong numbers, templates, signatures,
  keys and a suspended account need a person.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import requests

from kiosk.central.sms import transport
from kiosk.central.sms.base import (SendError, Sms, logged_send, name_setting, scrub, secret_setting, setting,
                                    template_settings, template_values, timeout_setting)

ENDPOINT = "https://dysmsapi.aliyuncs.com"
VERSION = "2017-05-25"

RETRYABLE = frozenset({
    "isp.SYSTEM_ERROR", "isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "isv.MONTH_LIMIT_CONTROL",
    "ServiceUnavailable", "InternalError", "SignatureNonceUsed",
    # our clock or theirs is off: the same message passes once the clocks agree (keep NTP running)
    "InvalidTimeStamp.Expired",
})


def retryable(code: str) -> bool:
    return code in RETRYABLE or code.startswith("Throttling")


def percent_encode(value: str) -> str:
    return quote(value.encode("utf-8"), safe="-_.~")


def string_to_sign(params: Mapping[str, str], method: str = "POST") -> str:
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(params[k])}" for k in sorted(params))
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def signature(access_key_secret: str, params: Mapping[str, str], method: str = "POST") -> str:
    digest = hmac.new((access_key_secret + "&").encode("utf-8"), string_to_sign(params, method).encode("utf-8"),
                      hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


class AliyunGateway:
    name = "aliyun"

    def __init__(self, *, access_key_id: str, access_key_secret: str, sign_name: str,
                 templates: Mapping[str, tuple[str, tuple[str, ...]]], region: str = "cn-hangzhou",
                 endpoint: str = ENDPOINT, timeout_s: float = 10.0, clock: Callable[[], float] = time.time,
                 session: requests.Session | None = None):
        self.endpoint = transport.Endpoint(endpoint, "endpoint", timeout_s, session)
        self.access_key_id, self._secret = access_key_id, access_key_secret
        self.sign_name, self.region = sign_name, region
        self.templates, self.clock = dict(templates), clock

    @classmethod
    def from_settings(cls, spec: Mapping[str, Any], *, clock: Callable[[], float] = time.time,
                      session: requests.Session | None = None, **_: Any) -> AliyunGateway:
        return cls(access_key_id=setting(spec, "access_key_id"),
                   access_key_secret=secret_setting(spec, "access_key_secret"), sign_name=setting(spec, "sign_name"),
                   templates=template_settings(spec), region=name_setting(spec, "region", "cn-hangzhou"),
                   endpoint=setting(spec, "endpoint", ENDPOINT), timeout_s=timeout_setting(spec), clock=clock,
                   session=session)

    def __repr__(self) -> str:
        return f"AliyunGateway({self.endpoint!r}, access_key_id={self.access_key_id!r})"

    def request(self, sms: Sms) -> bytes:
        """The form body of the SendSms call for `sms`, signed now."""
        template_code, names = self.templates[sms.template]
        values = dict(zip(names, template_values(sms, names)))
        params = {
            "AccessKeyId": self.access_key_id, "Action": "SendSms", "Format": "JSON", "RegionId": self.region,
            "SignatureMethod": "HMAC-SHA1", "SignatureNonce": str(uuid.uuid4()), "SignatureVersion": "1.0",
            "Timestamp": dt.datetime.fromtimestamp(int(self.clock()), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": VERSION,
            "PhoneNumbers": sms.phone, "SignName": self.sign_name, "TemplateCode": template_code,
            "TemplateParam": json.dumps(values, ensure_ascii=False, separators=(",", ":")), "OutId": sms.message_id,
        }
        params["Signature"] = signature(self._secret, params)
        return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in params.items()).encode("ascii")

    def send(self, sms: Sms) -> str:
        return logged_send(sms, "Alibaba Cloud", lambda: self._attempt(sms))

    def _attempt(self, sms: Sms) -> str:
        answer = self.endpoint.post(self.request(sms), {"Content-Type": "application/x-www-form-urlencoded"})
        return self._read(answer, sms)

    def _read(self, answer: transport.Answer, sms: Sms) -> str:
        try:
            reply = json.loads(answer.body)
            code = reply["Code"]
        except (ValueError, KeyError, TypeError):
            raise transport.status_error(answer.status) or SendError("aliyun:unreadable_answer", retryable=True) \
                from None
        request_id = str(reply.get("RequestId", "?"))[:64]
        if code == "OK":
            http_error = transport.status_error(answer.status)
            if http_error:
                raise http_error
            biz_id = reply.get("BizId")
            return biz_id if isinstance(biz_id, str) and biz_id else request_id
        if not isinstance(code, str) or not code.isprintable():
            raise transport.status_error(answer.status) or SendError("aliyun:unreadable_answer", retryable=True)
        text = scrub(str(reply.get("Message") or ""), sms)[:160]
        raise SendError(f"aliyun:{code[:80]}: {text} (RequestId {request_id})", retryable=retryable(code))
