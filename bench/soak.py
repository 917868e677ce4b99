"""UI memory over many visitors: 500 scripted sessions through the real UI under Xvfb (DESIGN.md 8).

Each session replays one of the tour's flows through the real widgets of one
long-lived app, in a private demo hall (kiosk/tour/hall.py), then the visit is
wiped as after a real citizen. The cycle is a day in the hall: window staff
deposit certificates, citizens collect them by code, QR code and ID card (one
leaves the door open, one mistypes into a lockout), look up and search guides (one with voice guidance on),
print released documents and forms, pay, rate, hand materials in that staff
collect, fill in forms (the card read, pinyin, a character written, printed; a name typed in elder
mode), take a queue ticket, ask about their case's progress (on line and off), have fee notices
refused (one paid already, one of another hall, one mistyped; with the platform away), walk away.
A fee notice is paid once, so the cycle's payments are the documents' (the same payment flow and
screen); the fee screen itself is visited every cycle. Every step is checked
as the tour checks it; a session whose steps fail is reported, since it would
not measure what it claims to. RSS is sampled every two cycles (44 sessions), a moment after
the visit ends, when the UI has handed freed memory back. Budget: at most
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
import signal
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("KIVY_NO_ARGS", "1")

BUDGET_MB = 250.0
TREND_BUDGET = 2.0
# one cycle; the deposit makes the items the three pickups and the door left open collect
CYCLE = ("pickup-deposit", "guides", "voice", "pickup-code", "documents-card", "pickup-qr-elder", "guides-elder",
         "pickup-id-card", "tickets", "progress", "documents-form-elder", "pickup-door-left-open", "fees-refused-en",
         "documents-code", "pickup-lockout", "progress-offline", "handin", "handin-staff-collect", "fees-offline",
         "tickets-en-elder", "forms", "forms-elder", "idle")
# the paper-out steps need a technician's hand on the sim; the deposit by scanned case leaves one more item in
# a door each cycle that no pickup of the cycle collects (the tour shows it once), so a day would fill the locker
SKIP_STEPS = ("paper-out", "paper-loaded", "case-scanned")
# steps a hall does once: an appointment is checked in once; the hall's evening hours would follow the
# sessions after it
SKIP_IN = {"tickets": ("check-in", "appointment-scanned", "check-in-card", "closed"),
           "tickets-en-elder": ("check-in", "ticket")}


def rss_mb() -> float:
    from kiosk.memory import rss_kib

    kib = rss_kib()
    return kib / 1024 if kib is not None else float("nan")


def object_counts() -> dict[str, int]:
    counts: dict[str, int] = {}
    for obj in gc.get_objects():
        name = type(obj).__qualname__
        counts[name] = counts.get(name, 0) + 1
    return counts


def slope_per_100(points: list[tuple[int, float]]) -> float:
    xs, ys = zip(*points)
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs) or 1.0
    return 100 * sum((x - mx) * (y - my) for x, y in points) / den


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--every", type=int, default=2 * len(CYCLE),
                        help="sample RSS every N sessions (default: every two cycles, so every sample "
                             "is taken after the same flow)")
    parser.add_argument("--objects", action="store_true",
                        help="at each sample, also print the Python object types whose count grew most "
                             "since the last sample (to find what a rising trend holds)")
    args = parser.parse_args()

    from kiosk import config
    from kiosk.tour.hall import DemoHall
    from kiosk.tour.xvfb import VirtualDisplay, needs_virtual_display

    base = config.load(ROOT / "config" / "kiosk.toml")
    hall = DemoHall(base)
    display = VirtualDisplay(base.ui.width, base.ui.height) if needs_virtual_display() else None
    try:
        settings = config.load(hall.start())
        if display:
            display.start()
        from kiosk.core.session import SteerableClock
        from kiosk.tour.compose import build_app

        clock = SteerableClock(follow_real_time=True)
        app = build_app(settings, clock=clock)
        from kiosk.tour import runner as tour
        from kiosk.tour.driver import UiDriver

        driver = UiDriver(app, clock)
        driver.start()

        def stop_soak(signum, _frame):  # the app's own handler waits for a main loop this bench replaces
            raise SystemExit(128 + signum)
        signal.signal(signal.SIGTERM, stop_soak)
        missing = [f for f in CYCLE if f not in tour.FLOWS]
        if missing:
            print(f"flows not registered: {', '.join(missing)}", file=sys.stderr)
            return 1
        print(f"cycle of {len(CYCLE)} sessions: {', '.join(CYCLE)}")
        final = rss_mb()
        samples: list[tuple[int, float]] = [(0, final)]
        failures: dict[str, int] = {}
        started = time.monotonic()
        counts = object_counts() if args.objects else None
        for n in range(1, args.sessions + 1):
            flow = CYCLE[(n - 1) % len(CYCLE)]
            for step in tour.FLOWS[flow]:
                if any(word in step.name for word in SKIP_STEPS) or step.name in SKIP_IN.get(flow, ()):
                    continue
                try:
                    step.act(driver)
                    driver.pump()
                    problem = step.check(driver)
                except Exception as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                if problem:
                    where = f"{flow}/{step.name}"
                    if where not in failures:
                        print(f"session {n}: {where}: {problem}", file=sys.stderr)
                    failures[where] = failures.get(where, 0) + 1
            driver.reset()
            if n % args.every == 0 or n == args.sessions:
                # as in the hall between visitors: the UI hands freed memory back a second after a
                # visit ends (kiosk/screens/shell.py); let that happen before reading RSS
                settle_until = time.monotonic() + 1.5
                while time.monotonic() < settle_until:
                    driver.pump(1)
                gc.collect()
                final = rss_mb()
                if n % args.every == 0:  # the trend only from samples after the same flow
                    samples.append((n, final))
                print(f"session {n:4d}  rss {final:7.1f} MB  ({time.monotonic() - started:6.0f} s)", flush=True)
                if counts is not None:
                    now = object_counts()
                    grown = sorted(((now[k] - counts.get(k, 0), k) for k in now), reverse=True)[:8]
                    print("    grown: " + ", ".join(f"{k} +{d}" for d, k in grown if d > 0), flush=True)
                    counts = now
        with open("/proc/self/status") as f:  # where the resident set is: own memory or mapped files
            parts = {k: int(v.split()[0]) // 1024 for k, v in (line.split(":", 1) for line in f)
                     if k in ("RssAnon", "RssFile", "RssShmem")}
        print("resident at the end: " + ", ".join(f"{k} {v} MB" for k, v in parts.items())
              + " (RssFile: shared libraries, libLLVM of software GL among them)")
        driver.stop()
    finally:
        if display:
            display.stop()
        hall.stop()

    half = [p for p in samples if p[0] >= args.sessions // 2]
    trend = slope_per_100(half) if len(half) >= 3 else float("nan")
    print(f"steps that failed: {sum(failures.values())}"
          + "".join(f"\n  {where}: {count}" for where, count in sorted(failures.items())))
    print(f"soak_rss_mb {final:.1f} budget {BUDGET_MB:.0f} {'pass' if final <= BUDGET_MB else 'miss'}")
    print(f"soak_trend_mb_per_100 {trend:.2f} budget {TREND_BUDGET:.0f} "
          f"{'pass' if trend <= TREND_BUDGET else 'miss'}")
    failed = sum(failures.values())
    print(f"soak_failed_steps {failed} budget 0 {'pass' if failed == 0 else 'miss'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
