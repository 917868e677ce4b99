"""`kiosk diag` on the default config (built-in simulators) and against `kiosk sim serve` over socket://."""
import json
import subprocess
import threading
from pathlib import Path

import pytest

from kiosk.tour.cupsd import PrivateCupsd
from tests.conftest import KIOSK, ROOT, run_kiosk, write_config

pytestmark = pytest.mark.slow  # every test here runs the kiosk command in a subprocess

CONTRACT_CARD_FIELDS = {"name", "id_number", "sex", "nation", "birth", "valid_from", "valid_to", "card_type",
                        "id_checksum_ok", "photo_bytes"}


def diag_json(*args, config):
    result = run_kiosk("diag", *args, "--json", config=config, timeout=60)
    return result.returncode, json.loads(result.stdout), result


# --- default config: every device on its built-in simulator ---------------------------------

def test_diag_lists_every_configured_device_and_mine_are_online(kiosk_config):
    rc, doc, _ = diag_json(config=kiosk_config)
    rows = {r["name"]: r for r in doc["devices"]}
    assert list(rows) == ["idcard", "locker", "receipt_printer", "document_printer", "payment", "scanner"]
    for name, driver in (("idcard", "sam"), ("payment", "concert"), ("scanner", "serial")):
        assert rows[name]["driver"] == driver
        assert rows[name]["state"] == "online", rows[name]
        assert rows[name]["self_test"]["ok"] is True
    for row in rows.values():
        assert set(row) == {"name", "driver", "state", "detail", "self_test"}
        assert row["state"] in {"online", "offline", "busy", "hardware_error", "no_device"}
    assert rc == (0 if all(r["state"] == "online" for r in rows.values()) else 1)


def test_diag_read_card_returns_the_simulators_card_masked(kiosk_config):
    rc, doc, result = diag_json("read-card", "--timeout", "5", config=kiosk_config)
    assert rc == 0, result.stderr
    card = doc["card"]
    assert CONTRACT_CARD_FIELDS <= set(card)
    assert card["name"] == "张**" and card["id_number"] == "110***********1239"
    assert (card["sex"], card["nation"], card["birth"], card["card_type"]) == ("male", "汉", "1990-03-07", "resident")
    assert card["valid_to"] == "2040-01-01" and card["id_checksum_ok"] is True and card["photo_bytes"] == 1024
    assert "张示例" not in result.stdout + result.stderr
    assert "110105199003071239" not in result.stdout + result.stderr


def test_diag_test_sale_is_approved(kiosk_config):
    rc, doc, result = diag_json("test-sale", "100", config=kiosk_config)
    assert rc == 0, result.stderr
    assert (doc["result"], doc["amount_fen"]) == ("approved", 100)
    assert len(doc["reference"]) == 10 and doc["reference"] in result.stderr  # said before it was sent


@pytest.mark.parametrize("amount", ["0", "abc", "100000000"])
def test_diag_test_sale_with_a_bad_amount_is_bad_usage(kiosk_config, amount):
    result = run_kiosk("diag", "test-sale", amount, config=kiosk_config)
    assert result.returncode == 2 and "AMOUNT_FEN" in result.stderr


def test_diag_scan_with_nothing_scanned_exits_1(kiosk_config):
    rc, doc, _ = diag_json("scan", "--timeout", "0.5", config=kiosk_config)
    assert rc == 1 and doc["code"] is None and doc["detail"] == "no_scan"


def test_a_device_without_a_section_is_not_listed(tmp_path):
    text = (ROOT / "config" / "kiosk.toml").read_text(encoding="utf-8")
    start = text.index("[devices.scanner]")
    config = write_config(tmp_path / "k", text=text[:start] + text[text.index("[central]"):])
    rc, doc, _ = diag_json(config=config)
    assert "scanner" not in [r["name"] for r in doc["devices"]]
    rc, doc, _ = diag_json("scan", config=config)
    assert rc == 1 and "devices.scanner" in doc["error"]


def test_a_reader_on_a_missing_port_is_no_device_and_diag_fails(tmp_path):
    config = write_config(tmp_path / "k", **{r'"sim://idcard"': '"/dev/kiosk-idreader-not-plugged"'})
    rc, doc, _ = diag_json(config=config)
    row = next(r for r in doc["devices"] if r["name"] == "idcard")
    assert (row["state"], row["detail"], row["self_test"]["ok"]) == ("no_device", "no_device", False)
    assert rc == 1
    rc, doc, _ = diag_json("read-card", "--timeout", "1", config=config)
    assert rc == 1 and doc["card"] is None and "kiosk-idreader-not-plugged" in doc["error"]


def test_an_unknown_timeout_name_is_a_config_error_naming_the_key(tmp_path):
    config = write_config(tmp_path / "k", **{r'^baudrate = 115200$': 'baudrate = 115200\ntimeouts = { reed = 2.0 }'})
    result = run_kiosk("diag", "read-card", "--json", config=config)
    assert result.returncode == 2
    assert "devices.idcard" in result.stdout and "reed" in result.stdout


# --- the same commands against `kiosk sim serve` over socket:// --------------------------------

