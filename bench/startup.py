"""UI cold start: from process start to the first frame of the home screen (budget 3 s, DESIGN.md 8).

Starts `kiosk ui --snapshot` several times, each a fresh process on a fresh
data dir, on a virtual display (Xvfb, started here when there is no display
and stopped by pid after). Each run reports the time from the kernel's start
of the process to the first drawn frame of the home screen. Prints the runs,
then one line for bench runners:

    startup_s <median> budget 3.0 pass|miss

With `--slow-devices S` the devices take S seconds longer to come up (each
run's device bring-up is held back by S seconds, as a USB adaptor or a board
slow to answer would): the home screen must not wait for them.

Usage: .venv/bin/python bench/startup.py [--runs N] [--config PATH] [--slow-devices S]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.tour.xvfb import VirtualDisplay, needs_virtual_display  # noqa: E402

BUDGET_S = 3.0
KIOSK = Path(sys.executable).parent / "kiosk"


# `kiosk` with its device bring-up held back by argv[1] seconds (the rest of argv is kiosk's)
SLOW_DEVICES = """
import sys, time
import kiosk.devices
from kiosk.cli import main
slow, build = float(sys.argv[1]), kiosk.devices.build_devices
kiosk.devices.build_devices = lambda *a, **k: (time.sleep(slow), build(*a, **k))[1]
sys.exit(main(sys.argv[2:]))
"""


def one_run(config_text: str, workdir: Path, n: int, slow_devices: float = 0.0) -> dict:
    run_dir = workdir / f"run{n}"
    run_dir.mkdir()
    config = run_dir / "kiosk.toml"
    config.write_text(re.sub(r'(?m)^data_dir = .*$', 'data_dir = "var"', config_text), encoding="utf-8")
    started = time.monotonic()
    command = ["--config", str(config), "ui", "--snapshot", str(run_dir / "home.png"), "--json"]
    command = [sys.executable, "-c", SLOW_DEVICES, str(slow_devices), *command] if slow_devices else [str(KIOSK), *command]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"run {n}: kiosk ui exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"first_frame_s": doc["first_frame_s"], "wall_to_exit_s": round(wall, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "kiosk.toml")
    parser.add_argument("--slow-devices", type=float, default=0.0, metavar="S",
                        help="hold the device bring-up back by S seconds")
    args = parser.parse_args()
    config_text = args.config.read_text(encoding="utf-8")

    display = VirtualDisplay() if needs_virtual_display() else None
    try:
        if display:
            display.start()
        with tempfile.TemporaryDirectory(prefix="kiosk-startup-") as tmp:
            runs = [one_run(config_text, Path(tmp), n, args.slow_devices) for n in range(1, args.runs + 1)]
    finally:
        if display:
            display.stop()

    for n, r in enumerate(runs, 1):
        print(f"run {n}: first frame {r['first_frame_s']:.3f} s after process start "
              f"(process exit after snapshot {r['wall_to_exit_s']:.3f} s)")
    firsts = [r["first_frame_s"] for r in runs]
    median = statistics.median(firsts)
    if args.slow_devices:
        print(f"device bring-up held back by {args.slow_devices:g} s")
    print(f"display {'Xvfb (started here)' if display else os.environ.get('DISPLAY')}; "
          f"min {min(firsts):.3f} s, max {max(firsts):.3f} s, first run {firsts[0]:.3f} s")
    print(f"startup_s {median:.3f} budget {BUDGET_S} {'pass' if median <= BUDGET_S else 'miss'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
