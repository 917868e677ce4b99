"""A kiosk that serves citizens will not run on the demo hall's values (the secrets, keys and PINs anyone can
read in this repository, devices on simulators): `kiosk config check` names each by its key, and `kiosk ui`
and `kiosk agent` refuse to start, unless the config says it is the demo hall (`[kiosk] demo = true`, as
config/kiosk.toml does)."""
from __future__ import annotations

import json

from kiosk import config
from kiosk.core.staff import hash_pin
from kiosk.provisioning import demo_values
from tests.conftest import DEFAULT_CONFIG, run_kiosk, write_config

EVERY_DEMO_KEY = {"central.secret", "central.notice_key", "privacy.hash_key", "staff.members[0].pin_hash",
                  "technician.pin_hashes[0]", "devices.idcard.port", "devices.locker.port",
                  "devices.receipt_printer.connection", "devices.document_printer.printer", "devices.payment.port",
                  "devices.scanner.port"}


def test_the_default_config_is_the_demo_hall_and_says_so():
    settings = config.load(DEFAULT_CONFIG)
    assert settings.kiosk.demo is True
    assert {v.key for v in demo_values(settings)} == EVERY_DEMO_KEY
    done = run_kiosk("config", "check", "--json", config=DEFAULT_CONFIG)
    assert done.returncode == 0 and json.loads(done.stdout)["ok"] is True


def test_outside_a_demo_hall_config_check_names_every_demo_value_and_exits_2(tmp_path):
    cfg = write_config(tmp_path / "k", **{r"^demo = true$": "demo = false"})
    done = run_kiosk("config", "check", "--json", config=cfg)
    assert done.returncode == 2
    doc = json.loads(done.stdout)
    assert doc["ok"] is False and doc["demo"] is False
    assert {v["key"] for v in doc["demo_values"]} == EVERY_DEMO_KEY
    plain = run_kiosk("config", "check", config=cfg)
    assert plain.returncode == 2 and f"{cfg}: privacy.hash_key:" in plain.stderr and "demo value" in plain.stderr


def test_each_demo_value_is_refused_on_its_own(tmp_path):
    """One by one: a config with everything of its own except one demo value is refused naming that key."""
    own = {r"^demo = true$": "demo = false",
           r'^secret = "demo-secret-.*"$': 'secret = "k03-7f1c9e2a5b8d4f60a1c3e5b7d9f2a4c6"',
           r"^notice_key = .*$": "",
           r'^hash_key = .*$': 'hash_key = "hall-7-0f3e8d2c1b4a59687766554433221100"',
           r'pin_hash = "scrypt[^"]*"': f'pin_hash = "{hash_pin("908172")}"',
           r"^pin_hashes = .*$": f'pin_hashes = ["{hash_pin("564738")}"]',
           r'"sim://[a-z_]+"': '"socket://127.0.0.1:9"',
           r'^printer = "sim"': 'printer = "hall-a4"'}
    clean = write_config(tmp_path / "clean", **own)
    assert demo_values(config.load(clean)) == []
    assert run_kiosk("config", "check", config=clean).returncode == 0
    for i, (pattern, demo) in enumerate(((r'^secret = .*$', 'secret = "demo-secret-demo-hall-k01-0000000000"'),
                                         (r'^hash_key = .*$', 'hash_key = "demo-deployment-key-change-me-000000"'),
                                         (r"^pin_hashes = .*$", f'pin_hashes = ["{hash_pin("135790")}"]'))):
        cfg = write_config(tmp_path / f"one-{i}", **{**own, pattern: demo})
        keys = [v.key for v in demo_values(config.load(cfg))]
        assert len(keys) == 1, (pattern, keys)
        done = run_kiosk("config", "check", config=cfg)
        assert done.returncode == 2 and keys[0] in done.stderr


def test_ui_and_agent_refuse_to_start_with_demo_values_outside_a_demo_hall(tmp_path):
    cfg = write_config(tmp_path / "k", **{r"^demo = true$": "demo = false"})
    for command in ("agent", "ui"):
        done = run_kiosk(command, config=cfg, timeout=60)
        assert done.returncode == 2, (command, done.stderr[-500:])
        assert "not provisioned" in done.stderr and "central.secret" in done.stderr and "privacy.hash_key" in done.stderr
        assert "kiosk config check" in done.stderr and "kiosk provision" in done.stderr
