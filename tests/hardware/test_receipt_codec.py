"""Receipt printer bytes against vectors written down from HARDWARE.md and the ESC/POS command set:
DLE EOT status bytes, the Chinese text path, native QR, cuts; and fuzzing of every decoder."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.hardware.device import ProtocolError
from kiosk.hardware.escpos_stream import EscPosStream, decode_receipts
from kiosk.hardware.receipt import (Condition, Receipt, decode_status, decode_status_byte, diagnostic_receipt, render,
                                    status_request)

H = bytes.fromhex


# --- DLE EOT ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("n, request_", [(1, "10 04 01"), (2, "10 04 02"), (3, "10 04 03"), (4, "10 04 04")])
def test_status_requests_are_dle_eot_n(n, request_):
    assert status_request(n) == H(request_)


@pytest.mark.parametrize("n, byte, flags", [
    (1, 0x12, set()),
    (1, 0x1A, {"offline"}),                       # 0x08
    (2, 0x16, {"cover_open"}),                    # 0x04
    (2, 0x32, {"paper_out"}),                     # 0x20 stopped by paper end
    (2, 0x52, {"error"}),                         # 0x40
    (3, 0x1A, {"cutter_error"}),                  # 0x08
    (3, 0x32, {"unrecoverable_error"}),           # 0x20
    (4, 0x1E, {"paper_near_end"}),                # 0x0C
    (4, 0x72, {"paper_out"}),                     # 0x60
    (4, 0x7E, {"paper_near_end", "paper_out"}),
])
def test_status_bytes_decode_to_the_documented_flags(n, byte, flags):
    assert decode_status_byte(n, byte) == flags


@pytest.mark.parametrize("byte", [0x00, 0xFF, 0x13, 0x92, 0x10, 0x02])
def test_a_byte_without_the_fixed_bits_0x12_is_not_a_status(byte):
    with pytest.raises(ProtocolError, match="0x12"):
        decode_status_byte(1, byte)


def test_no_answer_is_never_ok():
    status = decode_status({1: None, 2: None, 3: None, 4: None})
    assert status.condition is Condition.OFFLINE and status.detail == "no_answer"
    assert not status.can_print
    assert status.as_status().as_dict() == {"state": "offline", "detail": "no_answer"}


def test_a_partial_answer_is_unknown_not_ok():
    status = decode_status({1: 0x12, 2: 0x12, 3: 0x12, 4: None})
    assert status.condition is Condition.UNKNOWN and not status.can_print


@pytest.mark.parametrize("replies, condition, state, detail", [
    ({1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}, Condition.OK, "online", ""),
    ({1: 0x12, 2: 0x12, 3: 0x12, 4: 0x1E}, Condition.PAPER_NEAR_END, "online", "paper_near_end"),
    ({1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x7E}, Condition.PAPER_OUT, "offline", "paper_out"),
    ({1: 0x12, 2: 0x12, 3: 0x12, 4: 0x72}, Condition.PAPER_OUT, "offline", "paper_out"),  # n=4 alone is enough
    ({1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x12}, Condition.PAPER_OUT, "offline", "paper_out"),  # n=2 alone is enough
    ({1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x12}, Condition.COVER_OPEN, "offline", "cover_open"),
    ({1: 0x1A, 2: 0x12, 3: 0x12, 4: 0x12}, Condition.OFFLINE, "offline", "offline"),
    ({1: 0x1A, 2: 0x52, 3: 0x1A, 4: 0x12}, Condition.HARDWARE_ERROR, "hardware_error", "cutter_error"),
    ({1: 0x00, 2: 0x12, 3: 0x12, 4: 0x12}, Condition.UNKNOWN, "hardware_error", "bad_status_reply"),
])
def test_status_replies_give_the_condition_a_technician_expects(replies, condition, state, detail):
    status = decode_status(replies)
    assert status.condition is condition
    assert status.as_status().as_dict() == {"state": state, "detail": detail}


# --- the Chinese text path ---------------------------------------------------------------------------

def test_fs_ampersand_follows_init_once_then_chinese_punctuation_is_gb18030():
    data = render(Receipt().line("中文，。："), "gb18030")
    # 1B 40 init, 1C 26 FS &; 中 D6D0 文 CEC4 ， A3AC 。 A1A3 ： A3BA (GB 2312 code points)
    assert data.startswith(H("1B 40 1C 26"))
    assert H("D6 D0 CE C4 A3 AC A1 A3 A3 BA 0A") in data
    assert data.count(H("1C 26")) == 1
    assert b"?" not in data


def test_lone_chinese_punctuation_is_not_turned_into_question_marks():
    data = render(Receipt().line("，"), "gb18030")
    assert H("A3 AC 0A") in data and b"?" not in data


def test_big5_printer_gets_big5_bytes():
    # 中 in Big5 is A4 A4, ， is A1 41
    assert H("A4 A4 A1 41 0A") in render(Receipt().line("中，"), "big5")


def test_utf8_printer_gets_utf8_bytes():
    assert "中，".encode("utf-8") + b"\n" in render(Receipt().line("中，"), "utf-8")


def test_an_unknown_encoding_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="gb18030, gbk, big5, utf-8"):
        render(Receipt().line("x"), "latin-1")


# --- QR and cut ------------------------------------------------------------------------------------

def test_native_qr_is_sent_as_gs_paren_k_store_then_print():
    data = render(Receipt().qr("AB", size=6), "gb18030")
    assert H("1D 28 6B 04 00 31 41 32 00") in data    # model 2
    assert H("1D 28 6B 03 00 31 43 06") in data       # module size 6
    assert H("1D 28 6B 05 00 31 50 30 41 42") in data  # store "AB"
    assert H("1D 28 6B 03 00 31 51 30") in data       # print


def test_full_and_partial_cut_bytes():
    assert render(Receipt().cut(), "gb18030").endswith(H("1D 56 00"))
    assert render(Receipt().cut(partial=True), "gb18030").endswith(H("1D 56 01"))


# --- reading bytes back ------------------------------------------------------------------------------

def test_the_diagnostic_receipt_decodes_back_to_its_text_qr_and_cut():
    receipt = diagnostic_receipt()
    printed = decode_receipts(render(receipt, "gb18030"), "gb18030")
    assert len(printed) == 1
    assert printed[0].lines[0].text == "打印测试" and printed[0].lines[0].bold and printed[0].lines[0].large
    assert "标点：，。：；！？、“”‘’（）《》【】—…" in printed[0].text
    assert printed[0].qr_codes == ["KIOSK-PRINT-TEST-0001"]
    assert printed[0].cut == "full"


def test_chinese_bytes_before_fs_ampersand_do_not_decode():
    with pytest.raises(ProtocolError, match="before FS &"):
        decode_receipts(H("1B 40") + "中".encode("gb18030") + b"\n", "gb18030")


def test_status_request_inside_qr_data_is_not_taken_for_one():
    # a QR payload containing the bytes 10 04 01: the stream reader must skip it by length
    data = H("1D 28 6B 06 00 31 50 30 10 04 01") + H("10 04 02")
    events = EscPosStream(strict=True).feed(data)
    assert [e.kind for e in events] == ["qr", "status"]
    assert events[1].value == 2


def test_fragments_split_inside_a_command_and_a_character_read_back_whole():
    data = render(Receipt().line("政务服务").qr("X1"), "gb18030")
    stream = EscPosStream(strict=True)
    events = []
    for i in range(0, len(data), 3):
        events += stream.feed(data[i:i + 3])
    assert stream.pending == b""
    assert "qr" in [e.kind for e in events]
    text = b"".join(e.value for e in events if e.kind == "text")
    assert "政务服务" in text.decode("gb18030")


# --- fuzzing ---------------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-5, max_value=300), st.integers(min_value=-5, max_value=300))
def test_status_byte_decoder_raises_only_protocol_error(n, byte):
    try:
        decode_status_byte(n, byte)
    except ProtocolError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.integers(1, 4), st.one_of(st.none(), st.integers(0, 255)), min_size=1))
def test_status_decoder_never_says_ok_without_four_valid_answers(replies):
    status = decode_status(replies)
    if status.condition is Condition.OK:
        assert len(replies) == 4 and all(b is not None and (b & 0x93) == 0x12 for b in replies.values())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_lenient_stream_never_raises_and_strict_raises_only_protocol_error(data):
    EscPosStream(strict=False).feed(data)
    try:
        decode_receipts(data, "gb18030")
    except ProtocolError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.sampled_from(["gb18030", "utf-8"]))
def test_any_text_round_trips_through_render_and_decode(text, encoding):
    text = "".join(ch for ch in text if ch >= " " and ch not in "\x7f") or "x"
    printed = decode_receipts(render(Receipt().line(text).cut(), encoding), encoding)
    assert printed[0].lines[0].text == text.split("\n")[0]
