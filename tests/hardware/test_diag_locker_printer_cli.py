"""`kiosk diag open-door / door-states / print-test` through the real command line, on the built-in
simulators and on simulators attached through TCP (`socket://`, `tcp://`) like real devices."""
import json
import socket
import threading
from pathlib import Path

import pytest

from kiosk.hardware.escpos_stream import decode_receipts
from kiosk.hardware.receipt import TEST_RECEIPT_LINES, TEST_RECEIPT_QR
from kiosk.sim.locker import LockerSimulator
from kiosk.sim.receipt import ReceiptSimulator

from tests.conftest import run_kiosk, write_config  # noqa: E402


class TcpBridge:
    """A simulator behind a TCP port on 127.0.0.1, in real time: what a device server on the network does."""

    def __init__(self, simulator):
        self.sim = simulator
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except (socket.timeout, OSError):
                continue
            conn.settimeout(0.02)
            with conn:
                while not self._stop.is_set():
                    try:
                        data = conn.recv(4096)
                        if not data:
                            break
                        self.sim.receive(data)
                    except socket.timeout:
                        pass
                    except OSError:
                        break
                    out = self.sim.take(4096, 0.01)
                    if out:
                        try:
                            conn.sendall(out)
                        except OSError:
                            break

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.server.close()


@pytest.fixture
def bridge():
    made = []

    def _make(simulator):
        b = TcpBridge(simulator)
        made.append(b)
        return b

    yield _make
    for b in made:
        b.close()


def _json(done):
    assert done.stdout.strip(), done.stderr
    return json.loads(done.stdout)


def test_the_module_is_not_a_command_of_its_own():
    import kiosk.commands.diag_locker_printer as mod

    assert not hasattr(mod, "register") and callable(mod.register_into)


# --- on the built-in simulators (default config) -----------------------------------------------------

def test_open_door_3_opens_door_3(kiosk_config):
    done = run_kiosk("diag", "open-door", "3", "--json", config=kiosk_config)
    assert done.returncode == 0, done.stderr
    assert _json(done) == {"door": 3, "opened": True}


def test_open_door_outside_the_locker_is_bad_usage(kiosk_config):
    done = run_kiosk("diag", "open-door", "99", "--json", config=kiosk_config)
    assert done.returncode == 2
    doc = _json(done)
    assert doc["opened"] is False and "1-24" in doc["error"]
    assert run_kiosk("diag", "open-door", "0", config=kiosk_config).returncode == 2


def test_door_states_lists_every_door_without_item_sensor_on_8a(kiosk_config):
    done = run_kiosk("diag", "door-states", "--json", config=kiosk_config)
    assert done.returncode == 0, done.stderr
    doors = _json(done)["doors"]
    assert [d["door"] for d in doors] == list(range(1, 25))
    assert all(d["closed"] is True and d["item_present"] is None for d in doors)


def test_door_states_on_kerong_boards_report_the_item_sensor(tmp_path):
    config = write_config(tmp_path / "k", **{r'^driver = "lock8a".*$': 'driver = "kerong"',
                                             r'^baudrate = 9600\n(boards = )\[.*\].*$': r'\1[{ address = 0, doors = 16 }]'})
    done = run_kiosk("diag", "door-states", "--json", config=config)
    assert done.returncode == 0, done.stderr
    doors = _json(done)["doors"]
    assert len(doors) == 16 and all(d["item_present"] is False for d in doors)


def test_print_test_prints_on_the_default_simulator(kiosk_config):
    done = run_kiosk("diag", "print-test", "--json", config=kiosk_config)
    assert done.returncode == 0, done.stderr
    doc = _json(done)
    assert doc["printed"] is True and doc["qr"] == TEST_RECEIPT_QR


def test_print_test_to_a_capture_file_decodes_back_to_the_chinese_text(tmp_path):
    capture = tmp_path / "receipt.bin"
    capture.write_bytes(b"")
    config = write_config(tmp_path / "k", **{r'^connection = .*$': f'connection = "file:{capture}"\nrealtime_status = false'})
    done = run_kiosk("diag", "print-test", "--json", config=config)
    assert done.returncode == 0, done.stderr
    [receipt] = decode_receipts(capture.read_bytes(), "gb18030")
    assert [line.text for line in receipt.lines[:len(TEST_RECEIPT_LINES) + 1]] == ["打印测试", *TEST_RECEIPT_LINES]
    assert receipt.qr_codes == [TEST_RECEIPT_QR] and receipt.cut == "full"


# --- simulators attached through TCP -------------------------------------------------------------------

def test_open_door_over_socket_url(tmp_path, bridge):
    sim = LockerSimulator()
    b = bridge(sim)
    config = write_config(tmp_path / "k", **{r'^port = "sim://locker"': f'port = "socket://127.0.0.1:{b.port}"'})
    done = run_kiosk("diag", "open-door", "3", "--json", config=config)
    assert done.returncode == 0, done.stderr
    assert _json(done) == {"door": 3, "opened": True}
    assert sim.is_open(3) and sim.unlocked == [3]


def test_open_door_on_a_silent_board_fails_with_no_answer(tmp_path, bridge):
    sim = LockerSimulator()
    sim.configure("lock8a")
    sim.silence(1)
    b = bridge(sim)
    config = write_config(tmp_path / "k", **{r'^port = "sim://locker"': f'port = "socket://127.0.0.1:{b.port}"'})
    done = run_kiosk("diag", "open-door", "3", "--json", config=config)
    assert done.returncode == 1
    doc = _json(done)
    assert doc["opened"] is False and doc["detail"] == "no_answer"


def test_open_door_that_is_jammed_fails_naming_the_door(tmp_path, bridge):
    sim = LockerSimulator()
    sim.configure("lock8a")
    sim.jam(3)
    b = bridge(sim)
    config = write_config(tmp_path / "k", **{r'^port = "sim://locker"': f'port = "socket://127.0.0.1:{b.port}"'})
    done = run_kiosk("diag", "open-door", "3", "--json", config=config)
    assert done.returncode == 1
    assert _json(done)["detail"] == "door_not_opened:3"


def test_print_test_over_tcp_decodes_back_to_the_chinese_text(tmp_path, bridge):
    sim = ReceiptSimulator()
    b = bridge(sim)
    config = write_config(tmp_path / "k", **{r'^connection = .*$': f'connection = "tcp://127.0.0.1:{b.port}"'})
    done = run_kiosk("diag", "print-test", "--json", config=config)
    assert done.returncode == 0, done.stderr
    [receipt] = sim.receipts("gb18030")
    assert "标点：，。：；！？、“”‘’（）《》【】—…" in receipt.text
    assert receipt.qr_codes == [TEST_RECEIPT_QR]


def test_print_test_with_paper_out_over_tcp_fails_and_prints_nothing(tmp_path, bridge):
    sim = ReceiptSimulator()
    sim.set_paper("out")
    b = bridge(sim)
    config = write_config(tmp_path / "k", **{r'^connection = .*$': f'connection = "tcp://127.0.0.1:{b.port}"'})
    done = run_kiosk("diag", "print-test", "--json", config=config)
    assert done.returncode == 1
    assert _json(done)["detail"] == "paper_out"
    assert sim.printed() == b""
