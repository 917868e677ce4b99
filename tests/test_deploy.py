"""Deployment: the systemd units verify and carry their promises; the installer runs twice into a throwaway root."""
import configparser
import os
import shutil
import subprocess
from pathlib import Path

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


def _throwaway_root(base: Path) -> Path:
    root = base / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (root / "etc/group").write_text("root:x:0:\ndialout:x:20:\nlp:x:7:\nvideo:x:44:\ninput:x:105:\n")
    (root / "etc/shadow").write_text("root:*:19000:0:99999:7:::\n")
    (root / "etc/gshadow").write_text("root:*::\ndialout:*::\nlp:*::\nvideo:*::\ninput:*::\n")
    for f in ("shadow", "gshadow"):
        (root / "etc" / f).chmod(0o640)
    return root


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("useradd"), reason="useradd --prefix needs root")
def test_installer_runs_twice_into_a_throwaway_root_and_keeps_the_config(tmp_path):
    root = _throwaway_root(tmp_path)
    env = dict(os.environ, DESTDIR=str(root))
    cmd = ["bash", str(ROOT / "scripts" / "install-kiosk.sh"), "--no-venv"]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    passwd = (root / "etc/passwd").read_text()
    assert "\nkiosk:" in passwd and "/var/lib/kiosk:/usr/sbin/nologin" in passwd
    group = (root / "etc/group").read_text()
    assert any(line.startswith("dialout:") and "kiosk" in line for line in group.splitlines())
    assert any(line.startswith("lp:") and "kiosk" in line for line in group.splitlines())
    config = root / "etc/kiosk/kiosk.toml"
    assert 'data_dir = "/var/lib/kiosk"' in config.read_text()
    assert (root / "var/lib/kiosk").is_dir() and oct((root / "var/lib/kiosk").stat().st_mode)[-3:] == "750"
    for u in ("kiosk-ui.service", "kiosk-agent.service"):
        assert (root / "etc/systemd/system" / u).exists()
    assert (root / "etc/systemd/system/graphical.target.wants/kiosk-ui.service").is_symlink()
    assert (root / "etc/systemd/system/multi-user.target.wants/kiosk-agent.service").is_symlink()
    assert (root / "etc/udev/rules.d/99-kiosk.rules").exists()
    assert (root / "opt/kiosk/bin/kiosk-session").stat().st_mode & 0o111

    # an operator's edit survives a second run; nothing is duplicated
    config.write_text(config.read_text().replace('id = "demo-hall-k01"', 'id = "hall-7-k03"'))
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert "keeping the existing /etc/kiosk/kiosk.toml" in second.stdout
    assert 'id = "hall-7-k03"' in config.read_text()
    assert (root / "etc/passwd").read_text().count("\nkiosk:") == 1
    dialout = next(line for line in (root / "etc/group").read_text().splitlines() if line.startswith("dialout:"))
    assert dialout.split(":")[3].split(",").count("kiosk") == 1


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


def test_installing_into_a_bare_root_leaves_the_users_to_systemd_sysusers(tmp_path):
    root = tmp_path / "bare"      # no etc/passwd: an image being built, not a machine
    root.mkdir()
    r = subprocess.run(["bash", str(ROOT / "scripts" / "install-kiosk.sh"), "--no-venv"],
                       env=dict(os.environ, DESTDIR=str(root)), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "cannot lock" not in r.stderr and "left to systemd-sysusers" in r.stdout
    assert not (root / "etc/passwd").exists()
    declared = (root / "usr/lib/sysusers.d/kiosk.conf").read_text()
    assert 'u kiosk - "self-service kiosk" /var/lib/kiosk /usr/sbin/nologin' in declared
    assert {"m kiosk dialout", "m kiosk lp"} <= set(declared.splitlines())
    check = subprocess.run(["systemd-sysusers", "--dry-run", f"--root={root}"], capture_output=True, text=True,
                           timeout=60)
    assert check.returncode == 0 and "Creating user 'kiosk'" in check.stdout + check.stderr, check.stderr
