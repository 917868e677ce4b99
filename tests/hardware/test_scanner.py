"""QR/barcode scanner: line reading, classification of pickup and payment codes, masking."""
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.hardware.device import CancelToken, Completion, DeviceError, ProtocolError, State, VirtualClock
from kiosk.hardware.scanner import CodeKind, LineSplitter, SerialScanner, classify
from kiosk.sim import registry as sim_registry


@pytest.mark.parametrize("text, kind, value", [
    ("123456", CodeKind.PICKUP, "123456"),
    ("12345678", CodeKind.PICKUP, "12345678"),
    ("KIOSK-PICKUP:0012345", CodeKind.PICKUP, "0012345"),
    ("134567890123456789", CodeKind.WECHAT_PAY, "134567890123456789"),   # 18 digits, prefix 13
    ("104567890123456789", CodeKind.WECHAT_PAY, "104567890123456789"),   # prefix 10
    ("154567890123456789", CodeKind.WECHAT_PAY, "154567890123456789"),   # prefix 15
    ("2812345678901234", CodeKind.ALIPAY, "2812345678901234"),           # 16 digits, prefix 28
    ("301234567890123456789012", CodeKind.ALIPAY, "301234567890123456789012"),  # 24 digits, prefix 30
    ("251234567890123456", CodeKind.ALIPAY, "251234567890123456"),       # 18 digits, prefix 25
    ("12345", CodeKind.OTHER, "12345"),                                  # too short for a pickup code
    ("164567890123456789", CodeKind.OTHER, "164567890123456789"),        # 18 digits, prefix 16
    ("3112345678901234", CodeKind.OTHER, "3112345678901234"),            # prefix 31
    ("2412345678901234", CodeKind.OTHER, "2412345678901234"),            # prefix 24
    ("2812345678901234567890123", CodeKind.OTHER, "2812345678901234567890123"),  # 25 digits
    ("KIOSK-PICKUP:12345", CodeKind.OTHER, "KIOSK-PICKUP:12345"),
    ("https://example.org/x", CodeKind.OTHER, "https://example.org/x"),
    ("١٢٣٤٥٦", CodeKind.OTHER, "١٢٣٤٥٦"),                                # other scripts' digits are not a code
])
def test_classification(text, kind, value):
    code = classify(text)
    assert (code.kind, code.value) == (kind, value)


def test_payment_and_pickup_codes_are_masked_in_str_repr_and_dict():
    for text in ("134567890123456789", "2812345678901234", "12345678"):
        code = classify(text)
        for shown in (str(code), repr(code), str(code.as_dict())):
            assert text not in shown
    assert classify("134567890123456789").masked == "1345**********6789"


@pytest.mark.parametrize("stream", [b"123456\r\n", b"123456\r", b"123456\n", b"\r\n123456\r\n\r\n"])
def test_cr_lf_and_crlf_each_end_a_line(stream):
    assert LineSplitter().feed(stream) == ["123456"]


def test_a_code_split_across_reads_is_joined():
    s = LineSplitter()
    assert s.feed(b"1234") == [] and s.feed(b"56\r") == ["123456"]


def test_a_stream_without_line_ends_is_a_protocol_error_naming_the_setting():
    s = LineSplitter()
    assert s.feed(b"1" * 5000) == []
    [problem] = s.take_rejected()
    assert isinstance(problem, ProtocolError) and "CR/LF" in str(problem)
    # the runaway line's tail is skipped up to its end, not delivered as a code of its own
    assert s.feed(b"123456\r\n654321\r\n") == ["654321"] and s.take_rejected() == []


def test_a_bad_line_loses_no_good_line_read_with_it():
    s = LineSplitter()
    assert s.feed(b"123456\r\n\xff\xfe\xff\r\n654321\r\n") == ["123456", "654321"]
    assert "neither UTF-8 nor GB18030" in str(s.take_rejected()[0])


