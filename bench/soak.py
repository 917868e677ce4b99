"""UI memory over many visitors: 500 scripted sessions through the real UI under Xvfb (DESIGN.md 8).

Each visitor session replays one of the tour's visitor flows (guides, pickup,
documents, the idle reset) through the real widgets of one long-lived app, in
a private demo hall (kiosk/demo/hall.py), then the visit is wiped as after a
real citizen. The process's RSS is sampled every 25 sessions. Budget: at most
250 MB, and no upward trend (the slope over the second half, after warm-up,
under 2 MB per 100 sessions). Prints the samples, then:

    soak_rss_mb <final> budget 250 pass|miss
    soak_trend_mb_per_100 <slope> budget 2 pass|miss

Usage: .venv/bin/python bench/soak.py [--sessions N]
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("KIVY_NO_ARGS", "1")

BUDGET_MB = 250.0
TREND_BUDGET = 2.0
VISITOR_FLOWS = ("guides", "pickup-code", "pickup-lockout", "documents-card", "documents-offline", "idle")
SKIP_STEPS = ("a4", "paper", "receipt")   # printing is the printers' business, not the UI's memory


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def slope_per_100(points: list[tuple[int, float]]) -> float:
    xs, ys = zip(*points)
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs) or 1.0
    return 100 * sum((x - mx) * (y - my) for x, y in points) / den


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--every", type=int, default=25)
    args = parser.parse_args()

    from kiosk import config
    from kiosk.demo.hall import DemoHall
    from kiosk.screens.xvfb import VirtualDisplay, needs_virtual_display

    base = config.load(ROOT / "config" / "kiosk.toml")
    hall = DemoHall(base)
    display = VirtualDisplay(base.ui.width, base.ui.height) if needs_virtual_display() else None
    try:
        settings = config.load(hall.start())
        if display:
            display.start()
        from kiosk import app as composition
        from kiosk.core.session import SteerableClock

        clock = SteerableClock(follow_real_time=True)
        app = composition.build(settings, clock=clock)
        from kiosk.screens import tour
        from kiosk.screens.driver import UiDriver

        driver = UiDriver(app, clock)
        driver.start()
        flows = [f for f in VISITOR_FLOWS if f in tour.FLOWS]
        if not flows:
            print("no visitor flows are registered", file=sys.stderr)
            return 1
        print(f"visitor flows: {', '.join(flows)}")
        samples: list[tuple[int, float]] = [(0, rss_mb())]
        failures = 0
        started = time.monotonic()
        for n in range(1, args.sessions + 1):
            flow = flows[(n - 1) % len(flows)]
            for step in tour.FLOWS[flow]:
                if any(word in step.name for word in SKIP_STEPS):
                    continue
                try:
                    step.act(driver)
                    driver.pump()
                except Exception:
                    failures += 1
            driver.reset()
            if n % args.every == 0:
                gc.collect()
                samples.append((n, rss_mb()))
                print(f"session {n:4d}  rss {samples[-1][1]:7.1f} MB  ({time.monotonic() - started:6.0f} s)",
                      flush=True)
        driver.stop()
    finally:
        if display:
            display.stop()
        hall.stop()

    final = samples[-1][1]
    half = [p for p in samples if p[0] >= args.sessions // 2]
    trend = slope_per_100(half) if len(half) >= 3 else float("nan")
    print(f"steps that raised: {failures}")
    print(f"soak_rss_mb {final:.1f} budget {BUDGET_MB:.0f} {'pass' if final <= BUDGET_MB else 'miss'}")
    print(f"soak_trend_mb_per_100 {trend:.2f} budget {TREND_BUDGET:.0f} "
          f"{'pass' if trend <= TREND_BUDGET else 'miss'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
