"""Alibaba Cloud SMS (dysmsapi SendSms, RPC signature HMAC-SHA1) against a local stand-in for
dysmsapi.aliyuncs.com that checks signatures as the vendor's "签名机制" document describes, in its own
code built from the raw form body, and answers as the SendSms and error-code documents show."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import parse_qsl, quote

import pytest

from kiosk.central.sms import SendError, make_gateway
from kiosk.central.sms.aliyun import retryable, signature, string_to_sign
from tests.central.sms.conftest import PHONE, make_sms
from tests.central.sms.loopback import Reply, Request

KEY_ID, KEY_SECRET = "LTAItestkioskcentral00", "kiosk-test-access-key-secret-00000"
SIGN_NAME = "城东政务"
TEMPLATES = {"SMS_2001001": ("code", "hall", "place", "deadline"), "SMS_2001002": ("code", "hall", "deadline"),
             "SMS_2001003": ("case", "hall", "place"), "SMS_2001004": ("case", "hall")}
TEMPLATE_IDS = dict(zip(("pickup_ready", "pickup_reminder", "pickup_overdue", "handin_received"), TEMPLATES))


# ---- the vendor's worked example (短信服务 签名示例, Timestamp 2017-07-12T02:42:19Z) ----

DOC_PARAMS = {"AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
              "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
              "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
              "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007", "TemplateParam": '{"customer":"test"}',
              "Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25"}
DOC_STRING_TO_SIGN = (
    "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123%26PhoneNumbers%3D15300000001"
    "%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4"
    "%25BF%25A1%25E6%25B5%258B%25E8%25AF%2595%25E4%25B8%2593%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1"
    "%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0%26TemplateCode"
    "%3DSMS_71390007%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D%26Timestamp"
    "%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25")


def test_the_documented_example_signs_to_the_documented_signature():
    assert string_to_sign(DOC_PARAMS, "GET") == DOC_STRING_TO_SIGN
    assert signature("testSecret", DOC_PARAMS, "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


# ---- a stand-in for the vendor ----

def rfc3986(value: str) -> str:
    return quote(value, safe="~-._", encoding="utf-8")


class AliyunSms:
    """Checks what the vendor checks and answers in its format: gateway errors with their HTTP status,
    business errors with 200 and their Code. `force` = (status, code) answers the next accepted request."""

    def __init__(self):
        self.secrets = {KEY_ID: KEY_SECRET}
        self.nonces: set[str] = set()
        self.accepted: list[dict] = []
        self.force: tuple[int, str] | None = None

    def __call__(self, request: Request) -> Reply:
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return self.error(400, "InvalidParameter", "form body expected")
        params = dict(parse_qsl(request.body.decode("ascii"), keep_blank_values=True, strict_parsing=True))
        claimed = params.pop("Signature", "")
        if params.get("AccessKeyId") not in self.secrets:
            return self.error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        canonical = "&".join(f"{rfc3986(k)}={rfc3986(v)}" for k, v in sorted(params.items()))
        to_sign = "&".join([request.method, rfc3986("/"), rfc3986(canonical)])
        key = (self.secrets[params["AccessKeyId"]] + "&").encode()
        expected = base64.b64encode(hmac.new(key, to_sign.encode(), hashlib.sha1).digest()).decode()
        if not hmac.compare_digest(expected, claimed) or params.get("SignatureMethod") != "HMAC-SHA1":
            return self.error(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
        stamp = dt.datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
        if abs(time.time() - stamp.timestamp()) > 900:
            return self.error(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
        if params["SignatureNonce"] in self.nonces:
            return self.error(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
        self.nonces.add(params["SignatureNonce"])
        if (params.get("Action"), params.get("Version"), params.get("Format")) != ("SendSms", "2017-05-25", "JSON"):
            return self.error(400, "InvalidParameter", "action, version or format")
        if not params.get("PhoneNumbers", "").isdigit() or len(params["PhoneNumbers"]) != 11:
            return self.error(200, "isv.MOBILE_NUMBER_ILLEGAL", f"非法手机号 {params.get('PhoneNumbers')}")
        if params.get("SignName") != SIGN_NAME:
            return self.error(200, "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        if params.get("TemplateCode") not in TEMPLATES:
            return self.error(200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        variables = json.loads(params.get("TemplateParam", "{}"))
        if not set(TEMPLATES[params["TemplateCode"]]) <= set(variables):
            return self.error(200, "isv.TEMPLATE_MISSING_PARAMETERS", "模版缺少变量")
        self.accepted.append(params)
        if self.force:
            (status, code), self.force = self.force, None
            return self.error(status, code, "forced by the test")
        return Reply(200, {"Code": "OK", "Message": "OK", "BizId": "9006197469364984400^0",
                           "RequestId": str(uuid.uuid4()).upper()})

    def error(self, status: int, code: str, message: str) -> Reply:
        body = {"Code": code, "Message": message, "RequestId": str(uuid.uuid4()).upper()}
        if status != 200:
            body.update(HostId="dysmsapi.aliyuncs.com", Recommend="https://next.api.aliyun.com/troubleshoot")
        return Reply(status, body)


def settings(url: str, **extra) -> dict:
    return {"gateway": "aliyun", "access_key_id": KEY_ID, "access_key_secret": KEY_SECRET, "sign_name": SIGN_NAME,
            "endpoint": url, "timeout_s": 2, "template_ids": TEMPLATE_IDS, **extra}


StandIn = AliyunSms  # the `vendor` fixture (conftest.py) serves one


def test_a_message_is_accepted_by_a_server_that_checks_the_rpc_signature(vendor, sms):
    assert make_gateway(settings(vendor.url)).send(sms) == "9006197469364984400^0"
    [params] = vendor.accepted
    assert (params["PhoneNumbers"], params["TemplateCode"], params["OutId"]) == (PHONE, "SMS_2001001", sms.message_id)
    assert json.loads(params["TemplateParam"]) == sms.params


def test_only_the_templates_parameters_are_passed(vendor):
    gateway = make_gateway(settings(vendor.url))
    gateway.send(make_sms(template="handin_received", params={"case": "ZW-1", "hall": "城东", "link": "https://x"}))
    assert json.loads(vendor.accepted[0]["TemplateParam"]) == {"case": "ZW-1", "hall": "城东"}


def test_a_wrong_secret_is_a_final_signature_mismatch(vendor, sms):
    with pytest.raises(SendError) as caught:
        make_gateway(settings(vendor.url, access_key_secret="not-the-vendors-secret-000000")).send(sms)
    assert caught.value.reason.startswith("aliyun:SignatureDoesNotMatch: ") and not caught.value.retryable


def test_an_unknown_key_id_is_final(vendor, sms):
    with pytest.raises(SendError) as caught:
        make_gateway(settings(vendor.url, access_key_id="LTAInobody")).send(sms)
    assert caught.value.reason.startswith("aliyun:InvalidAccessKeyId.NotFound: ") and not caught.value.retryable


def test_a_clock_far_off_is_a_retryable_expired_timestamp(vendor, sms):
    with pytest.raises(SendError) as caught:
        make_gateway(settings(vendor.url), clock=lambda: time.time() + 3600).send(sms)
    assert caught.value.reason.startswith("aliyun:InvalidTimeStamp.Expired: ") and caught.value.retryable


def test_each_request_has_a_new_nonce(vendor):
    gateway = make_gateway(settings(vendor.url))
    gateway.send(make_sms())
    gateway.send(make_sms())
    assert len(vendor.accepted) == 2 and len(vendor.nonces) == 2


@pytest.mark.parametrize("force, retry", [
    ((200, "isv.BUSINESS_LIMIT_CONTROL"), True),
    ((200, "isv.DAY_LIMIT_CONTROL"), True),
    ((200, "isp.SYSTEM_ERROR"), True),
    ((400, "Throttling.User"), True),
    ((503, "ServiceUnavailable"), True),
    ((200, "isv.AMOUNT_NOT_ENOUGH"), False),
    ((200, "isv.OUT_OF_SERVICE"), False),
    ((200, "isv.BLACK_KEY_CONTROL_LIMIT"), False),
    ((403, "isp.RAM_PERMISSION_DENY"), False),
])
def test_vendor_errors_are_sorted_into_retryable_and_final(vendor, sms, force, retry):
    vendor.force = force
    with pytest.raises(SendError) as caught:
        make_gateway(settings(vendor.url)).send(sms)
    assert caught.value.reason.startswith(f"aliyun:{force[1]}: ") and caught.value.retryable is retry


def test_business_errors_the_stand_in_finds_itself_are_final_and_scrubbed(vendor):
    gateway = make_gateway(settings(vendor.url, sign_name="别的签名"))
    with pytest.raises(SendError) as caught:
        gateway.send(make_sms())
    assert caught.value.reason.startswith("aliyun:isv.SMS_SIGNATURE_ILLEGAL: ") and not caught.value.retryable
    gateway = make_gateway(settings(vendor.url, template_params={"pickup_ready": ["code"]}))
    with pytest.raises(SendError) as caught:
        gateway.send(make_sms())
    assert caught.value.reason.startswith("aliyun:isv.TEMPLATE_MISSING_PARAMETERS: ")


def test_a_non_json_answer_goes_by_its_http_status(loopback, sms):
    gateway = make_gateway(settings(loopback(lambda r: Reply(500, b"oops", "text/plain")).url))
    with pytest.raises(SendError) as caught:
        gateway.send(sms)
    assert (caught.value.reason, caught.value.retryable) == ("http_500", True)


def test_the_code_table_sorts_known_codes():
    for code in ("isv.BUSINESS_LIMIT_CONTROL", "isp.SYSTEM_ERROR", "Throttling", "Throttling.Api",
                 "SignatureNonceUsed"):
        assert retryable(code), code
    for code in ("isv.MOBILE_NUMBER_ILLEGAL", "isv.SMS_TEMPLATE_ILLEGAL", "isv.SMS_SIGNATURE_ILLEGAL",
                 "isv.INVALID_PARAMETERS", "isv.PARAM_NOT_SUPPORT_URL", "SignatureDoesNotMatch",
                 "InvalidAccessKeyId.Inactive"):
        assert not retryable(code), code
