"""The steps of `kiosk tour`: every flow that exists, driven through the real UI.

The flows are listed here, explicitly and in the order the tour runs them
(`FLOWS`, from the steps_*.py modules beside this one); nothing registers
itself when a production screen is built. A flow that walks a citizen
service's screen (`SERVICE`) runs only where the app offers that service, as
the home screen shows it. The tour saves one PNG per step, named
`NN-flow-step.png`. Each step acts through the UI (taps, the session clock)
and then checks the widget state it expects (kiosk/tour/step.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kiosk.tour import (steps_documents, steps_fees, steps_forms, steps_guides, steps_handin, steps_home,
                        steps_keypad, steps_pickup, steps_progress, steps_technician, steps_tickets)
from kiosk.tour.driver import UiDriver
from kiosk.tour.step import Step

__all__ = ["FLOWS", "SERVICE", "Step", "StepResult", "flows", "run"]

# every flow of the tour, in the order it runs them (the PNGs are numbered in this order)
FLOWS: dict[str, list[Step]] = {
    **steps_home.FLOWS,
    **steps_pickup.FLOWS,
    **steps_handin.FLOWS,
    **steps_progress.FLOWS,
    **steps_guides.FLOWS,
    **steps_documents.FLOWS,
    **steps_forms.FLOWS,
    **steps_tickets.FLOWS,
    **steps_fees.FLOWS,
    **steps_technician.FLOWS,
    **steps_keypad.FLOWS,   # last: the flows before it keep their pictures' numbers
}

# flow -> the citizen service whose screen it walks (kiosk/app/root.py CITIZEN_SERVICES); the others
# (home, idle, technician) run on every kiosk
SERVICE: dict[str, str] = {
    **dict.fromkeys(steps_pickup.FLOWS, "pickup"),
    **dict.fromkeys(steps_handin.FLOWS, "handin"),
    **dict.fromkeys(steps_progress.FLOWS, "progress"),
    **dict.fromkeys(steps_guides.FLOWS, "guides"),
    **dict.fromkeys(steps_documents.FLOWS, "documents"),
    **dict.fromkeys(steps_forms.FLOWS, "forms"),
    **dict.fromkeys(steps_tickets.FLOWS, "tickets"),
    **dict.fromkeys(steps_fees.FLOWS, "fees"),
    "voice": "guides",   # the voice steps read the guides' first screen (kiosk/tour/steps_home.py)
    **dict.fromkeys(steps_keypad.FLOWS, "pickup"),
}


def flows(app) -> dict[str, list[Step]]:
    """The flows of `FLOWS` this app has: those of the citizen services it offers, and the rest."""
    offered = {s.key for s in app.services}
    return {name: steps for name, steps in FLOWS.items() if SERVICE.get(name, None) in (None, *offered)}


@dataclass
class StepResult:
    flow: str
    step: str
    ok: bool
    problem: str | None
    png: str | None
    audit: list[dict] | None = None   # the elder-friendly rules broken on this step's screen (kiosk/tour/audit.py)


def run(driver: UiDriver, out: Path, only: set[str] | None = None,
        on_step: Callable[[StepResult, int, int], None] | None = None,
        audit: Callable[..., list[dict]] | None = None) -> list[StepResult]:
    """Every flow the app has (or those named in `only`); PNGs keep their full-tour numbers,
    so a partial run replaces exactly the pictures it took. `on_step(result, n, total)` hears each
    step as it ends (n counts the steps run, total those that will be). `audit(driver, png)`, when given,
    measures each step's screen after its picture `png` is taken (kiosk/tour/audit.py audit_both_modes)."""
    results = []
    number = 0
    chosen = {f: s for f, s in flows(driver.app).items() if only is None or f in only}
    total = sum(len(s) for s in chosen.values())
    for flow, steps in flows(driver.app).items():
        if only is not None and flow not in only:
            number += len(steps)
            continue
        driver.reset()
        for step in steps:
            number += 1
            png = out / f"{number:02d}-{flow}-{step.name}.png"
            try:
                step.act(driver)
                driver.pump()
                problem = step.check(driver)
            except Exception as exc:  # a step that blows up is a failed step, and the tour goes on
                problem = f"{type(exc).__name__}: {exc}"
            try:
                driver.screenshot(png)
            except Exception as exc:
                problem = problem or f"screenshot failed: {exc}"
                png = None
            found = None
            if audit is not None:
                try:
                    found = audit(driver, png)
                except Exception as exc:
                    problem = problem or f"audit failed: {type(exc).__name__}: {exc}"
            results.append(StepResult(flow, step.name, problem is None, problem, str(png) if png else None, found))
            if on_step is not None:
                on_step(results[-1], len(results), total)
    driver.reset()
    return results
