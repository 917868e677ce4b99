"""Concert protocol E codec: frames written down from HARDWARE.md (STX payload ETX LRC), and fuzzing."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.hardware import payment
from kiosk.hardware.device import ProtocolError
from kiosk.hardware.payment import Request, Response

H = bytes.fromhex

# sale of 100 fen, pos 01, short answer, card, debit, CNY 156, reference REF0000001, A010, B010
SALE_100 = "0100000100010156REF0000001A010B010"
SALE_100_FRAME = H("02 30 31 30 30 30 30 30 31 30 30 30 31 30 31 35 36 52 45 46 30 30 30 30 30 30 31"
                   " 41 30 31 30 42 30 31 30 03 63")
# pos 01, result 0, 100 fen, card, CNY, reference
APPROVED_100_FRAME = H("02 30 31 30 30 30 30 30 30 31 30 30 31 31 35 36 52 45 46 30 30 30 30 30 30 31 03 50")
# pos 01, result 7, 0 fen
REJECTED_FRAME = H("02 30 31 37 30 30 30 30 30 30 30 30 31 31 35 36 52 45 46 30 30 30 30 30 30 31 03 56")


def test_link_control_bytes():
    assert (payment.ENQ, payment.ACK, payment.EOT, payment.STX, payment.ETX, payment.NAK) == \
        (0x05, 0x06, 0x04, 0x02, 0x03, 0x15)


def test_sale_request_is_34_characters_in_protocol_order():
    req = Request("01", 100, "0", "156", "REF0000001")
    assert payment.encode_request(req) == SALE_100
    assert len(SALE_100) == 34
    assert payment.encode_frame(SALE_100) == SALE_100_FRAME


def test_refund_request_carries_transaction_type_2():
    req = Request("01", 1234, "2", "156", "REF0000002")
    assert payment.encode_request(req) == "0100001234012156REF0000002A010B010"


def test_request_decodes_back_from_the_wire():
    assert payment.decode_request(payment.decode_frame(SALE_100_FRAME)) == Request("01", 100, "0", "156", "REF0000001")


def test_approved_response_decodes():
    resp = payment.decode_response(payment.decode_frame(APPROVED_100_FRAME))
    assert resp == Response("01", "0", 100, "1", "156", "REF0000001")


def test_rejected_response_decodes():
    resp = payment.decode_response(payment.decode_frame(REJECTED_FRAME))
    assert (resp.result, resp.amount_fen, resp.reference) == ("7", 0, "REF0000001")


def test_a_bad_lrc_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="LRC"):
        payment.decode_frame(APPROVED_100_FRAME[:-1] + b"\x51")


def test_a_frame_without_etx_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="ETX"):
        payment.decode_frame(APPROVED_100_FRAME[:-2] + b"\x50")


def test_an_unknown_result_code_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="result code"):
        payment.decode_response("015" + "00000100" + "1156REF0000001")


@pytest.mark.parametrize("req", [
    Request("1", 100, "0", "156", "REF0000001"),
    Request("01", 0, "0", "156", "REF0000001"),
    Request("01", 100_000_000, "0", "156", "REF0000001"),
    Request("01", 100, "0", "CNY", "REF0000001"),
    Request("01", 100, "0", "156", "SHORT"),
])
def test_impossible_requests_are_refused_before_the_wire(req):
    with pytest.raises(ProtocolError):
        payment.encode_request(req)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.binary(max_size=80))
def test_decode_frame_of_random_bytes_raises_only_protocol_error(data):
    try:
        payment.decode_frame(data)
    except ProtocolError:
        pass


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=60))
def test_decode_response_and_request_of_random_text_raise_only_protocol_error(text):
    for decode in (payment.decode_response, payment.decode_request):
        try:
            decode(text)
        except ProtocolError:
            pass


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(0, len(APPROVED_100_FRAME)), st.binary(max_size=10))
def test_a_truncated_or_extended_frame_raises_only_protocol_error(cut, junk):
    try:
        payment.decode_response(payment.decode_frame(APPROVED_100_FRAME[:cut] + junk))
    except ProtocolError:
        pass
