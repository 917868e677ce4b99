"""Deployment: the systemd units verify and carry their promises (the package and the installer that wraps it:
tests/test_deb_package.py)."""
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
    expected = {"kiosk-ui.service": ["/var/lib/kiosk", "-/media/kiosk"], "kiosk-agent.service": ["/var/lib/kiosk"]}
    assert s["ReadWritePaths"].split() == expected.get(name, ["/var/lib/kiosk-central"])


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


def _fake(bin_dir: Path, name: str, body: str) -> None:
    (bin_dir / name).write_text("#!/bin/sh\n" + body)
    (bin_dir / name).chmod(0o755)


def test_a_usb_stick_is_mounted_for_the_kiosk_user_with_nothing_on_it_able_to_run(tmp_path):
    """98-kiosk-usb-stick.rules hands a plugged stick to kiosk-usb-mount, which asks systemd-mount (here a
    stand-in that records its arguments: no stick is plugged into a test machine) for a mount where
    [technician] usb_mounts looks."""
    import fnmatch

    from kiosk.config import TechnicianSection

    rules = (SYSTEMD / "98-kiosk-usb-stick.rules").read_text()
    add = next(line for line in rules.splitlines() if line.startswith('ACTION=="add"'))
    for match in ('SUBSYSTEM=="block"', 'ENV{ID_BUS}=="usb"', 'ENV{ID_FS_TYPE}=="vfat|exfat"',
                  "/opt/kiosk/bin/kiosk-usb-mount add $devnode %k $env{ID_FS_TYPE}"):
        assert match in add
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake(bin_dir, "systemd-mount", f'printf "%s\\n" "$@" > {tmp_path}/args\n')
    _fake(bin_dir, "id", 'case "$1" in -u) echo 995 ;; -g) echo 994 ;; esac\n')
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")

    def mount(*args: str) -> tuple[int, list[str]]:
        (tmp_path / "args").unlink(missing_ok=True)
        done = subprocess.run(["sh", str(SYSTEMD / "kiosk-usb-mount"), *args], env=env, capture_output=True,
                              text=True, timeout=30)
        recorded = (tmp_path / "args").read_text().splitlines() if (tmp_path / "args").exists() else []
        return done.returncode, recorded

    code, args = mount("add", "/dev/sdb1", "sdb1", "vfat")
    assert code == 0 and args[-2:] == ["/dev/sdb1", "/media/kiosk/sdb1"]
    options = set(next(a for a in args if a.startswith("--options=")).removeprefix("--options=").split(","))
    assert {"uid=995", "gid=994", "umask=0077", "noexec", "nosuid", "nodev", "flush"} <= options
    assert any(fnmatch.fnmatch("/media/kiosk/sdb1", p) for p in TechnicianSection().usb_mounts)
    code, args = mount("add", "/dev/sdc", "sdc", "exfat")
    assert code == 0 and "flush" not in next(a for a in args if a.startswith("--options="))   # vfat's only
    assert mount("remove", "/dev/sdb1", "sdb1") == (0, ["--umount", "/media/kiosk/sdb1"])
    assert mount("add", "/dev/sdb1", "../etc", "vfat") == (2, [])      # a name that leaves /media/kiosk


def test_the_installed_command_runs_as_the_user_whose_data_it_touches(tmp_path):
    """/usr/bin/kiosk (packaging/debian/kiosk-command) run by root: the kiosk's commands as `kiosk`, the
    platform's as `kiosk-central`, provision (it writes /etc/kiosk) as root. `id` and `runuser` are
    stand-ins here; the venv's python is not on this machine, so a command left to root fails to start."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake(bin_dir, "id", 'case "$1" in -u) echo 0 ;; *) exit 0 ;; esac\n')
    _fake(bin_dir, "runuser", 'echo "runuser $*"\n')
    script = ROOT / "packaging" / "debian" / "kiosk-command"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["sh", str(script), *args], capture_output=True, text=True, timeout=30,
                              env=dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}"))

    as_kiosk = run("queue", "--json")
    assert as_kiosk.stdout.startswith("runuser -u kiosk -- /opt/kiosk/venv/bin/python -I -m kiosk.cli queue --json")
    assert run("--config", "/etc/kiosk/other.toml", "sync", "--once").stdout.startswith("runuser -u kiosk -- ")
    central = run("central", "migrate", "--db", "/var/lib/kiosk-central/central.db")
    assert central.stdout.startswith("runuser -u kiosk-central -- ")
    provision = run("provision", "--kiosk-id", "hall-03-k07")
    assert "runuser" not in provision.stdout and provision.returncode != 0   # root's own: exec'd directly
