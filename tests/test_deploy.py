"""Deployment: the systemd units verify and carry their promises (the package and the installer that wraps it:
tests/test_deb_package.py)."""
import configparser
import os
import shutil
import subprocess

import pytest

from tests.conftest import KIOSK, ROOT

SYSTEMD = ROOT / "systemd"
UNITS = ("kiosk-ui.service", "kiosk-agent.service", "kiosk-central.service", "kiosk-central-notify.service")


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(SYSTEMD / name)
    return parser


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_units_pass_systemd_analyze_verify(tmp_path):
    # the units name the installed paths; point them at this tree so verify can check the commands
    xinit = shutil.which("xinit") or "/bin/true"
    for name in UNITS:
        text = (SYSTEMD / name).read_text()
        text = text.replace("/opt/kiosk/venv/bin/kiosk", str(KIOSK))
        text = text.replace("/opt/kiosk/bin/kiosk-session", str(SYSTEMD / "kiosk-session"))
        text = text.replace("/usr/bin/xinit", xinit)
        (tmp_path / name).write_text(text)
    r = subprocess.run(["systemd-analyze", "verify", *[str(tmp_path / n) for n in UNITS]],
                       capture_output=True, text=True, timeout=60, cwd=tmp_path)
    problems = [line for line in (r.stdout + r.stderr).splitlines() if "kiosk-" in line]
    assert r.returncode == 0 and not problems, r.stdout + r.stderr


def test_ui_is_notify_with_watchdog_and_never_stays_dead():
    s = unit("kiosk-ui.service")
    assert s["Service"]["Type"] == "notify" and s["Service"]["NotifyAccess"] == "all"
    assert int(s["Service"]["WatchdogSec"]) > 0
    assert s["Service"]["Restart"] == "always"
    assert s["Unit"]["StartLimitIntervalSec"] == "0"
    assert "-nocursor" in s["Service"]["ExecStart"] and "-s 0 -dpms" in s["Service"]["ExecStart"]


def test_agent_has_its_own_watchdog_and_no_devices():
    s = unit("kiosk-agent.service")
    assert s["Service"]["Type"] == "notify" and int(s["Service"]["WatchdogSec"]) > 0
    assert s["Service"]["PrivateDevices"] == "yes"


@pytest.mark.parametrize("name", UNITS)
def test_each_unit_is_hardened_and_writes_only_its_data_dir(name):
    s = unit(name)["Service"]
    assert s["NoNewPrivileges"] == "yes" and s["PrivateTmp"] == "yes"
    assert s["ProtectSystem"] == "strict" and s["ProtectHome"] == "yes"
    assert s["ReadWritePaths"].split() == (["/var/lib/kiosk-central"] if "central" in name else ["/var/lib/kiosk"])


def test_the_session_leaves_watchdog_pings_to_the_ui():
    text = (SYSTEMD / "kiosk-session").read_text()
    assert "unset WATCHDOG_PID" in text and "exec /opt/kiosk/venv/bin/kiosk ui" in text


def test_installer_refuses_to_run_as_a_user_on_the_live_machine(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "id").write_text("#!/bin/sh\necho 1000\n")
    (bin_dir / "id").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "DESTDIR"}
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    r = subprocess.run(["bash", str(ROOT / "scripts" / "install-kiosk.sh")], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "run as root" in r.stderr
