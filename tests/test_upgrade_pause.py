"""A package upgrade stops the touch UI between two visits (kiosk/core/upgrade.py): a fresh request is seen, a
stale one is ignored with one warning, the UI's acknowledgement is written whole, and `kiosk ui` started during
an upgrade exits 75 before any window opens."""
from __future__ import annotations

import logging
import os

from kiosk import config
from kiosk.commands.ui import EXIT_UPGRADING
from kiosk.core import upgrade
from tests.conftest import run_kiosk, write_config

NOW = 1_796_640_000.0


def request(data_path, age_s: float, text: str = "0.1.0+git20261207 1796640000\n"):
    data_path.mkdir(parents=True, exist_ok=True)
    path = data_path / upgrade.REQUEST
    path.write_text(text, encoding="utf-8")
    os.utime(path, (NOW - age_s, NOW - age_s))
    return path


def stale_warnings(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "kiosk.core.upgrade" and r.levelno == logging.WARNING]


def test_no_request_file_means_no_upgrade_is_pending(tmp_path):
    assert upgrade.pending(tmp_path, NOW) is None


def test_a_fresh_request_names_its_file_version_and_age(tmp_path):
    path = request(tmp_path, age_s=120)
    found = upgrade.pending(tmp_path, NOW)
    assert found == upgrade.Request(path=path, version="0.1.0+git20261207", age_s=120.0)


def test_the_age_comes_from_the_files_mtime_not_from_the_time_written_inside(tmp_path):
    request(tmp_path, age_s=10, text="0.2.0 1000000000\n")   # the text says 25 years ago
    assert upgrade.pending(tmp_path, NOW).age_s == 10.0


def test_a_request_older_than_an_hour_is_ignored_with_one_warning_per_file_version(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="kiosk.core.upgrade")
    path = request(tmp_path, age_s=upgrade.STALE_S + 1)
    assert upgrade.pending(tmp_path, NOW) is None
    assert upgrade.pending(tmp_path, NOW + 5) is None     # the UI's next poll: no second line
    warned = stale_warnings(caplog)
    assert len(warned) == 1 and str(path) in warned[0].getMessage() and "3601 s old" in warned[0].getMessage()
    os.utime(path, (NOW - 2 * upgrade.STALE_S, NOW - 2 * upgrade.STALE_S))   # another stale request: said again
    assert upgrade.pending(tmp_path, NOW) is None
    assert len(stale_warnings(caplog)) == 2


def test_a_request_just_under_an_hour_old_still_stops_the_ui(tmp_path, caplog):
    request(tmp_path, age_s=upgrade.STALE_S - 1)
    assert upgrade.pending(tmp_path, NOW) is not None and stale_warnings(caplog) == []


def test_the_acknowledgement_holds_the_pid_and_time_and_leaves_no_temp_file(tmp_path):
    (tmp_path / upgrade.STOPPED).write_text("old content of an earlier upgrade\n", encoding="utf-8")
    path = upgrade.acknowledge(tmp_path, pid=4321, now=NOW)
    assert path == tmp_path / upgrade.STOPPED
    assert path.read_text(encoding="ascii") == f"4321 {int(NOW)}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [upgrade.STOPPED]


def test_kiosk_ui_during_an_upgrade_exits_75_naming_the_file_before_any_window(tmp_path, monkeypatch):
    cfg = write_config(tmp_path / "k")
    data_path = config.load(cfg).data_path
    path = request(data_path, age_s=0)
    os.utime(path)   # requested now, by the wall clock the command reads
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"):   # no screen: a window could not open
        monkeypatch.delenv(name, raising=False)
    done = run_kiosk("ui", config=cfg, timeout=60)
    assert done.returncode == EXIT_UPGRADING == 75, done.stderr[-800:]
    said = [line for line in done.stderr.splitlines() if "upgrade is in progress" in line]
    assert len(said) == 1 and f"({path})" in said[0] and "remove the file" in said[0]
    assert "no display" not in done.stderr and "[Window" not in done.stderr


def test_kiosk_ui_goes_on_past_a_stale_request_and_warns_naming_it(tmp_path, monkeypatch):
    """Without a screen it then stops at the display check (exit 1), which is past the upgrade's refusal."""
    cfg = write_config(tmp_path / "k")
    path = request(config.load(cfg).data_path, age_s=0)
    old = path.stat().st_mtime - upgrade.STALE_S - 60
    os.utime(path, (old, old))
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"):
        monkeypatch.delenv(name, raising=False)
    done = run_kiosk("ui", config=cfg, timeout=60)
    assert done.returncode == 1 and "no display" in done.stderr, done.stderr[-800:]
    assert "upgrade is in progress" not in done.stderr
    warned = [line for line in done.stderr.splitlines() if f"ignoring {path}" in line]
    assert len(warned) == 1 and "WARNING" in warned[0], done.stderr[-800:]