def test_gb18030_text_from_a_gbk_scanner_is_decoded():
    assert LineSplitter().feed("取件码".encode("gb18030") + b"\r\n") == ["取件码"]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.binary(max_size=300), max_size=30))
def test_line_splitter_of_random_bytes_raises_only_protocol_error(chunks):
    s = LineSplitter()
    for c in chunks:
        try:
            s.feed(c)
        except ProtocolError:
            pass


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=80))
def test_classify_never_raises(text):
    assert classify(text).kind in set(CodeKind)


@pytest.fixture
def clock():
    return VirtualClock()


@pytest.fixture
def sim(clock):
    sim_registry.reset_simulators()
    yield sim_registry.simulator("scanner", clock)
    sim_registry.reset_simulators()


@pytest.fixture
def scanner(sim, clock):
    s = SerialScanner("scanner", "sim://scanner", clock=clock)
    yield s
    s.close()


def test_a_scanned_code_is_read_and_classified(scanner, sim):
    sim.scan("134567890123456789", delay=3)
    code = scanner.read_code(10)
    assert code.kind is CodeKind.WECHAT_PAY


def test_a_bad_scan_between_two_codes_is_reported_in_its_turn_and_loses_neither(scanner, sim):
    sim.scan_bytes(b"123456\r\n\xff\xfe\xff\r\nKIOSK-PICKUP:654321\r\n")
    assert scanner.read_code(1).value == "123456"
    assert scanner.read_code(1).value == "654321"
    with pytest.raises(DeviceError) as err:
        scanner.read_code(1)
    assert err.value.detail == "bad_scan"
    assert scanner.read_code(1) is None


def test_two_codes_in_one_read_are_both_delivered_in_order(scanner, sim):
    sim.scan_bytes(b"123456\r\nKIOSK-PICKUP:654321\r\n")
    assert scanner.read_code(1).value == "123456"
    assert scanner.read_code(1).value == "654321"


def test_nothing_scanned_returns_none_after_the_timeout_in_virtual_time(scanner, clock):
    start = clock.monotonic()
    assert scanner.read_code(30) is None
    assert clock.monotonic() - start == pytest.approx(30, abs=1)


def test_cancel_stops_a_waiting_read(scanner):
    token = CancelToken()
    token.cancel()
    with pytest.raises(DeviceError) as err:
        scanner.read_code(30, cancel=token)
    assert err.value.completion is Completion.CANCELED


def test_the_log_line_of_a_scan_shows_the_payment_code_masked(scanner, sim, caplog):
    sim.scan("2812345678901234")
    with caplog.at_level(logging.INFO):
        scanner.read_code(1)
    assert "2812345678901234" not in caplog.text and "2812********1234" in caplog.text


def test_scanner_status_is_online_and_self_test_says_it_cannot_be_queried(scanner):
    assert scanner.status().state is State.ONLINE
    assert "cannot be queried" in scanner.self_test().message


def test_a_scanner_port_that_fails_shows_offline_and_recovers(sim, clock):
    class FlakyPort:
        url = "flaky://"
        broken = True

        def write(self, data):
            pass

        def read(self, size, timeout):
            if self.broken:
                raise DeviceError("scanner", Completion.HARDWARE_ERROR, "read failed", "no_answer")
            return b"123456\r\n"

        def flush_input(self):
            pass

        def close(self):
            pass

    port = FlakyPort()
    s = SerialScanner("scanner", "flaky://", clock=clock, transport=port)
    with pytest.raises(DeviceError):
        s.read_code(1)
    assert (s.status().state, s.status().detail) == (State.OFFLINE, "no_answer")
    port.broken = False
    assert s.read_code(1).value == "123456"
    assert s.status().state is State.ONLINE


def test_the_wire_log_never_shows_a_scanned_code(scanner, sim, caplog):
    sim.scan("134567890123456789")
    with caplog.at_level(logging.DEBUG, logger="kiosk.wire"):
        scanner.read_code(1)
    assert "134567890123456789".encode().hex(" ")[:20] not in caplog.text
    assert "bytes of personal data" in caplog.text
