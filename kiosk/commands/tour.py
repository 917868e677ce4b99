"""`kiosk tour --out DIR`: drive the real UI through every flow, one PNG per step.

The app runs in a real window (on a virtual display started here when there
is no display, stopped by pid after). The steps are those registered in
kiosk/screens/tour.py; each checks the widget state it expects. Exit 1 when
any step failed.
"""
from __future__ import annotations

import sys
from pathlib import Path

from kiosk.cli import EXIT_FAILED, EXIT_OK, add_json


def register(sub) -> None:
    p = sub.add_parser("tour", help="drive the real UI through every flow, one PNG per step")
    p.add_argument("--out", metavar="DIR", type=Path, required=True, help="folder for the PNGs")
    add_json(p)
    p.set_defaults(handler=run)


def run(ctx) -> int:
    from kiosk import app as composition
    from kiosk.fonts import FontError
    from kiosk.screens.xvfb import VirtualDisplay, XvfbError, needs_virtual_display

    settings = ctx.settings
    out: Path = ctx.args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"kiosk tour: --out {out}: cannot create the folder: {exc.strerror}", file=sys.stderr)
        return EXIT_FAILED

    display = VirtualDisplay(settings.ui.width, settings.ui.height) if needs_virtual_display() else None
    try:
        if display:
            display.start()
        return _tour(ctx, composition, out)
    except (FontError, XvfbError) as exc:
        print(f"kiosk tour: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if display:
            display.stop()


def _tour(ctx, composition, out: Path) -> int:
    from kiosk.core.session import SteerableClock

    clock = SteerableClock(follow_real_time=True)
    app = composition.build(ctx.settings, clock=clock)
    # kivy, and with it the window, only now that the display is there
    from kiosk.screens import tour
    from kiosk.screens.driver import UiDriver

    driver = UiDriver(app, clock)
    driver.start()
    try:
        results = tour.run(driver, out)
    finally:
        driver.stop()
    failed = [r for r in results if not r.ok]
    doc = {"out": str(out), "steps": [vars(r) for r in results], "failed": len(failed)}

    def text(d):
        lines = [f"{'ok  ' if r.ok else 'FAIL'} {r.flow}/{r.step}  {r.png or ''}"
                 + (f"\n     {r.problem}" if r.problem else "") for r in results]
        lines.append(f"{len(results) - len(failed)} of {len(results)} steps passed; PNGs in {out}")
        return "\n".join(lines)

    ctx.emit(doc, text)
    return EXIT_FAILED if failed or not results else EXIT_OK
