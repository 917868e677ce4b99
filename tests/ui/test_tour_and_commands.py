"""`kiosk tour` and `kiosk ui` as commands, and how the UI process is set up for a kiosk."""
from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from kiosk.core.privacy import RedactingFilter

ROOT = Path(__file__).resolve().parents[2]
KIOSK = Path(sys.executable).parent / "kiosk"


def run_kiosk(*args, timeout=120):
    return subprocess.run([str(KIOSK), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env=dict(os.environ, KIOSK_CONFIG=str(ROOT / "config" / "kiosk.toml")))


def test_a_failing_tour_step_is_reported_and_the_tour_goes_on(ui, tmp_path, monkeypatch):
    from kiosk.tour import runner as tour

    flows = {"broken": [tour.Step("fails", lambda d: None, lambda d: "the widget is not there"),
                        tour.Step("raises", lambda d: 1 / 0, lambda d: None),
                        tour.Step("fine", lambda d: None, lambda d: None)]}
    monkeypatch.setattr(tour, "FLOWS", flows)
    results = tour.run(ui, tmp_path)
    assert [(r.step, r.ok) for r in results] == [("fails", False), ("raises", False), ("fine", True)]
    assert results[0].problem == "the widget is not there" and "ZeroDivisionError" in results[1].problem


def test_kiosk_ui_snapshot_draws_the_home_screen_and_reports_the_start_time(ui, tmp_path):
    png = tmp_path / "home.png"
    result = run_kiosk("ui", "--snapshot", str(png), "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    doc = json.loads(result.stdout)
    assert doc["first_frame_s"] > 0 and Path(doc["snapshot"]) == png
    with Image.open(png) as image:
        assert image.size == (1080, 1920)
        assert len(image.convert("RGB").getcolors(1 << 20) or []) > 10  # drawn, not a blank window
    assert "INFO kivy" not in result.stderr  # Kivy's start-up chatter stays out of the journal


def test_kivy_keeps_to_the_data_dir_and_logs_through_the_redacting_handler(ui):
    import kivy
    from kivy.config import Config
    from kivy.logger import Logger

    assert Path(kivy.kivy_home_dir) == ui.app.settings.data_path / "kivy"
    assert Config.get("kivy", "exit_on_escape") == "0"
    assert "disable_multitouch" in Config.get("input", "mouse")
    assert Logger is logging.getLogger("kivy") and Logger.propagate
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logging.getLogger().addHandler(handler)
    try:
        Logger.warning("Window: card 110101199003077777 seen")
    finally:
        logging.getLogger().removeHandler(handler)
    assert "110***********7777" in stream.getvalue() and "110101199003077777" not in stream.getvalue()
