"""The device panel's checks and fault controls against the simulators (virtual time, no display)."""
import pytest

from kiosk import config, i18n
from kiosk.core.background import Inline
from kiosk.core.technician.bench import DeviceBench
from kiosk.devices import build_devices, close_all
from kiosk.hardware.device import VirtualClock
from kiosk.hardware.receipt import diagnostic_receipt
from kiosk.sim.faults import SimFaults
from kiosk.sim.registry import reset_simulators, simulator
from tests.conftest import write_config

SIMULATED = ("idcard", "locker", "receipt_printer", "payment", "scanner")


class Alarms:
    def __init__(self):
        self.calls = []

    def door_failed(self, *a):
        self.calls.append(("door_failed",) + a)

    def door_opened(self, *a):
        self.calls.append(("door_opened",) + a)

    def payment_unknown(self, *a):
        self.calls.append(("payment_unknown",) + a)


@pytest.fixture
def bench(tmp_path):
    reset_simulators()
    clock = VirtualClock()
    settings = config.load(write_config(tmp_path / "k"))
    devices = build_devices(settings, clock, only=SIMULATED)
    alarms = Alarms()
    b = DeviceBench(devices, alarms=alarms, executor=Inline(), card_timeout_s=3, scan_timeout_s=3,
                    faults=SimFaults(simulator), test_receipt=lambda cut: diagnostic_receipt(cut=cut))
    yield b
    close_all(devices)
    reset_simulators()


def test_every_configured_device_is_listed_with_driver_and_port(bench):
    bench.refresh()
    rows = {r.name: r for r in bench.rows.values()}
    assert set(rows) == set(SIMULATED)
    assert rows["locker"].driver == "lock8a" and rows["locker"].port == "sim://locker"
    assert all(r.state == "online" for r in rows.values())


def test_self_test_records_its_message(bench):
    assert bench.run("idcard", "self_test")
    assert bench.results["idcard"].ok and bench.rows["idcard"].self_test.startswith("SAM ok")


def test_read_card_shows_the_card_masked(bench):
    bench.run("idcard", "read_card")
    text = "\n".join(map(str, bench.results["idcard"].lines))
    assert bench.results["idcard"].ok
    assert "张*" in text and "110***********" in text
    assert "张示例" not in text and simulator("idcard").card.id_number not in text


def test_no_card_on_the_reader_fails_calmly(bench):
    bench.toggle("idcard", "no_card")
    bench.run("idcard", "read_card")
    assert bench.results["idcard"].ok is False and "no card" in str(bench.results["idcard"].lines[-1])


def test_open_the_selected_door_and_door_states_follow(bench):
    bench.select_door(5)
    bench.run("locker", "open_door")
    assert bench.results["locker"].ok
    assert [d["door"] for d in bench.doors if not d["closed"]] == [5]
    assert ("door_opened", "locker", 5) in bench.alarms.calls


def test_a_jammed_door_fails_and_goes_to_the_alarms(bench):
    bench.select_door(3)
    assert bench.toggle("locker", "door_jammed")
    bench.run("locker", "open_door")
    assert bench.results["locker"].ok is False
    assert bench.alarms.calls[0][:3] == ("door_failed", "locker", 3)


def test_door_results_are_said_in_the_kiosks_language(bench):
    zh = i18n.catalog("zh_CN").gettext
    bench.select_door(7)
    bench.run("locker", "open_door")
    assert [line.render(zh) for line in bench.results["locker"].lines] == ["7 号柜门：已打开"]
    bench.select_door(3)
    bench.toggle("locker", "door_jammed")
    bench.run("locker", "open_door")
    [line] = bench.results["locker"].lines
    assert line.render(zh).startswith("3 号柜门未打开") and str(line).startswith("door 3 did not open")
    assert bench.rows["locker"].last_problem.render(zh).startswith("3 号柜门未打开")
    assert "did not report open" in bench.rows["locker"].last_error   # the driver's words stay for the log and bundle


def test_a_refused_receipt_says_why_in_the_kiosks_language(bench):
    zh = i18n.catalog("zh_CN").gettext
    bench.toggle("receipt_printer", "paper_out")
    bench.run("receipt_printer", "print_receipt")
    assert [line.render(zh) for line in bench.results["receipt_printer"].lines] == ["缺纸：请装入新纸卷"]
    assert bench.rows["receipt_printer"].state == "offline"


def test_open_every_door_in_turn(bench):
    simulator("locker").jam(10)
    bench.run("locker", "open_all")
    r = bench.results["locker"]
    assert r.ok is False and str(r.lines[0]) == "24 of 24 doors tried; did not open: 10"
    assert sorted(d["door"] for d in bench.doors if not d["closed"]) == [d for d in range(1, 25) if d != 10]


def test_print_a_test_receipt_and_paper_out_refuses(bench):
    bench.run("receipt_printer", "print_receipt")
    assert bench.results["receipt_printer"].ok
    assert simulator("receipt").receipts()
    bench.toggle("receipt_printer", "paper_out")
    bench.run("receipt_printer", "print_receipt")
    assert bench.results["receipt_printer"].ok is False
    assert bench.rows["receipt_printer"].detail == "paper_out"


def test_test_sale_then_refund(bench):
    bench.run("payment", "test_sale")
    r = bench.results["payment"]
    assert r.ok and str(r.lines[0]).split(": ")[1].startswith("approved") and "refund" in str(r.lines[1])


def test_declined_and_unknown_payments(bench):
    bench.toggle("payment", "payment_declined")
    bench.run("payment", "test_sale")
    assert bench.results["payment"].ok is False and "declined" in str(bench.results["payment"].lines[0])
    bench.toggle("payment", "payment_declined")
    bench.toggle("payment", "payment_no_answer")
    bench.run("payment", "test_sale")
    assert "unknown" in str(bench.results["payment"].lines[0])
    assert bench.alarms.calls[-1][0] == "payment_unknown"


def test_scanner_test_masks_a_payment_code(bench):
    bench.toggle("scanner", "scan_payment")
    bench.run("scanner", "scan")
    line = str(bench.results["scanner"].lines[-1])
    assert line.startswith("WeChat Pay code") and "1345**********6789" in line


def test_fault_controls_exist_only_on_simulators(bench):
    assert {c.key for c, _ in bench.controls("receipt_printer")} >= {"paper_near_end", "paper_out", "cover_open",
                                                                     "printer_offline"}
    bench.devices["receipt_printer"].port = "/dev/ttyUSB0"
    assert bench.controls("receipt_printer") == []


def test_a_jammed_door_shows_its_control_on_and_close_all_shuts_every_door(bench):
    bench.select_door(4)
    bench.toggle("locker", "door_jammed")
    assert dict((c.key, on) for c, on in bench.controls("locker"))["door_jammed"]
    simulator("locker").open_door(2)
    simulator("locker").open_door(9)
    bench.toggle("locker", "close_all")
    assert not any(simulator("locker").is_open(d) for d in range(1, 25))


def test_checks_the_composition_did_not_provide_are_not_offered(bench):
    assert "print_receipt" in bench.checks_for("receipt_printer")
    bench.test_receipt = None
    assert bench.checks_for("receipt_printer") == ["self_test"]


def test_without_simulator_controls_no_fault_is_offered(bench):
    bench.faults = None
    assert bench.controls("receipt_printer") == []
