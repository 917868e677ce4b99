"""The receipt printer driver against the ESC/POS simulator: captured bytes decode back to the Chinese
test text; each injected fault (paper near end, paper out, cover open, offline) gives the status and
error a technician expects, and printing works again once it clears."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.hardware.device import Completion, DeviceError, HealthPoller, VirtualClock
from kiosk.hardware.receipt import (TEST_RECEIPT_LINES, TEST_RECEIPT_QR, ReceiptPrinter, diagnostic_receipt,
                                    open_connection)
from kiosk.sim import registry as sim_registry


@pytest.fixture
def printer_and_sim():
    sim_registry.reset_simulators()
    clock = VirtualClock()
    sim = sim_registry.simulator("receipt", clock)
    printer = ReceiptPrinter("receipt_printer", "sim://receipt", clock=clock)
    yield printer, sim
    printer.close()
    sim_registry.reset_simulators()


def test_a_printed_receipt_decodes_back_to_the_chinese_test_text(printer_and_sim):
    printer, sim = printer_and_sim
    printer.print_receipt(diagnostic_receipt())
    [receipt] = sim.receipts("gb18030")
    for line in TEST_RECEIPT_LINES:
        assert line in receipt.text
    assert "中文：政务服务，一网通办。" in receipt.text
    assert receipt.qr_codes == [TEST_RECEIPT_QR]
    assert receipt.cut == "full"


def test_status_is_asked_with_dle_eot_before_and_after_printing(printer_and_sim):
    printer, sim = printer_and_sim
    printer.print_receipt(diagnostic_receipt())
    assert sim.status_requests == [1, 2, 3, 4, 1, 2, 3, 4]


def test_paper_near_end_still_prints_and_says_so(printer_and_sim):
    printer, sim = printer_and_sim
    sim.set_paper("near_end")
    assert printer.status().as_dict() == {"state": "online", "detail": "paper_near_end"}
    assert printer.print_receipt(diagnostic_receipt()).detail == "paper_near_end"
    assert len(sim.receipts()) == 1


@pytest.mark.parametrize("fault, clear, detail", [
    (lambda s: s.set_paper("out"), lambda s: s.set_paper("ok"), "paper_out"),
    (lambda s: s.set_cover_open(True), lambda s: s.set_cover_open(False), "cover_open"),
    (lambda s: s.set_offline(True), lambda s: s.set_offline(False), "no_answer"),
])
def test_a_fault_refuses_printing_with_a_typed_error_and_printing_recovers(printer_and_sim, fault, clear, detail):
    printer, sim = printer_and_sim
    fault(sim)
    assert printer.status().as_dict() == {"state": "offline", "detail": detail}
    assert printer.self_test().ok is False
    with pytest.raises(DeviceError) as err:
        printer.print_receipt(diagnostic_receipt())
    assert err.value.completion is Completion.DEVICE_NOT_READY
    assert err.value.detail == detail
    assert sim.printed() == b""    # not one byte of the receipt was sent
    clear(sim)
    assert printer.status().as_dict() == {"state": "online", "detail": ""}
    printer.print_receipt(diagnostic_receipt())
    assert sim.receipts()[0].qr_codes == [TEST_RECEIPT_QR]


def test_cutter_error_is_a_hardware_error(printer_and_sim):
    printer, sim = printer_and_sim
    sim.set_cutter_error(True)
    assert printer.status().as_dict() == {"state": "hardware_error", "detail": "cutter_error"}


def test_an_offline_printer_costs_one_status_timeout_not_four(printer_and_sim):
    printer, sim = printer_and_sim
    sim.set_offline(True)
    start = printer.clock.monotonic()
    printer.status()
    assert printer.clock.monotonic() - start == pytest.approx(printer.timeouts.status)


def test_paper_running_out_during_printing_is_reported_as_incomplete(printer_and_sim):
    printer, sim = printer_and_sim
    original = sim.receive

    def run_out_when_the_cut_arrives(data):
        original(data)
        if b"\x1d\x56" in data:
            sim.set_paper("out")

    sim.receive = run_out_when_the_cut_arrives
    with pytest.raises(DeviceError) as err:
        printer.print_receipt(diagnostic_receipt())
    assert err.value.completion is Completion.HARDWARE_ERROR and err.value.detail == "paper_out"
    assert "incomplete" in err.value.message


def test_health_poller_reports_paper_states_only_on_change(printer_and_sim):
    printer, sim = printer_and_sim
    seen = []
    poller = HealthPoller(printer, listeners=[lambda d, s: seen.append(s.detail)])
    for state in ("ok", "ok", "near_end", "near_end", "out", "ok"):
        sim.set_paper(state)
        poller.poll_once()
    assert seen == ["", "paper_near_end", "paper_out", ""]


def test_file_connection_captures_the_bytes_and_without_status_does_not_claim_ok(tmp_path):
    path = tmp_path / "receipt.bin"
    path.write_bytes(b"")
    one_way = ReceiptPrinter("receipt_printer", f"file:{path}", realtime_status=False)
    assert one_way.status().detail == "status_not_reported"
    one_way.print_receipt(diagnostic_receipt())
    one_way.close()
    from kiosk.hardware.escpos_stream import decode_receipts

    assert TEST_RECEIPT_LINES[1] in decode_receipts(path.read_bytes(), "gb18030")[0].text
    # with status expected, a capture file never answers: offline, and printing is refused
    asking = ReceiptPrinter("receipt_printer", f"file:{path}", timeouts={"status": 0.05})
    assert asking.status().as_dict() == {"state": "offline", "detail": "no_answer"}
    with pytest.raises(DeviceError):
        asking.print_receipt(diagnostic_receipt())
    asking.close()


@pytest.mark.parametrize("connection, message", [
    ("usb://zz:01", "usb://VID:PID"),
    ("lpt1", "serial:PATH, tcp://HOST:PORT"),
])
def test_a_bad_connection_setting_is_named(connection, message):
    with pytest.raises(DeviceError) as err:
        open_connection(connection, "receipt_printer")
    assert message in err.value.message and err.value.completion is Completion.USER_ERROR


def test_a_missing_serial_printer_is_no_device():
    with pytest.raises(DeviceError) as err:
        open_connection("serial:/dev/kiosk-no-such-printer", "receipt_printer")
    assert err.value.detail == "no_device"


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=8))
def test_garbage_status_answers_never_read_as_ok(answer):
    clock = VirtualClock()

    class Garbage:
        url = "garbage"

        def write(self, data):
            self.left = answer

        def read(self, size, timeout):
            out, self.left = self.left[:size], self.left[size:]
            if not out:
                clock.advance(timeout)
            return out

        def flush_input(self):
            pass

        def close(self):
            pass

    printer = ReceiptPrinter("receipt_printer", "garbage", clock=clock, transport=Garbage())
    status = printer.read_status()
    if status.can_print:
        assert answer and (answer[0] & 0x93) == 0x12
