"""Issue 24 item 9: hostile values in kiosk.toml (and in a signed bundle's settings) are named at load.

Each case exits 2 (ConfigError) naming the file, the key and the problem, and
the same value in a signed bundle is refused as `invalid_settings`.
"""
from __future__ import annotations

import json

import pytest

from kiosk import config
from kiosk.config import ConfigError
from kiosk.wire import bundle
from tests.config_bundle.bundlekit import make_kiosk, signed
from tests.conftest import run_kiosk, write_config


@pytest.fixture
def kiosk(tmp_path):
    return make_kiosk(tmp_path / "kiosk")

CASES = [
    # (pattern in the default config, replacement, key named, words of the problem)
    (r'^data_dir = .*$', 'data_dir = "var\\\\u0000x"', "kiosk.data_dir", "control character"),
    (r'^url = .*$', 'url = "http://"', "central.url", "no host"),
    (r'^url = .*$', 'url = "http://127.0.0.1:99999"', "central.url", "port"),
    (r'^url = .*$', 'url = "http://127.0.0.1 :8700"', "central.url", "space"),
    (r'^url = .*$', 'url = "ftp://127.0.0.1:8700"', "central.url", "http"),
    (r'^listen = .*$', 'listen = "nonsense"', "management.listen", "HOST:PORT"),
    (r'^listen = .*$', 'listen = "127.0.0.1:0"', "management.listen", "port"),
    (r'^listen = .*$', 'listen = ":8701"', "management.listen", "HOST:PORT"),
    (r'^port = "sim://payment"$', 'port = "sim://payment"\npos_number = "٠١"', "devices.payment.pos_number", "[0-9]"),
    (r'^port = "sim://payment"$', 'port = "sim://payment"\ncurrency = "１５６"', "devices.payment.currency", "[0-9]"),
    (r'^result_timeout_s = .*$', 'result_timeout_s = inf', "devices.payment.result_timeout_s", "finite"),
    (r'^\[management\]$', '[sync]\ninterval_s = inf\n\n[management]', "sync.interval_s", "finite"),
    (r'^\[management\]$', '[sync]\nbackoff_cap_s = nan\n\n[management]', "sync.backoff_cap_s", "finite"),
    (r'^port = "sim://idcard".*$', 'port = "sim://idcard"\ntimeouts = { read = inf }', "devices.idcard.timeouts.read",
     "finite"),
]


@pytest.mark.parametrize("pattern, replacement, key, problem", CASES)
def test_a_hostile_value_names_file_key_and_problem(tmp_path, pattern, replacement, key, problem):
    path = write_config(tmp_path, **{pattern: replacement})
    with pytest.raises(ConfigError) as err:
        config.load(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: {key}: "), msg
    assert problem in msg, msg


def test_a_3000_deep_array_exits_2_naming_the_file_and_the_depth(tmp_path):
    path = write_config(tmp_path)
    path.write_text("x = " + "[" * 3000 + "]" * 3000 + "\n" + path.read_text())
    r = run_kiosk("identity", "--json", config=path)
    assert r.returncode == 2, r.stderr
    assert "RecursionError" not in r.stderr and "Traceback" not in r.stderr
    assert f"{path}: " in r.stderr and "nested" in r.stderr and "32" in r.stderr


def test_a_40_deep_array_that_tomllib_reads_is_still_refused_by_depth(tmp_path):
    path = write_config(tmp_path)
    path.write_text("x = " + "[" * 40 + "]" * 40 + "\n" + path.read_text())
    with pytest.raises(ConfigError, match=r"kiosk\.toml: x: nested more than 32 deep"):
        config.load(path)


def test_a_command_exits_2_on_an_inf_interval(tmp_path):
    path = write_config(tmp_path, **{r'^\[management\]$': "[sync]\ninterval_s = inf\n\n[management]"})
    r = run_kiosk("identity", "--json", config=path)
    assert r.returncode == 2
    assert f"{path}: sync.interval_s: " in r.stderr and "finite" in r.stderr


@pytest.mark.parametrize("settings, key", [
    ({"sync": {"interval_s": float("inf")}}, "sync.interval_s"),
    ({"central": {"timeout_s": float("nan")}}, "central.timeout_s"),
    ({"kiosk": {"hall": "Hall\u0000"}}, "kiosk.hall"),
])
def test_a_signed_bundle_carrying_a_hostile_value_is_refused(kiosk, settings, key):
    out = kiosk.apply(signed(kiosk.key, 3, settings))
    assert out.result == "rejected"
    assert out.code in ("invalid_settings", "malformed"), out.text()
    assert key in out.reason or "NaN" in out.reason or "Infinity" in out.reason, out.reason
    assert kiosk.hall() != "Hall\u0000"


def test_bundle_json_with_nan_or_deep_nesting_is_malformed():
    with pytest.raises(bundle.BundleError, match="Infinity"):
        bundle.parse_envelope(b'{"payloadType": "x", "payload": "", "signatures": [], "n": Infinity}')
    with pytest.raises(bundle.BundleError) as err:
        bundle.parse_envelope(b"[" * 100_000 + b"]" * 100_000)
    assert err.value.code in ("malformed", "too_large")
    with pytest.raises(bundle.BundleError, match="nested"):
        bundle.parse_envelope(b'{"a":' + b"[" * 3000 + b"]" * 3000 + b"}")


def test_signing_a_source_with_inf_or_deep_nesting_is_refused_before_it_reaches_a_kiosk():
    from datetime import datetime, timezone
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    head = 'version = 1\nexpires = "2027-01-01T00:00:00Z"\ntargets = ["k"]\n'
    with pytest.raises(bundle.BundleError, match="Infinity"):
        bundle.payload_from_source(head + "[settings.sync]\ninterval_s = inf\n", now=now, where="b.toml")
    with pytest.raises(bundle.BundleError, match="b.toml: .*nested"):
        bundle.payload_from_source(head + "x = " + "[" * 3000 + "]" * 3000 + "\n", now=now, where="b.toml")


@pytest.mark.parametrize("pattern, replacement, key", [
    (r'^connection = .*$', 'connection = "tcp://192.168.1.50:99999"', "devices.receipt_printer.connection"),
    (r'^port = "sim://scanner".*$', 'port = "socket://:7003"', "devices.scanner.port"),
    (r'^port = "sim://payment".*$', 'port = "socket://127.0.0.1 :7002"', "devices.payment.port"),
])
def test_a_device_network_address_with_a_bad_port_or_host_is_named(tmp_path, pattern, replacement, key):
    path = write_config(tmp_path, **{pattern: replacement})
    with pytest.raises(ConfigError, match=rf"{path}: {key}: "):
        config.load(path)
