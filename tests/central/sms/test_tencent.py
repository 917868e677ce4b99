"""Tencent Cloud SMS (SendSms, API 3.0, TC3-HMAC-SHA256) against a local stand-in for
sms.tencentcloudapi.com that checks signatures as the vendor's "签名方法 v3" document describes, in its
own code built from the raw HTTP request, and answers as the SendSms and error-code documents show."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import time
import uuid

import pytest

from kiosk.central.sms import TEMPLATES, GatewaySettingsError, SendError, make_gateway
from kiosk.central.sms.tencent import retryable, sign
from tests.central.sms.conftest import CODE, PHONE, make_sms
from tests.central.sms.loopback import Reply, Request

SECRET_ID, SECRET_KEY = "AKIDtestkioskcentral0000000000000000", "kiosk-test-secret-key-000000000000"
APP_ID, SIGN_NAME = "1400006666", "城东政务"
TEMPLATE_IDS = {"pickup_ready": "2001001", "pickup_reminder": "2001002", "pickup_overdue": "2001003",
                "handin_received": "2001004"}
AUTH = re.compile(r"TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z]+)/"
                  r"tc3_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<sig>[0-9a-f]{64})")


# ---- the vendor's worked example (签名方法 v3: DescribeInstances, 2019-02-25) ----

def test_the_documented_example_signs_to_the_documented_signature():
    payload = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    signed = sign("AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******", "Gu5t9xGARNpq86cd98joQYCN3*******", service="cvm",
                  timestamp=1551113065, payload=payload,
                  headers={"Content-Type": "application/json; charset=utf-8", "Host": "cvm.tencentcloudapi.com"})
    assert signed.canonical_request == ("POST\n/\n\ncontent-type:application/json; charset=utf-8\n"
                                        "host:cvm.tencentcloudapi.com\n\ncontent-type;host\n"
                                        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064")
    assert signed.string_to_sign == ("TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
                                     "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031")
    assert signed.signature == "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
    assert signed.authorization == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, "
        "SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c")


# ---- a stand-in for the vendor ----

class TencentSms:
    """Checks what the vendor checks, in the order its documents give, and answers in its format.
    `force` makes the next accepted request answer with an error (`("error", code)`) or a per-number
    status (`("status", code, message)`)."""

    def __init__(self):
        self.keys = {SECRET_ID: SECRET_KEY}
        self.accepted: list[dict] = []
        self.force: tuple | None = None

    def __call__(self, request: Request) -> Reply:
        h = request.headers
        m = AUTH.fullmatch(h.get("authorization", ""))
        if not m:
            return self.error("AuthFailure.InvalidAuthorization", "Authorization in the request header is invalid.")
        if m["id"] not in self.keys:
            return self.error("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        signed = m["signed"].split(";")
        if "content-type" not in signed or "host" not in signed or signed != sorted(signed):
            return self.error("AuthFailure.SignatureFailure", "SignedHeaders must include content-type and host.")
        path, _, query = request.target.partition("?")
        canonical_headers = "".join(f"{name}:{h.get(name, '').strip().lower()}\n" for name in signed)
        canonical_request = "\n".join([request.method, path, query, canonical_headers, m["signed"],
                                       hashlib.sha256(request.body).hexdigest()])
        timestamp = h.get("x-tc-timestamp", "")
        scope = f"{m['date']}/{m['service']}/tc3_request"
        to_sign = "\n".join(["TC3-HMAC-SHA256", timestamp, scope,
                             hashlib.sha256(canonical_request.encode()).hexdigest()])
        k_date = hmac.new(("TC3" + self.keys[m["id"]]).encode(), m["date"].encode(), hashlib.sha256).digest()
        k_service = hmac.new(k_date, m["service"].encode(), hashlib.sha256).digest()
        k_signing = hmac.new(k_service, b"tc3_request", hashlib.sha256).digest()
        expected = hmac.new(k_signing, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, m["sig"]) or m["service"] != "sms":
            return self.error("AuthFailure.SignatureFailure", "The provided credentials could not be validated. "
                              "Please check your signature is correct.")
        if abs(time.time() - int(timestamp)) > 300:
            return self.error("AuthFailure.SignatureExpire", "Signature expired. Timestamp and server time cannot "
                              "differ by more than five minutes.")
        if dt.datetime.fromtimestamp(int(timestamp), dt.timezone.utc).strftime("%Y-%m-%d") != m["date"]:
            return self.error("AuthFailure.SignatureFailure", "The date of the credential is not the timestamp's.")
        if (h.get("x-tc-action"), h.get("x-tc-version")) != ("SendSms", "2021-01-11") or not h.get("x-tc-region"):
            return self.error("InvalidAction", "The action, version or region is wrong.")
        body = json.loads(request.body.decode("utf-8"))
        if body.get("SmsSdkAppId") != APP_ID:
            return self.error("UnauthorizedOperation.SmsSdkAppIdVerifyFail", "SmsSdkAppId verify fail.")
        if body.get("SignName") != SIGN_NAME:
            return self.error("FailedOperation.SignatureIncorrectOrUnapproved", "signature unapproved.")
        if body.get("TemplateId") not in TEMPLATE_IDS.values():
            return self.error("FailedOperation.TemplateIncorrectOrUnapproved", "template unapproved.")
        self.accepted.append(body)
        if self.force:
            forced, self.force = self.force, None
            if forced[0] == "error":
                return self.error(forced[1], "forced by the test")
            return self.status(body, forced[1], forced[2])
        phone = body["PhoneNumberSet"][0]
        if not re.fullmatch(r"\+861[3-9]\d{9}", phone):
            return self.status(body, "InvalidParameterValue.IncorrectPhoneNumber", f"incorrect number {phone}")
        return self.status(body, "Ok", "send success")

    def error(self, code: str, message: str) -> Reply:
        return Reply(200, {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": str(uuid.uuid4())}})

    def status(self, body: dict, code: str, message: str) -> Reply:
        return Reply(200, {"Response": {"SendStatusSet": [{
            "SerialNo": "5000:1045710669157053657849499619" if code == "Ok" else "", "PhoneNumber":
            body["PhoneNumberSet"][0], "Fee": 1 if code == "Ok" else 0, "SessionContext": body.get("SessionContext"),
            "Code": code, "Message": message, "IsoCode": "CN"}], "RequestId": str(uuid.uuid4())}})


def settings(url: str, **extra) -> dict:
    return {"gateway": "tencent", "secret_id": SECRET_ID, "secret_key": SECRET_KEY, "sdk_app_id": APP_ID,
            "sign_name": SIGN_NAME, "endpoint": url, "timeout_s": 2, "template_ids": TEMPLATE_IDS, **extra}


StandIn = TencentSms  # the `vendor` fixture (conftest.py) serves one


def test_a_message_is_accepted_by_a_server_that_checks_the_tc3_signature(vendor, sms):
    receipt = make_gateway(settings(vendor.url)).send(sms)
    assert receipt == "5000:1045710669157053657849499619"
    assert vendor.accepted == [{"PhoneNumberSet": ["+86" + PHONE], "SmsSdkAppId": APP_ID, "SignName": SIGN_NAME,
                                "TemplateId": "2001001", "TemplateParamSet": [CODE, "城东政务服务中心", "自助取件柜3号",
                                                                              "6月30日"],
                                "SessionContext": sms.message_id}]


def test_template_params_follow_the_configured_order(vendor):
    gateway = make_gateway(settings(vendor.url, template_params={"handin_received": ["hall", "case"]}))
    gateway.send(make_sms(template="handin_received", params={"case": "ZW-1", "hall": "城东", "extra": "x"}))
    assert vendor.accepted[0]["TemplateId"] == "2001004"
    assert vendor.accepted[0]["TemplateParamSet"] == ["城东", "ZW-1"]


def test_a_missing_template_parameter_is_final_and_nothing_is_sent(vendor):
    with pytest.raises(SendError) as caught:
        make_gateway(settings(vendor.url)).send(make_sms(params={"code": CODE}))
    assert (caught.value.reason, caught.value.retryable) == ("template_param_missing:hall,place,deadline", False)
    assert vendor.accepted == []


def test_a_wrong_secret_key_is_a_signature_failure_and_final(vendor, sms):
    with pytest.raises(SendError) as caught:
        make_gateway(settings(vendor.url, secret_key="not-the-key-the-vendor-has-00000")).send(sms)
    assert caught.value.reason.startswith("tencent:AuthFailure.SignatureFailure: ")
    assert caught.value.retryable is False and vendor.accepted == []


def test_a_clock_five_minutes_off_is_a_retryable_expired_signature(vendor, sms):
    gateway = make_gateway(settings(vendor.url), clock=lambda: time.time() - 600)
    with pytest.raises(SendError) as caught:
        gateway.send(sms)
    assert caught.value.reason.startswith("tencent:AuthFailure.SignatureExpire: ") and caught.value.retryable


def test_an_unapproved_template_is_final(vendor, sms):
    gateway = make_gateway(settings(vendor.url, template_ids={**TEMPLATE_IDS, "pickup_ready": "9999999"}))
    with pytest.raises(SendError) as caught:
        gateway.send(sms)
    assert caught.value.reason.startswith("tencent:FailedOperation.TemplateIncorrectOrUnapproved")
    assert not caught.value.retryable


@pytest.mark.parametrize("force, retry", [
    (("error", "RequestLimitExceeded"), True),
    (("error", "InternalError.Timeout"), True),
    (("error", "InternalError"), True),
    (("error", "FailedOperation.InsufficientBalanceInSmsPackage"), False),
    (("status", "LimitExceeded.PhoneNumberDailyLimit", "daily limit"), True),
    (("status", "LimitExceeded.DeliveryFrequencyLimit", "frequency"), True),
    (("status", "FailedOperation.PhoneNumberInBlacklist", "blacklisted"), False),
    (("status", "FailedOperation.ContainSensitiveWord", "sensitive"), False),
])
def test_vendor_errors_are_sorted_into_retryable_and_final(vendor, sms, force, retry):
    vendor.force = force
    with pytest.raises(SendError) as caught:
        make_gateway(settings(vendor.url)).send(sms)
    assert caught.value.reason.startswith(f"tencent:{force[1]}: ") and caught.value.retryable is retry
    assert "RequestId" in caught.value.reason


def test_a_vendor_message_that_repeats_the_number_or_code_is_scrubbed(vendor, sms):
    vendor.force = ("status", "InvalidParameterValue.IncorrectPhoneNumber", f"+86{PHONE} rejected, param {CODE}")
    with pytest.raises(SendError) as caught:
        make_gateway(settings(vendor.url)).send(sms)
    assert PHONE not in caught.value.reason and CODE not in caught.value.reason
    assert "138****1234 rejected, param ***" in caught.value.reason and not caught.value.retryable


def test_an_answer_that_is_not_the_vendors_format_goes_by_its_http_status(loopback, sms):
    gateway = make_gateway(settings(loopback(lambda r: Reply(502, b"<html>bad gateway</html>", "text/html")).url))
    with pytest.raises(SendError) as caught:
        gateway.send(sms)
    assert (caught.value.reason, caught.value.retryable) == ("http_502", True)
    gateway = make_gateway(settings(loopback(lambda r: Reply(200, b"<html>captive portal</html>", "text/html")).url))
    with pytest.raises(SendError) as caught:
        gateway.send(sms)
    assert (caught.value.reason, caught.value.retryable) == ("tencent:unreadable_answer", True)


def test_a_timeout_is_retryable(loopback, sms):
    def hold(request):
        server.release.wait(10)
        return Reply(200, {})
    server = loopback(hold)
    with pytest.raises(SendError) as caught:
        make_gateway(settings(server.url, timeout_s=0.3)).send(sms)
    assert (caught.value.reason, caught.value.retryable) == ("timeout", True)


def test_the_secret_key_may_come_from_a_file_and_is_never_shown(tmp_path, vendor, sms):
    key_file = tmp_path / "tencent.key"
    key_file.write_text(SECRET_KEY + "\n")
    spec = {k: v for k, v in settings(vendor.url).items() if k != "secret_key"}
    gateway = make_gateway({**spec, "secret_key_file": str(key_file)})
    assert gateway.send(sms) and SECRET_KEY not in repr(gateway)


def test_the_default_endpoint_is_the_vendors_and_plain_http_elsewhere_is_refused():
    spec = settings("x")
    del spec["endpoint"]
    assert make_gateway(spec).endpoint.url == "https://sms.tencentcloudapi.com"
    with pytest.raises(GatewaySettingsError, match="endpoint"):
        make_gateway(settings("http://sms.tencentcloudapi.com"))


def test_the_code_table_sorts_known_codes():
    for code in ("InternalError.SendAndRecvFail", "InternalError.OtherError", "RequestLimitExceeded.UinLimitExceeded",
                 "LimitExceeded.PhoneNumberOneHourLimit", "LimitExceeded.AppDailyLimit", "ServiceUnavailable",
                 "AuthFailure.SignatureExpire"):
        assert retryable(code), code
    for code in ("InvalidParameterValue.IncorrectPhoneNumber", "FailedOperation.SignatureIncorrectOrUnapproved",
                 "FailedOperation.TemplateIncorrectOrUnapproved", "AuthFailure.SecretIdNotFound",
                 "UnauthorizedOperation.SerivceSuspendDueToArrears", "LimitExceeded.PhoneNumberCountLimit",
                 "InternalError.SigVerificationFail", "FailedOperation.FailResolvePacket", "MissingParameter"):
        assert not retryable(code), code
    assert set(TEMPLATE_IDS) == set(TEMPLATES)