class Served:
    """`kiosk sim serve NAME` in a subprocess on a free loopback port; stopped by pid."""

    def __init__(self, name, *options, listen="127.0.0.1:0"):
        self.proc = subprocess.Popen([str(KIOSK), "sim", "serve", name, "--listen", listen, *options],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        line = {}
        reader = threading.Thread(target=lambda: line.setdefault("l", self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(20)
        if not line.get("l"):
            self.stop()
            raise RuntimeError(f"kiosk sim serve {name} did not start: {self.proc.stderr.read()}")
        self.url = line["l"].strip().rsplit("(", 1)[1].rstrip(")")
        assert self.url.startswith("socket://127.0.0.1:")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def serve():
    started = []

    def start(name, *options, listen="127.0.0.1:0"):
        s = Served(name, *options, listen=listen)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def socket_config(tmp_path, **urls) -> Path:
    return write_config(tmp_path / "k", **{f'"sim://{name}"': f'"{url}"' for name, url in urls.items()})


def test_the_same_commands_work_against_simulators_served_over_socket_urls(tmp_path, serve):
    urls = {name: serve(name).url for name in ("idcard", "payment")}
    urls["scanner"] = serve("scanner", "--scan", "KIOSK-PICKUP:20240601").url
    config = socket_config(tmp_path, **urls)
    assert "socket://127.0.0.1:" in config.read_text(encoding="utf-8")

    rc, doc, _ = diag_json(config=config)
    rows = {r["name"]: r for r in doc["devices"]}
    for name in ("idcard", "payment", "scanner"):
        assert rows[name]["state"] == "online" and rows[name]["self_test"]["ok"], rows[name]

    rc, doc, result = diag_json("read-card", "--timeout", "5", config=config)
    assert rc == 0, result.stderr
    assert (doc["card"]["name"], doc["card"]["id_number"]) == ("张**", "110***********1239")

    rc, doc, result = diag_json("test-sale", "100", config=config)
    assert (rc, doc["result"], doc["amount_fen"]) == (0, "approved", 100), result.stderr

    rc, doc, result = diag_json("scan", "--timeout", "5", config=config)
    assert rc == 0, result.stderr
    assert doc["code"] == {"kind": "pickup_code", "code": "2******1", "length": 8}


def test_no_card_on_a_served_reader_exits_1_in_time(tmp_path, serve):
    config = socket_config(tmp_path, idcard=serve("idcard", "--card", "none").url)
    rc, doc, _ = diag_json("read-card", "--timeout", "1", config=config)
    assert rc == 1 and doc["card"] is None and doc["detail"] == "no_card"


@pytest.mark.parametrize("card, card_type", [("hk_mo_tw", "hk_mo_tw_residence"), ("foreign_old", "foreign_permanent"),
                                              ("foreign_2023", "foreign_permanent_2023")])
def test_served_reader_reads_each_card_type(tmp_path, serve, card, card_type):
    config = socket_config(tmp_path, idcard=serve("idcard", "--card", card).url)
    rc, doc, _ = diag_json("read-card", "--timeout", "5", config=config)
    assert rc == 0 and doc["card"]["card_type"] == card_type


def test_a_served_reader_answering_garbage_is_a_hardware_error(tmp_path, serve):
    config = socket_config(tmp_path, idcard=serve("idcard", "--reader-fault", "garbage").url)
    rc, doc, _ = diag_json(config=config)
    row = next(r for r in doc["devices"] if r["name"] == "idcard")
    assert (row["state"], row["detail"], rc) == ("hardware_error", "bad_frames", 1)


def test_a_declined_sale_exits_1(tmp_path, serve):
    config = socket_config(tmp_path, payment=serve("payment", "--payment", "decline").url)
    rc, doc, _ = diag_json("test-sale", "100", config=config)
    assert (rc, doc["result"]) == (1, "declined")


def test_a_sale_without_an_answer_in_time_is_unknown(tmp_path, serve):
    config = socket_config(tmp_path, payment=serve("payment", "--payment", "no_answer").url)
    text = config.read_text(encoding="utf-8").replace("result_timeout_s = 120", "result_timeout_s = 1")
    config.write_text(text, encoding="utf-8")
    rc, doc, _ = diag_json("test-sale", "100", config=config)
    assert (rc, doc["result"], doc["detail"]) == (1, "unknown", "no_result")


def test_sim_serve_refuses_an_unknown_simulator_and_an_option_it_does_not_have():
    result = run_kiosk("sim", "serve", "toaster", "--listen", "127.0.0.1:0")
    assert result.returncode == 2 and "toaster" in result.stderr
    result = run_kiosk("sim", "serve", "scanner", "--card", "resident", "--listen", "127.0.0.1:0")
    assert result.returncode == 2 and "no card setting" in result.stderr


def test_a_driver_recovers_when_its_link_drops_and_comes_back(serve):
    """The served reader stops (a cable pulled, a converter rebooted) and comes back on the same port."""
    from kiosk.hardware.idcard import SamReader

    first = serve("idcard")
    reader = SamReader("idcard", first.url)
    try:
        assert reader.status().state.value == "online"
        first.stop()
        states = {reader.status().state.value for _ in range(2)}
        assert states <= {"offline", "no_device"} and "no_device" in states
        port = first.url.rsplit(":", 1)[1]
        again = serve("idcard", listen=f"127.0.0.1:{port}")
        assert again.url == first.url
        assert reader.status().state.value == "online"
        assert reader.read_card(5).card_type.value == "resident"
    finally:
        reader.close()


@pytest.mark.skipif(PrivateCupsd.unavailable() is not None, reason=PrivateCupsd.unavailable() or "")
def test_with_the_sim_queue_in_cups_every_default_device_is_online_and_diag_exits_0(tmp_path):
    """The default config where its A4 queue `sim` exists (as `make run` creates it): all six online."""
    cupsd = PrivateCupsd().start()
    try:
        cupsd.add_queue("sim")
        config = write_config(tmp_path, **{r'^printer = "sim".*$': f'printer = "sim"\nserver = "{cupsd.socket}"'})
        rc, doc, result = diag_json(config=config)
    finally:
        cupsd.stop()
    states = {r["name"]: (r["state"], r["detail"]) for r in doc["devices"]}
    assert all(state == "online" for state, _ in states.values()), states
    assert rc == 0, result.stderr
