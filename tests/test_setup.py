"""The set-up commands: missing Debian packages are installed as root, or named for a non-root user."""
import os
import subprocess
from pathlib import Path

from tests.conftest import ROOT, run_kiosk

SCRIPT = ROOT / "scripts" / "system-packages.sh"


def _shims(tmp_path: Path, uid: int, installed: bool) -> dict:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    status = "install ok installed" if installed else ""
    (bin_dir / "dpkg-query").write_text(f"#!/bin/sh\nprintf '%s' '{status}'\n")
    (bin_dir / "apt-get").write_text(f"#!/bin/sh\necho \"apt-get $*\" >> {tmp_path}/apt.log\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    return dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")


def test_non_root_user_gets_the_exact_apt_get_line_and_a_failure(tmp_path):
    r = subprocess.run(["bash", str(SCRIPT)], env=_shims(tmp_path, 1000, installed=False),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "sudo apt-get update && sudo apt-get install -y" in r.stderr
    for pkg in ("xvfb", "fonts-wqy-microhei", "libmtdev1", "printer-driver-cups-pdf"):
        assert pkg in r.stderr
    assert not (tmp_path / "apt.log").exists()


def test_root_installs_what_is_missing(tmp_path):
    r = subprocess.run(["bash", str(SCRIPT)], env=_shims(tmp_path, 0, installed=False),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    log = (tmp_path / "apt.log").read_text()
    assert "apt-get update" in log and "install" in log and "fonts-wqy-microhei" in log


def test_nothing_happens_when_everything_is_installed(tmp_path):
    r = subprocess.run(["bash", str(SCRIPT)], env=_shims(tmp_path, 1000, installed=True),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stderr == ""
    assert not (tmp_path / "apt.log").exists()


def test_help_lists_commands_and_no_command_is_a_usage_error():
    r = run_kiosk("--help")
    assert r.returncode == 0 and "identity" in r.stdout
    assert run_kiosk().returncode == 2


def test_unknown_config_section_exits_2_and_names_it(tmp_path):
    cfg = tmp_path / "k.toml"
    cfg.write_text((ROOT / "config" / "kiosk.toml").read_text(encoding="utf-8") + "\n[no_such_section]\nx = 1\n",
                   encoding="utf-8")
    r = run_kiosk("identity", "--json", config=cfg)
    assert r.returncode == 2 and "no_such_section: unknown key" in r.stderr


def test_a_command_loads_only_its_own_module():
    from kiosk import cli

    assert cli._command_name(["--config", "x.toml", "queue", "--json"]) == "queue"
    assert cli._command_name(["--help"]) is None
    parser = cli.build_parser(["queue", "--json"])
    sub = next(a for a in parser._actions if a.dest == "command")
    assert list(sub.choices) == ["queue"]
    assert "identity" in cli.build_parser(["--help"])._actions[-1].choices
