"""`kiosk ui`: run the touch UI (portrait 1080x1920 by default; [ui] in the config).

`--snapshot FILE` starts the UI, saves the first frame of the home screen as a
PNG, reports how long the start took and exits: a look at the kiosk without a
screen, and the measurement of bench/startup.py. While the UI runs,
`kill -USR1 PID` saves what the screen shows to DATA_DIR/screen.png.

Under systemd (Type=notify) the UI says READY=1 once the home screen is
drawn, and pings the watchdog from the Kivy main loop itself: a frozen UI
thread stops the pings and systemd restarts the UI.

A package upgrade that asks the UI to stop (kiosk/core/upgrade.py) stops it
between two visits (exit 0); started while the request stands, `kiosk ui`
exits EXIT_UPGRADING (75) before a window opens.

On a config whose devices are the built-in simulators (`sim://`, the default
config: `make run`), the technician mode also offers the simulators' fault
controls (kiosk/sim/faults.py), loaded only then; a kiosk on real hardware
never loads kiosk/sim/ or kiosk/tour/.
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path

from kiosk.commands._text import _t
from kiosk.commands.base import EXIT_FAILED, EXIT_OK, EXIT_USAGE, add_json
from kiosk.core import upgrade
from kiosk.sdnotify import Notifier, watchdog_interval

log = logging.getLogger(__name__)

# EX_TEMPFAIL: a package upgrade asked the UI to stay down (kiosk/core/upgrade.py); systemd tries again
# and the upgrade stops the unit right after
EXIT_UPGRADING = 75


def register(sub) -> None:
    p = sub.add_parser("ui", help=_t("run the touch UI"))
    p.add_argument("--snapshot", metavar="FILE", type=Path,
                   help=_t("save the first frame of the home screen as a PNG, report the start-up time, exit"))
    add_json(p)
    p.set_defaults(handler=run)


def seconds_since_process_start() -> float:
    """From the kernel's start time of this process to now (10 ms resolution)."""
    with open("/proc/self/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    start_ticks = int(fields[19])  # field 22 of proc(5), counted after the ")" of the name
    with open("/proc/uptime", encoding="ascii") as f:
        uptime = float(f.read().split()[0])
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


def start_watchdog(notifier: Notifier, interval: float | None = None):
    """READY=1 now, then WATCHDOG=1 from the Kivy clock, i.e. only while the UI thread runs.
    Returns the clock event of the pings (None when there are none)."""
    from kivy.clock import Clock

    if not notifier.enabled:
        return None
    notifier.ready("home screen drawn")
    interval = interval or watchdog_interval()
    if not interval:
        return None
    return Clock.schedule_interval(lambda _dt: notifier.watchdog(), interval)


def no_display() -> bool:
    return not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")


def simulator_faults(settings):
    """The simulators' fault controls for the technician mode when the config runs devices on them; else None."""
    from kiosk.devices import simulated

    if not simulated(settings):
        return None
    # a simulated kiosk (the default config): the only branch of `kiosk ui` that loads kiosk/sim/
    from kiosk.sim.faults import SimFaults

    return SimFaults()


def run(ctx) -> int:
    from kiosk import app as composition
    from kiosk.fonts import FontError
    from kiosk.i18n import CatalogError, check_catalogs

    settings = ctx.settings
    from kiosk.provisioning import refusal

    refused = refusal(settings, "ui")
    if refused:
        print(refused, file=sys.stderr)
        return EXIT_USAGE
    request = upgrade.pending(settings.data_path, time.time())
    if request is not None:
        print(_t("kiosk ui: an upgrade is in progress ({path}); the UI starts again when it ends "
                 "— remove the file if no upgrade is running").format(path=request.path), file=sys.stderr)
        return EXIT_UPGRADING
    if no_display() and not os.environ.get("SDL_VIDEODRIVER"):
        print(_t("kiosk ui: no display ($DISPLAY is not set). Run it on the kiosk's screen, or use "
                 "`make run`, which starts a virtual display (Xvfb) when there is none."), file=sys.stderr)
        return EXIT_FAILED
    try:
        check_catalogs()
        app = composition.build(settings, faults=simulator_faults(settings))
    except (FontError, CatalogError) as exc:
        print(f"kiosk ui: {exc}", file=sys.stderr)
        return EXIT_FAILED

    from kivy.clock import Clock

    from kiosk.screens.screenshot import grab_window, save_png

    result: dict = {}

    def first_frame():
        result["first_frame_s"] = round(seconds_since_process_start(), 3)
        log.info("home screen drawn %.2f s after the process started", result["first_frame_s"])
        if ctx.args.snapshot:
            Clock.schedule_once(snapshot_and_stop, 0)

    def snapshot_and_stop(_dt):
        result["snapshot"] = str(save_png(grab_window(), ctx.args.snapshot, max_width=None))
        app.stop()

    app.on_first_frame(first_frame)
    app.on_first_frame(lambda: start_watchdog(Notifier()))
    screen_png = settings.data_path / "screen.png"

    def on_usr1(_signum, _frame):
        # the handler runs on the main thread between bytecodes; the grab waits for the next frame
        Clock.schedule_once(lambda _dt: log.info("screen saved to %s", save_png(grab_window(), screen_png, None)))

    previous = signal.signal(signal.SIGUSR1, on_usr1)
    try:
        app.run()
    finally:
        signal.signal(signal.SIGUSR1, previous)
        Notifier().stopping()

    if app.stopped_for_upgrade is not None:
        return EXIT_OK   # the upgrade stops the unit; a restart now would only be refused
    if app.restart_for_config is not None and not ctx.args.snapshot:
        # the same process image again, on the new config: same pid for systemd, same X client
        log.info("kiosk ui: starting again for config version %s", app.restart_for_config)
        os.execv(sys.executable, [sys.executable, "-m", "kiosk.cli", *sys.argv[1:]])
    if ctx.args.snapshot:
        if "snapshot" not in result:
            print(_t("kiosk ui: the home screen was never drawn"), file=sys.stderr)
            return EXIT_FAILED
        ctx.emit(result, lambda d: f"home screen drawn {d['first_frame_s']:.2f} s after the process started; "
                                   f"saved {d['snapshot']}")
    return EXIT_OK
