"""Settings: the default file loads, and every kind of mistake is named with file, key and problem."""
import json

import pytest

from kiosk import config
from kiosk.config import ConfigError
from tests.conftest import DEFAULT_CONFIG, run_kiosk, write_config


def test_default_config_loads_with_every_device_on_a_simulator():
    s = config.load(DEFAULT_CONFIG)
    devices = s.devices
    assert s.kiosk.id == "demo-hall-k01"
    assert devices.idcard.port == "sim://idcard"
    assert devices.locker.port == "sim://locker" and devices.locker.boards[0].doors == 24
    assert devices.receipt_printer.connection == "sim://receipt"
    assert devices.payment.port == "sim://payment" and devices.scanner.port == "sim://scanner"
    assert s.central.url == "http://127.0.0.1:8700"


def test_data_dir_is_relative_to_the_config_file(tmp_path):
    s = config.load(write_config(tmp_path / "k"))
    assert s.data_path == tmp_path / "k" / "var"


@pytest.mark.parametrize("pattern, replacement, message", [
    (r'^baudrate = 9600$', 'baudrate = "9600x"', 'devices.locker.baudrate: expected an integer, got "9600x"'),
    (r'^driver = "lock8a".*$', 'driver = "lock9"', "devices.locker.driver: expected one of 'lock8a' or 'kerong', got \"lock9\""),
    (r'^fullscreen = false$', 'fullscreen = "no"', 'ui.fullscreen: expected true or false, got "no"'),
    (r'^idle_timeout_s = 90.*$', 'idle_timeout_s = 5', "kiosk.idle_timeout_s: input should be greater than or equal to 15, got 5"),
    (r'^language = .*$', 'langauge = "en"', "kiosk.langauge: unknown key"),
    (r'^id = .*$', '', "kiosk.id: required key is missing"),
    (r'^encoding = .*$', 'encoding = "latin-1"', "devices.receipt_printer.encoding: expected one of"),
    (r'^disabled = \[\]$', 'disabled = ["guides", "tikets"]',
     'services.disabled.1: unknown service; the services are pickup, handin, guides, documents, forms, progress, fees, '
     'tickets, got "tikets"'),
    (r'^disabled = \[\]$', 'disabled = "tickets"', 'services.disabled: expected a list, got "tickets"'),
    (r'^multisamples = 0.*$', 'multisamples = 0\n[ui.face]\nidcard = [0.8, 0.5, 0.3, 0.07]',
     "ui.face.idcard: the part idcard = [0.8, 0.5, 0.3, 0.07] reaches past the kiosk's face"),
    (r'^multisamples = 0.*$', 'multisamples = 0\n[ui.face]\nprinter = [0.1, 0.5, 0.3, 0.07]', "ui.face.printer"),
    (r'^engine = "espeak-ng".*$', 'engine = "festival"', "voice.engine"),
])
def test_a_bad_value_names_file_key_and_problem(tmp_path, pattern, replacement, message):
    path = write_config(tmp_path, **{pattern: replacement})
    with pytest.raises(ConfigError) as err:
        config.load(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)


def test_broken_toml_names_the_file_and_position(tmp_path):
    path = tmp_path / "k.toml"
    path.write_text('[kiosk]\nid = "x\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"k\.toml: not valid TOML: .*line 2"):
        config.load(path)


def test_missing_file_says_how_to_point_at_one(tmp_path):
    with pytest.raises(ConfigError, match="config file not found .*--config"):
        config.load(tmp_path / "nope.toml")


def test_every_command_exits_2_on_a_bad_config_and_names_the_key(tmp_path):
    path = write_config(tmp_path, **{r'^baudrate = 9600$': 'baudrate = "9600x"'})
    r = run_kiosk("identity", "--json", config=path)
    assert r.returncode == 2
    assert f'{path}: devices.locker.baudrate: expected an integer, got "9600x"' in r.stderr
    doc = json.loads(r.stdout)   # --json: the same message as a JSON answer, nothing of the command's own
    assert doc["ok"] is False and doc["exit"] == 2 and "devices.locker.baudrate" in doc["error"]


def test_config_comes_from_kiosk_config_env_when_not_given(tmp_path):
    path = write_config(tmp_path, **{r'^id = .*$': 'id = "env-kiosk"'})
    r = run_kiosk("identity", "--json", env={"KIOSK_CONFIG": str(path)})
    assert r.returncode == 0, r.stderr
    assert '"kiosk_id": "env-kiosk"' in r.stdout


def test_services_are_all_on_by_default_and_switched_off_by_their_keys(tmp_path):
    assert config.load(DEFAULT_CONFIG).services.disabled == []
    path = write_config(tmp_path, **{r'^disabled = \[\]$': 'disabled = ["tickets", "documents"]'})
    assert config.load(path).services.disabled == ["tickets", "documents"]


def test_every_citizen_service_the_kiosk_builds_can_be_switched_off_by_its_key():
    """config.SERVICE_KEYS names the services for the settings, which never import the app: a service
    added to the composition root without its key there could not be switched off."""
    from kiosk.app.root import CITIZEN_SERVICES

    assert {s.key for s in CITIZEN_SERVICES} <= set(config.SERVICE_KEYS)


def test_a_kiosk_model_draws_its_own_face(tmp_path):
    path = write_config(tmp_path, **{r'^multisamples = 0.*$': 'multisamples = 0\n[ui.face]\n'
                                     'screen = [0.1, 0.05, 0.8, 0.35]\nidcard = [0.1, 0.45, 0.25, 0.06]'})
    face = config.load(path).ui.face
    assert face == {"screen": [0.1, 0.05, 0.8, 0.35], "idcard": [0.1, 0.45, 0.25, 0.06]}
