"""`kiosk config keygen | sign | rotate-keys | apply | status` end to end, as an operator and a technician run them."""
from __future__ import annotations

import json
import os
import stat

from tests.conftest import run_kiosk, write_config

SOURCE = """\
version = 7
expires = "2099-01-31T00:00:00Z"
targets = ["demo-hall-k01"]
min_software = "0.1.0"

[settings.kiosk]
hall = "示例政务服务中心"
idle_timeout_s = 120
"""


def setup_operator_and_kiosk(tmp_path):
    """An operator's machine (keys, bundle source) and a kiosk that trusts the operator's public key."""
    op = tmp_path / "operator"
    r = run_kiosk("config", "keygen", "--out", str(op / "keys"), "--json")
    assert r.returncode == 0, r.stderr
    keys = json.loads(r.stdout)
    cfg = write_config(tmp_path / "kiosk", **{r'^trusted_keys = .*$': f'trusted_keys = ["{keys["public_key"]}"]'})
    (op / "bundle.toml").write_text(SOURCE, encoding="utf-8")
    return op, keys, cfg


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(tmp_path):
    r = run_kiosk("config", "keygen", "--out", str(tmp_path / "k"), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert stat.S_IMODE(os.stat(doc["private_key"]).st_mode) == 0o600
    assert len(doc["keyid"]) == 64
    again = run_kiosk("config", "keygen", "--out", str(tmp_path / "k"))
    assert again.returncode == 1 and "already exists" in again.stderr


def test_sign_apply_and_status_end_to_end(tmp_path):
    op, keys, cfg = setup_operator_and_kiosk(tmp_path)
    signed = op / "bundle.signed.json"
    r = run_kiosk("config", "sign", str(op / "bundle.toml"), "--key", keys["private_key"], "--out", str(signed),
                  "--json", config=cfg)
    assert r.returncode == 0, r.stderr
    made = json.loads(r.stdout)
    assert made["version"] == 7 and made["keyids"] == [keys["keyid"]]
    envelope = json.loads(signed.read_text())
    assert (envelope["version"], envelope["targets"]) == (7, ["demo-hall-k01"])  # routing hints for the platform

    r = run_kiosk("config", "apply", str(signed), "--json", config=cfg)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["result"] == "applied"

    r = run_kiosk("config", "status", "--json", config=cfg)
    st = json.loads(r.stdout)
    assert {"version", "sha256", "state", "last_rejection"} <= set(st)
    assert (st["version"], st["sha256"], st["state"], st["last_rejection"]) == (7, made["sha256"], "applied", None)
    text = run_kiosk("config", "status", config=cfg)
    assert "config version 7" in text.stdout and "state applied" in text.stdout


def test_apply_of_a_refused_bundle_exits_1_with_the_reason(tmp_path):
    op, keys, cfg = setup_operator_and_kiosk(tmp_path)
    (op / "other.toml").write_text(SOURCE.replace('["demo-hall-k01"]', '["other-k02"]'), encoding="utf-8")
    signed = op / "other.json"
    assert run_kiosk("config", "sign", str(op / "other.toml"), "--key", keys["private_key"], "--out", str(signed),
                     config=cfg).returncode == 0
    r = run_kiosk("config", "apply", str(signed), config=cfg)
    assert r.returncode == 1
    assert "not_targeted" in r.stdout and "other-k02" in r.stdout
    r = run_kiosk("config", "apply", str(signed), "--json", config=cfg)
    doc = json.loads(r.stdout)
    assert r.returncode == 1 and (doc["result"], doc["code"]) == ("rejected", "not_targeted")
    st = json.loads(run_kiosk("config", "status", "--json", config=cfg).stdout)
    assert st["state"] == "rejected" and st["last_rejection"]["code"] == "not_targeted"
    assert st["version"] is None


def test_apply_of_a_missing_file_is_bad_usage(tmp_path):
    _, _, cfg = setup_operator_and_kiosk(tmp_path)
    r = run_kiosk("config", "apply", str(tmp_path / "nope.json"), config=cfg)
    assert r.returncode == 2 and "no such file" in r.stderr


def test_sign_refuses_device_wiring_and_invalid_settings(tmp_path):
    op, keys, cfg = setup_operator_and_kiosk(tmp_path)
    (op / "wiring.toml").write_text(SOURCE + '\n[settings.devices.locker]\nport = "/dev/ttyUSB3"\n', encoding="utf-8")
    r = run_kiosk("config", "sign", str(op / "wiring.toml"), "--key", keys["private_key"], "--out",
                  str(op / "w.json"), config=cfg)
    assert r.returncode == 1 and "settings.devices.locker" in r.stderr
    assert not (op / "w.json").exists()
    (op / "bad.toml").write_text(SOURCE.replace("idle_timeout_s = 120", "idle_timeout_s = 3"), encoding="utf-8")
    r = run_kiosk("config", "sign", str(op / "bad.toml"), "--key", keys["private_key"], "--out",
                  str(op / "b.json"), config=cfg)
    assert r.returncode == 1 and "kiosk.idle_timeout_s" in r.stderr


def test_sign_refuses_a_bundle_without_an_expiry_or_already_expired(tmp_path):
    op, keys, cfg = setup_operator_and_kiosk(tmp_path)
    (op / "x.toml").write_text(SOURCE.replace('expires = "2099-01-31T00:00:00Z"\n', ""), encoding="utf-8")
    r = run_kiosk("config", "sign", str(op / "x.toml"), "--key", keys["private_key"], "--out", str(op / "x.json"))
    assert r.returncode == 1 and "expires is missing" in r.stderr
    (op / "y.toml").write_text(SOURCE.replace("2099", "2001"), encoding="utf-8")
    r = run_kiosk("config", "sign", str(op / "y.toml"), "--key", keys["private_key"], "--out", str(op / "y.json"))
    assert r.returncode == 1 and "already past" in r.stderr


def test_rotate_keys_by_command_then_only_the_new_key_signs(tmp_path):
    op, keys, cfg = setup_operator_and_kiosk(tmp_path)
    new = json.loads(run_kiosk("config", "keygen", "--out", str(op / "new"), "--json").stdout)
    r = run_kiosk("config", "rotate-keys", "--key", keys["private_key"], "--new-key", new["public_key"],
                  "--generation", "1", "--out", str(op / "rot1.json"), "--json")
    assert r.returncode == 0, r.stderr
    r = run_kiosk("config", "apply", str(op / "rot1.json"), "--json", config=cfg)
    assert r.returncode == 0 and json.loads(r.stdout)["result"] == "rotated", r.stdout + r.stderr
    st = json.loads(run_kiosk("config", "status", "--json", config=cfg).stdout)
    assert st["trust"]["keyids"] == [new["keyid"]] and st["trust"]["generation"] == 1

    for who, key in (("old", keys["private_key"]), ("new", new["private_key"])):
        assert run_kiosk("config", "sign", str(op / "bundle.toml"), "--key", key, "--out",
                         str(op / f"{who}.json")).returncode == 0
    r = run_kiosk("config", "apply", str(op / "old.json"), config=cfg)
    assert r.returncode == 1 and "unknown_key" in r.stdout
    assert run_kiosk("config", "apply", str(op / "new.json"), config=cfg).returncode == 0


def test_a_rotation_made_with_a_key_the_kiosk_does_not_trust_is_refused(tmp_path):
    op, keys, cfg = setup_operator_and_kiosk(tmp_path)
    rogue = json.loads(run_kiosk("config", "keygen", "--out", str(op / "rogue"), "--json").stdout)
    run_kiosk("config", "rotate-keys", "--key", rogue["private_key"], "--new-key", rogue["public_key"],
              "--generation", "1", "--out", str(op / "rot.json"))
    r = run_kiosk("config", "apply", str(op / "rot.json"), config=cfg)
    assert r.returncode == 1 and "rotation_unknown_key" in r.stdout


def test_sign_carries_a_rotation_for_kiosks_that_missed_it(tmp_path):
    op, keys, cfg = setup_operator_and_kiosk(tmp_path)
    new = json.loads(run_kiosk("config", "keygen", "--out", str(op / "new"), "--json").stdout)
    run_kiosk("config", "rotate-keys", "--key", keys["private_key"], "--new-key", new["public_key"],
              "--generation", "1", "--out", str(op / "rot1.json"))
    r = run_kiosk("config", "sign", str(op / "bundle.toml"), "--key", new["private_key"], "--rotation",
                  str(op / "rot1.json"), "--out", str(op / "b.json"))
    assert r.returncode == 0, r.stderr
    assert run_kiosk("config", "apply", str(op / "b.json"), config=cfg).returncode == 0


def test_push_to_the_fleet_without_operator_credentials_is_bad_usage(tmp_path):
    op, keys, cfg = setup_operator_and_kiosk(tmp_path)
    run_kiosk("config", "sign", str(op / "bundle.toml"), "--key", keys["private_key"], "--out", str(op / "b.json"))
    env = {"KIOSK_OPERATOR_ID": "", "KIOSK_OPERATOR_SECRET": ""}
    r = run_kiosk("config", "push", str(op / "b.json"), "--to", "http://127.0.0.1:9/api/v1/fleet/config", env=env)
    assert r.returncode == 2 and "--operator" in r.stderr
