"""Tencent Cloud SMS: SendSms of API 3.0 (version 2021-01-11), signed with TC3-HMAC-SHA256.

    [notify]
    gateway = "tencent"
    secret_id = "AKID..."
    secret_key_file = "/etc/kiosk/tencent-sms.key"    # or secret_key = "..."
    sdk_app_id = "1400006666"                         # the SMS application's SdkAppId
    sign_name = "某某市政务服务中心"                   # the approved signature (签名)
    region = "ap-guangzhou"                           # default; ap-beijing and ap-nanjing also serve SMS
    endpoint = "https://sms.tencentcloudapi.com"      # default
    timeout_s = 10
    [notify.template_ids]                             # the approved template (正文模板) of each message
    pickup_ready = "1234567"
    ...
    [notify.template_params]                          # optional: the order of {1}, {2}, ... (docs/sms.md)
    pickup_ready = ["code", "hall", "place", "deadline"]

The request follows the vendor's published documents, which this module implements and cites:

- SendSms: https://cloud.tencent.com/document/api/382/55981 — POST a JSON body {PhoneNumberSet:
  ["+86..."], SmsSdkAppId, SignName, TemplateId, TemplateParamSet, SessionContext} with the common
  headers X-TC-Action: SendSms, X-TC-Version: 2021-01-11, X-TC-Region, X-TC-Timestamp and Authorization
  (common parameters: https://www.tencentcloud.com/zh/document/product/382/40466). SessionContext carries
  our message id; the vendor echoes it back and does not de-duplicate on it.
- Signature v3 (签名方法 v3, the same page under every product, e.g.
  https://cloud.tencent.com/document/api/362/4208):
      CanonicalRequest = "POST\\n/\\n\\n" + CanonicalHeaders + "\\n" + SignedHeaders + "\\n" + hex(SHA256(body))
      CanonicalHeaders = "content-type:<v>\\nhost:<v>\\nx-tc-action:<v>\\n"  (names and values lower case, trimmed)
      StringToSign     = "TC3-HMAC-SHA256\\n" + timestamp + "\\n" + date + "/sms/tc3_request\\n"
                         + hex(SHA256(CanonicalRequest))               (date: UTC date of the timestamp)
      SecretSigning    = HMAC(HMAC(HMAC("TC3" + SecretKey, date), "sms"), "tc3_request")
      Signature        = hex(HMAC-SHA256(SecretSigning, StringToSign))
      Authorization    = "TC3-HMAC-SHA256 Credential=<SecretId>/<date>/sms/tc3_request,
                          SignedHeaders=content-type;host;x-tc-action, Signature=<Signature>"
  The document's worked example (DescribeInstances, timestamp 1551113065) is a test vector in
  tests/central/sms/test_tencent.py.
- Answers and error codes: https://cloud.tencent.com/document/api/382/38780 (common: the body
  {"Response": {"Error": {"Code", "Message"}, "RequestId"}}) and
  https://cloud.tencent.com/document/api/382/59177 (SMS). A request that was accepted still carries a
  result per number in SendStatusSet[].Code: "Ok" is sent, anything else is that number's error.
  `retryable` below sorts the codes: throttling, frequency limits and internal errors may pass later;
  wrong numbers, templates, signatures, keys and an empty balance need a person.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from kiosk.central.sms import transport
from kiosk.central.sms.base import (SendError, Sms, logged_send, name_setting, scrub, secret_setting, setting,
                                    template_settings, template_values, timeout_setting)

ENDPOINT = "https://sms.tencentcloudapi.com"
SERVICE, ACTION, VERSION, ALGORITHM = "sms", "SendSms", "2021-01-11", "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"

# an error code that may pass when the same message is sent again later; every other code is final
RETRYABLE = frozenset({
    "InternalError", "InternalError.Timeout", "InternalError.SendAndRecvFail", "InternalError.OtherError",
    "InternalError.UnknownError",
    # our clock or theirs is off: the same message passes once the clocks agree (keep NTP running)
    "AuthFailure.SignatureExpire", "InternalError.RequestTimeException",
    "RequestLimitExceeded", "ServiceUnavailable", "LimitExceeded",
    "LimitExceeded.AppDailyLimit", "LimitExceeded.DailyLimit", "LimitExceeded.DeliveryFrequencyLimit",
    "LimitExceeded.PhoneNumberDailyLimit", "LimitExceeded.PhoneNumberOneHourLimit",
    "LimitExceeded.PhoneNumberThirtySecondLimit", "LimitExceeded.PhoneNumberSameContentDailyLimit",
})
FINAL_INTERNAL = frozenset({"InternalError.JsonParseFail", "InternalError.SigFieldMissing",
                            "InternalError.SigVerificationFail", "InternalError.RestApiInterfaceNotExist"})


def retryable(code: str) -> bool:
    if code in RETRYABLE or code.startswith("RequestLimitExceeded."):
        return True
    return code.startswith("InternalError.") and code not in FINAL_INTERNAL


@dataclass(frozen=True)
class Signed:
    canonical_request: str
    string_to_sign: str
    signature: str
    authorization: str


def sign(secret_id: str, secret_key: str, *, service: str, timestamp: int, headers: Mapping[str, str],
         payload: bytes) -> Signed:
    """TC3-HMAC-SHA256 over a POST to "/" with no query; `headers` are the signed ones (name -> value)."""
    canonical = {name.lower().strip(): value.lower().strip() for name, value in headers.items()}
    names = sorted(canonical)
    signed_headers = ";".join(names)
    canonical_request = "\n".join(["POST", "/", "", "".join(f"{n}:{canonical[n]}\n" for n in names), signed_headers,
                                   hashlib.sha256(payload).hexdigest()])
    date = dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join([ALGORITHM, str(timestamp), scope,
                                hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()])
    key = ("TC3" + secret_key).encode("utf-8")
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    authorization = (f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, "
                     f"Signature={signature}")
    return Signed(canonical_request, string_to_sign, signature, authorization)


class TencentGateway:
    name = "tencent"

    def __init__(self, *, secret_id: str, secret_key: str, sdk_app_id: str, sign_name: str,
                 templates: Mapping[str, tuple[str, tuple[str, ...]]], region: str = "ap-guangzhou",
                 endpoint: str = ENDPOINT, timeout_s: float = 10.0, clock: Callable[[], float] = time.time,
                 session: requests.Session | None = None):
        self.endpoint = transport.Endpoint(endpoint, "endpoint", timeout_s, session)
        self.secret_id, self._secret_key = secret_id, secret_key
        self.sdk_app_id, self.sign_name, self.region = sdk_app_id, sign_name, region
        self.templates, self.clock = dict(templates), clock

    @classmethod
    def from_settings(cls, spec: Mapping[str, Any], *, clock: Callable[[], float] = time.time,
                      session: requests.Session | None = None, **_: Any) -> TencentGateway:
        return cls(secret_id=setting(spec, "secret_id"), secret_key=secret_setting(spec, "secret_key"),
                   sdk_app_id=str(setting(spec, "sdk_app_id", kind=(str, int))), sign_name=setting(spec, "sign_name"),
                   templates=template_settings(spec), region=name_setting(spec, "region", "ap-guangzhou"),
                   endpoint=setting(spec, "endpoint", ENDPOINT), timeout_s=timeout_setting(spec), clock=clock,
                   session=session)

    def __repr__(self) -> str:
        return f"TencentGateway({self.endpoint!r}, secret_id={self.secret_id!r}, sdk_app_id={self.sdk_app_id!r})"

    def request(self, sms: Sms) -> tuple[bytes, dict[str, str]]:
        """The body and headers of the SendSms call for `sms`, signed now."""
        template_id, names = self.templates[sms.template]
        payload = json.dumps({
            "PhoneNumberSet": ["+86" + sms.phone], "SmsSdkAppId": self.sdk_app_id, "SignName": self.sign_name,
            "TemplateId": template_id, "TemplateParamSet": template_values(sms, names),
            "SessionContext": sms.message_id,
        }, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = int(self.clock())
        signed = sign(self.secret_id, self._secret_key, service=SERVICE, timestamp=timestamp,
                      headers={"Content-Type": CONTENT_TYPE, "Host": self.endpoint.host, "X-TC-Action": ACTION},
                      payload=payload)
        return payload, {"Authorization": signed.authorization, "Content-Type": CONTENT_TYPE,
                         "Host": self.endpoint.host, "X-TC-Action": ACTION, "X-TC-Version": VERSION,
                         "X-TC-Region": self.region, "X-TC-Timestamp": str(timestamp)}

    def send(self, sms: Sms) -> str:
        return logged_send(sms, "Tencent Cloud", lambda: self._attempt(sms))

    def _attempt(self, sms: Sms) -> str:
        payload, headers = self.request(sms)
        return self._read(self.endpoint.post(payload, headers), sms)

    def _read(self, answer: transport.Answer, sms: Sms) -> str:
        try:
            response = json.loads(answer.body)["Response"]
            if not isinstance(response, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise transport.status_error(answer.status) or SendError("tencent:unreadable_answer", retryable=True) \
                from None
        request_id = str(response.get("RequestId", "?"))[:64]
        error = response.get("Error")
        if isinstance(error, dict):
            raise _vendor_error(error.get("Code"), error.get("Message"), request_id, sms)
        http_error = transport.status_error(answer.status)
        if http_error:
            raise http_error
        statuses = response.get("SendStatusSet")
        if not isinstance(statuses, list) or len(statuses) != 1 or not isinstance(statuses[0], dict):
            raise SendError(f"tencent:unreadable_answer (RequestId {request_id})", retryable=True)
        status = statuses[0]
        if status.get("Code") != "Ok":
            raise _vendor_error(status.get("Code"), status.get("Message"), request_id, sms)
        serial = status.get("SerialNo")
        return serial if isinstance(serial, str) and serial else request_id


def _vendor_error(code: Any, message: Any, request_id: str, sms: Sms) -> SendError:
    code = code if isinstance(code, str) and code.isprintable() else "unknown"
    text = scrub(str(message or ""), sms)[:160]
    return SendError(f"tencent:{code[:80]}: {text} (RequestId {request_id})", retryable=retryable(code))
