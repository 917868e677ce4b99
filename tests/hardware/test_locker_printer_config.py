"""The locker and printer settings: board limits per driver named with the key, vendor settings reaching the drivers."""
import tomllib
from pathlib import Path

import pytest

from kiosk import config
from kiosk.devices import build_device
from kiosk.sim import registry as sim_registry

from tests.conftest import DEFAULT_CONFIG  # noqa: E402


def settings_with(**locker):
    data = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["devices"]["locker"].update(locker)
    return config.parse(data, Path("kiosk.toml"))


@pytest.mark.parametrize("locker, message", [
    ({"boards": [{"address": 1, "doors": 40}]}, "boards[0].doors: a lock8a board drives at most 32 doors"),
    ({"boards": [{"address": 0, "doors": 8}]}, "boards[0].address: lock8a boards are addressed 1-64"),
    ({"driver": "kerong", "boards": [{"address": 0, "doors": 24}]}, "at most 16 doors"),
    ({"boards": [{"address": 1, "doors": 8}, {"address": 1, "doors": 8}]}, "board 1 is listed twice"),
])
def test_a_board_the_driver_cannot_drive_is_a_config_error_naming_the_key(locker, message):
    with pytest.raises(config.ConfigError) as err:
        settings_with(**locker)
    assert "kiosk.toml: devices.locker" in str(err.value) and message in str(err.value)


def test_per_board_vendor_settings_reach_the_driver():
    settings = settings_with(driver="kerong", baudrate=None, local_echo=True,
                             boards=[{"address": 0, "doors": 16, "closed_bit": 0},
                                     {"address": 1, "doors": 8, "open_status": 0}])
    sim_registry.reset_simulators()
    locker = build_device(settings, "locker")
    try:
        assert locker.baudrate == 19200 and locker.local_echo is True
        assert [(b.address, b.closed_bit, b.open_status) for b in locker.boards] == [(0, 0, 0x11), (1, 1, 0)]
        assert locker.door_count == 24
    finally:
        locker.close()
        sim_registry.reset_simulators()


def test_printer_settings_reach_the_drivers():
    data = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    data["devices"]["receipt_printer"].update(encoding="big5", cut="partial", timeouts={"status": 0.2})
    data["devices"]["document_printer"].update(server="/tmp/kiosk-test-cups.sock", timeouts={"job": 30.0})
    settings = config.parse(data, Path("kiosk.toml"))
    sim_registry.reset_simulators()
    receipt = build_device(settings, "receipt_printer")
    a4 = build_device(settings, "document_printer")
    try:
        assert (receipt.encoding, receipt.cut_mode, receipt.timeouts.status) == ("big5", "partial", 0.2)
        assert (a4.server, a4.timeouts.job) == ("/tmp/kiosk-test-cups.sock", 30.0)
    finally:
        receipt.close()
        a4.close()
        sim_registry.reset_simulators()
