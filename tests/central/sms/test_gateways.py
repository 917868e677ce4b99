"""What all gateways share: make_gateway and its settings errors, plug-ins, masking, and the package
standing apart from the web stack."""
from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

from kiosk.central.sms import DEFAULT_TEMPLATE_PARAMS, TEMPLATES, Gateway, GatewaySettingsError, SendError, Sms, \
    make_gateway, mask_phone
from kiosk.central.sms.base import scrub, template_settings
from tests.central.sms.conftest import CODE, PHONE, make_sms
from tests.conftest import ROOT


class EchoGateway:
    """A province's own gateway, loaded as a plug-in by its dotted name."""
    name = "echo"

    def __init__(self, prefix: str):
        self.prefix = prefix

    @classmethod
    def from_settings(cls, spec, **context):
        return cls(spec["prefix"])

    def send(self, sms: Sms) -> str:
        return self.prefix + sms.message_id


def test_a_plug_in_named_module_colon_class_is_loaded():
    gateway = make_gateway({"gateway": "tests.central.sms.test_gateways:EchoGateway", "prefix": "echo-"})
    assert isinstance(gateway, Gateway) and gateway.name == "echo"
    assert gateway.send(make_sms(message_id="m1")) == "echo-m1"


@pytest.mark.parametrize("spec, words", [
    ({}, "[notify] gateway is missing"),
    ({"gateway": "carrier-pigeon"}, "give one of file, webhook, tencent, aliyun"),
    ({"gateway": "no.such.module:Gateway"}, "cannot be loaded"),
    ({"gateway": "file"}, "[notify] path is missing"),
    ({"gateway": "file", "path": ""}, "[notify] path is empty"),
    ({"gateway": "webhook", "url": "https://x.example", "secret": "s" * 20, "timeout_s": 0}, "timeout_s"),
    ({"gateway": "webhook", "url": "https://x.example", "secret": "s" * 20, "timeout_s": "10"}, "timeout_s must be"),
])
def test_settings_errors_name_the_key_and_what_to_do(spec, words):
    with pytest.raises(GatewaySettingsError) as caught:
        make_gateway(spec)
    assert words in str(caught.value)


def test_template_ids_must_cover_every_template_and_params_default_per_template():
    ids = {t: str(1000 + i) for i, t in enumerate(TEMPLATES)}
    templates = template_settings({"template_ids": ids, "template_params": {"handin_received": ["case"]}})
    assert templates["pickup_ready"] == ("1000", DEFAULT_TEMPLATE_PARAMS["pickup_ready"])
    assert templates["handin_received"] == ("1003", ("case",))
    with pytest.raises(GatewaySettingsError, match="lacks pickup_overdue"):
        template_settings({"template_ids": {t: "1" for t in TEMPLATES if t != "pickup_overdue"}})
    with pytest.raises(GatewaySettingsError, match="has birthday"):
        template_settings({"template_ids": {**ids, "birthday": "9"}})
    with pytest.raises(GatewaySettingsError, match="list of parameter names"):
        template_settings({"template_ids": ids, "template_params": {"pickup_ready": "code,hall"}})


def test_mask_phone_keeps_the_first_three_and_last_four_digits():
    assert mask_phone(PHONE) == "138****1234"


def test_a_message_and_an_error_show_no_number_code_or_text():
    sms = make_sms()
    assert PHONE not in repr(sms) and CODE not in repr(sms) and "取件码" not in repr(sms)
    assert "138****1234" in repr(sms)
    error = SendError("x" * 1000, retryable=True)
    assert len(error.reason) == 300 and error.retryable


def test_scrub_masks_any_mobile_number_and_the_messages_code():
    sms = make_sms()
    said = f"number +86{PHONE} or 8613900001111 rejected; param {CODE} invalid; id 20250615123456789 kept"
    assert scrub(said, sms) == ("number 138****1234 or 139****1111 rejected; param *** invalid; "
                                "id 20250615123456789 kept")


def test_the_package_loads_without_the_web_stack():
    probe = ("import sys, kiosk.central.sms, kiosk.central.sms.file, kiosk.central.sms.webhook, "
             "kiosk.central.sms.tencent, kiosk.central.sms.aliyun; "
             "print(sorted(m for m in ('fastapi', 'starlette', 'uvicorn', 'kivy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("message_id", ["", "id with space", "ид-1", "a\r\nX-Injected: 1", "x" * 129])
def test_a_message_id_that_cannot_travel_in_a_header_is_refused_for_good(tmp_path, message_id):
    with pytest.raises(SendError) as caught:
        make_gateway({"gateway": "file", "path": str(tmp_path / "sms.jsonl")}).send(make_sms(message_id=message_id))
    assert (caught.value.reason, caught.value.retryable) == ("invalid_message_id", False)


def test_a_send_error_survives_pickling_whole():
    error = pickle.loads(pickle.dumps(SendError("http_503", retryable=True)))
    assert (error.reason, error.retryable, str(error)) == ("http_503", True, "http_503")


def test_a_region_that_is_not_a_name_is_refused():
    spec = {"gateway": "tencent", "secret_id": "AKID1", "secret_key": "k", "sdk_app_id": "1400006666",
            "sign_name": "城东政务", "template_ids": {t: "1" for t in TEMPLATES}, "region": "ap-guangzhou\r\nX: 1"}
    with pytest.raises(GatewaySettingsError, match=r"\[notify\] region"):
        make_gateway(spec)
