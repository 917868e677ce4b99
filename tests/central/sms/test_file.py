"""The file gateway: one JSON line per message, whole lines only, a private file."""
from __future__ import annotations

import json
import stat

import pytest

from kiosk.central.sms import SendError, make_gateway
from tests.central.sms.conftest import make_sms
from tests.clocks import ManualClock


def test_each_message_is_one_json_line_with_all_its_fields(tmp_path):
    path = tmp_path / "out" / "sms.jsonl"
    clock = ManualClock(1_750_000_000)
    gateway = make_gateway({"gateway": "file", "path": str(path)}, clock=clock)
    first, second = make_sms(), make_sms(template="handin_received", params={"case": "ZW2025-0012", "hall": "城东"})
    assert gateway.send(first) == first.message_id
    clock.advance(61)
    assert gateway.send(second) == second.message_id
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"message_id": first.message_id, "phone": first.phone, "template": "pickup_ready", "params": first.params,
         "text": first.text, "sent_at": "2025-06-15T15:06:40Z"},
        {"message_id": second.message_id, "phone": second.phone, "template": "handin_received",
         "params": second.params, "text": second.text, "sent_at": "2025-06-15T15:07:41Z"},
    ]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("phone", ["1381234123", "23812341234", "+8613812341234", "138 1234 1234", "12012341234"])
def test_a_number_that_is_not_a_mainland_mobile_is_refused_for_good(tmp_path, phone):
    path = tmp_path / "sms.jsonl"
    with pytest.raises(SendError) as caught:
        make_gateway({"gateway": "file", "path": str(path)}).send(make_sms(phone=phone))
    assert (caught.value.reason, caught.value.retryable) == ("invalid_phone", False)
    assert not path.exists()


def test_an_unknown_template_or_a_non_string_parameter_is_refused_for_good(tmp_path):
    gateway = make_gateway({"gateway": "file", "path": str(tmp_path / "sms.jsonl")})
    for sms, reason in ((make_sms(template="birthday"), "unknown_template:birthday"),
                        (make_sms(params={"code": 482915}), "params_not_strings")):
        with pytest.raises(SendError) as caught:
            gateway.send(sms)
        assert (caught.value.reason, caught.value.retryable) == (reason, False)


def test_a_file_that_cannot_be_written_is_a_retryable_failure(tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(SendError) as caught:
        make_gateway({"gateway": "file", "path": str(tmp_path / "taken")}).send(make_sms())
    assert caught.value.retryable and caught.value.reason.startswith("file_error:")


def test_a_message_id_already_in_the_file_is_not_written_again(tmp_path):
    """A retry after a crash between the send and the queue's commit: the applicant gets one message."""
    path = tmp_path / "sms.jsonl"
    first = make_sms()
    make_gateway({"gateway": "file", "path": str(path)}).send(first)
    # a new gateway, as in a restarted notifier
    again = make_gateway({"gateway": "file", "path": str(path)})
    assert again.send(first) == first.message_id
    other = make_sms()
    again.send(other)
    ids = [json.loads(line)["message_id"] for line in path.read_text(encoding="utf-8").splitlines()]
    assert ids == [first.message_id, other.message_id]
