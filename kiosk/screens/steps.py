"""The step line under a flow's title, 「第 2 步 / 共 4 步」, and the wait line under a device's or the
network's title, 「通常需要 5 秒」 (issue 22 item 5).

The numbers are the flow's (`Flow.step_of`, kiosk/core/steps.py); a screen that mixes in `ShowsSteps`
calls `show_step(flow)` whenever it renders, and its .kv puts a `StepLine` with `step: root.step_of`
under each title (left, as every page's title is: widgets.kv, Page). A state that is no step
leaves the line empty and folded away. The same call takes the flow's wait (`Flow.wait_s`: at most how
long the device or the network may take here, from the config's or the driver's timeout) for the
`WaitLine` (`seconds: root.wait_s`) of the panels where the citizen waits. The line is one translated string holding both numbers, its
spaces made unbreakable, so it never splits between them.

Voice guidance (kiosk/screens/voice.py) reads the step line after the title and the wait line after
the instructions.
"""
from __future__ import annotations

from pathlib import Path

from kivy.event import EventDispatcher
from kivy.lang import Builder
from kivy.properties import ListProperty, NumericProperty
from kivy.uix.label import Label

from kiosk.i18n import N_, _
from kiosk.screens import widgets  # noqa: F401  (the shared rules load first)

NBSP = "\u00a0"
STEP_LINE = N_("Step {number} of {of}")
AT_MOST = N_("This takes at most {seconds} seconds.")


def step_line(step) -> str:
    """「第 2 步 / 共 4 步」 for `step` ([number, of]); "" for no step."""
    if not step:
        return ""
    number, of = step
    return _(STEP_LINE).format(number=number, of=of).replace(" ", NBSP)


def wait_line(at_most_s: float) -> str:
    """「最长 45 秒」: at most how long a wait takes (a timeout: past it the screen says what happened);
    "" for no wait, or one of a second or less."""
    if at_most_s <= 1:
        return ""
    n = round(at_most_s)
    return _(AT_MOST).format(seconds=n).replace(f"{n} ", f"{n}{NBSP}")   # the number stays with its unit


class StepLine(Label):
    step = ListProperty([])      # [number, of], or [] where the state is no step
    base_size = NumericProperty(0)

    def line(self, step, *_rerender_on) -> str:
        return step_line(step)


class WaitLine(Label):
    seconds = NumericProperty(0)  # at most; 0 where nothing is waited on
    base_size = NumericProperty(0)

    def line(self, seconds, *_rerender_on) -> str:
        return wait_line(seconds)


class ShowsSteps(EventDispatcher):
    """A screen's `step_of` and `wait_s`, for its `StepLine`s and `WaitLine`s: `show_step(flow)` on
    every render."""

    step_of = ListProperty([])
    wait_s = NumericProperty(0)

    def show_step(self, flow) -> None:
        step = flow.step_of() if flow is not None else None
        shown = [step.number, step.of] if step is not None else []
        if shown != list(self.step_of):
            self.step_of = shown
        self.wait_s = flow.wait_s() if flow is not None else 0


Builder.load_file(str(Path(__file__).with_name("steps.kv")))
