"""`kiosk tour --out DIR`: drive the real UI through every flow, one PNG per step.

The app runs in a real window (on a virtual display started here when there
is no display, stopped by pid after, kiosk/tour/xvfb.py), built by the same
composition root as `kiosk ui` (kiosk/tour/compose.py). The steps are those
listed in kiosk/tour/runner.py; each checks the widget state it expects. Exit
1 when any step failed.

The tour runs in a private demo hall (kiosk/tour/hall.py): a fresh data dir,
the reference platform seeded on a free loopback port, and a private CUPS
queue where the machine allows, so it shows the same on every machine and
never writes into a real kiosk's outbox. `--live` uses the config as it is.
"""
from __future__ import annotations

import sys
from pathlib import Path

from kiosk.commands._text import _t
from kiosk.commands.base import EXIT_FAILED, EXIT_OK, add_json


def register(sub) -> None:
    p = sub.add_parser("tour", help=_t("drive the real UI through every flow, one PNG per step"))
    p.add_argument("--out", metavar="DIR", type=Path, required=True, help=_t("folder for the PNGs"))
    p.add_argument("--flow", action="append", metavar="NAME",
                   help=_t("only this flow (repeatable); the PNGs keep their full-tour numbers"))
    p.add_argument("--live", action="store_true",
                   help=_t("use the config's own data dir, platform and printers instead of a private demo hall"))
    p.add_argument("--audit", action="store_true",
                   help=_t("also measure every step's screen, as shown and in the other mode, against the "
                           "elder-friendly rules (text size and contrast, touch targets, their edges); "
                           "a rule broken fails the tour"))
    add_json(p)
    p.set_defaults(handler=run)


def run(ctx) -> int:
    from kiosk.fonts import FontError
    from kiosk.tour.xvfb import VirtualDisplay, XvfbError, needs_virtual_display

    settings = ctx.settings
    out: Path = ctx.args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(_t("kiosk tour: --out {path}: cannot create the folder: {reason}").format(path=out, reason=exc.strerror),
              file=sys.stderr)
        return EXIT_FAILED

    display = VirtualDisplay(settings.ui.width, settings.ui.height) if needs_virtual_display() else None
    hall = None
    try:
        if not ctx.args.live:
            from kiosk import config
            from kiosk.tour.hall import DemoHall

            hall = DemoHall(settings)
            settings = config.load(hall.start())
            for note in hall.notes:
                print(f"kiosk tour: {note}", file=sys.stderr)
        if display:
            display.start()
        return _tour(ctx, settings, out, hall)
    except (FontError, XvfbError, RuntimeError) as exc:
        print(f"kiosk tour: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if display:
            display.stop()
        if hall:
            hall.stop()


def _show_step(result, n: int, total: int) -> None:
    """Each step as it ends, on a terminal (a whole tour takes minutes): `[12/87] ok   pickup/scan`."""
    mark = "ok  " if result.ok else "FAIL"    # as the summary writes them
    print(f"[{n}/{total}] {mark} {result.flow}/{result.step}", file=sys.stderr, flush=True)


def _tour(ctx, settings, out: Path, hall=None) -> int:
    from kiosk.core.session import SteerableClock
    from kiosk.tour.compose import build_app

    clock = SteerableClock(follow_real_time=True)
    app = build_app(settings, clock=clock)
    # kivy, and with it the window, only now that the display is there
    from kiosk.tour import runner
    from kiosk.tour.driver import UiDriver

    driver = UiDriver(app, clock)
    driver.start()
    try:
        flows = set(ctx.args.flow) if ctx.args.flow else None
        known = runner.flows(app)
        unknown = (flows or set()) - set(known)
        if unknown:
            print(_t("kiosk tour: no flow named {names}; there are: {known}").format(
                names=', '.join(sorted(unknown)), known=', '.join(known)), file=sys.stderr)
            return EXIT_FAILED
        audit = None
        if ctx.args.audit:
            from kiosk.tour.audit import audit_both_modes as audit
        results = runner.run(driver, out, flows, on_step=_show_step if sys.stderr.isatty() and not ctx.json else None,
                             audit=audit)
    finally:
        driver.stop()
    failed = [r for r in results if not r.ok]
    doc = {"out": str(out), "steps": [vars(r) for r in results], "failed": len(failed)}
    broken = [(r, v) for r in results for v in (r.audit or [])]
    if ctx.args.audit:
        doc["audit"] = {"screens": len(results), "violations": len(broken),
                        "screens_with_violations": len({(r.flow, r.step) for r, _v in broken})}
    if hall:
        try:
            doc["platform"] = hall.platform_summary(hall.config_path)
        except RuntimeError as exc:
            doc["platform_error"] = str(exc)

    def text(d):
        lines = [f"{'ok  ' if r.ok else 'FAIL'} {r.flow}/{r.step}  {r.png or ''}"
                 + (f"\n     {r.problem}" if r.problem else "") for r in results]
        lines.append(_t("{passed} of {n} steps passed; PNGs in {path}").format(
            passed=len(results) - len(failed), n=len(results), path=out))
        if "audit" in d:
            for r, v in broken:
                lines.append(f"     {r.flow}/{r.step} [{v['mode']}] {v['rule']}: {v['widget']}: {v['measured']}")
            lines.append(_t("elder-friendly rules: {violations} broken on {screens} of {n} screens").format(
                violations=len(broken), screens=d["audit"]["screens_with_violations"], n=len(results)))
        if "platform" in d:
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(d["platform"].items())) or _t("nothing")
            lines.append(_t("transactions that reached the demo platform: {kinds}").format(kinds=kinds))
        if "platform_error" in d:
            lines.append(_t("the demo platform could not be read: {problem}").format(problem=d['platform_error']))
        return "\n".join(lines)

    ctx.emit(doc, text)
    return EXIT_FAILED if failed or broken or not results else EXIT_OK
