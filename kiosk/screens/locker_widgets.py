"""Widgets the locker screens share: the big keypad, the locker map with one door lit, step panels,
the base of the screens that render one locker flow, and the base of the citizen's two (pickup and
the hand-in of materials). The flows run their blocking steps on their own executors
(kiosk/core/locker/); a screen only calls the flow and renders its changes.

`StepPanels`: a screen declares one panel per flow step in its .kv (ids
`panel_<step>`); they are built once, taken out of the tree, and `show(step)`
puts exactly one back, so a hidden panel can never take a touch.
"""
from __future__ import annotations

import logging
from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from kiosk.core.background import Inline
from kiosk.i18n import N_, _
from kiosk.screens.lifetime import VisitScreen
from kiosk.screens.kiosk_face import blink_while_shown  # and KioskFace, in the locker screens' rules
from kiosk.screens import widgets  # noqa: F401  (the shared rules must load first)
from kiosk.screens.keys import KeyGrid
from kiosk.screens.steps import ShowsSteps  # and the step lines of the citizen's locker panels

log = logging.getLogger(__name__)

# where a door is on the locker's face, as the citizen reads it
POSITIONS = {
    ("upper", "left"): N_("upper left"), ("upper", "centre"): N_("upper middle"), ("upper", "right"): N_("upper right"),
    ("middle", "left"): N_("middle left"), ("middle", "centre"): N_("centre"), ("middle", "right"): N_("middle right"),
    ("lower", "left"): N_("lower left"), ("lower", "centre"): N_("lower middle"), ("lower", "right"): N_("lower right"),
    ("upper", ""): N_("upper part"), ("middle", ""): N_("middle part"), ("lower", ""): N_("lower part"),
    ("", "left"): N_("left side"), ("", "centre"): N_("middle"), ("", "right"): N_("right side"),
}


# a case number typed or scanned that cannot be one: the citizen's screens that take one (hand-in, progress)
CASE_NUMBER_NOTICES = {
    "bad_case_number": N_("A case number has 4 to 40 letters, digits or dashes. Please check it on your slip."),
    "case_number_looks_like_id": N_("That looks like an ID number, not a case number. Please enter the case "
                                    "number on your acceptance slip."),
    "not_a_case_number": N_("That is not a case number. Please show the barcode on your acceptance slip, or "
                            "type the number."),
}


def to_flow(flow, key: str) -> None:
    """A key of the keypad (`Keypad`: '0'-'9', 'clear', 'back') to a flow that takes what is typed
    (`press`, `backspace`, `clear`)."""
    if key == "clear":
        flow.clear()
    elif key == "back":
        flow.backspace()
    else:
        flow.press(key)


def door_place(column: int, row: int, position: tuple[str, str]) -> str:
    """'Column 2, row 1 (upper left)' in the current language."""
    words = POSITIONS.get(tuple(position))
    place = _("Column {column}, row {row}").format(column=column, row=row)
    return f"{place} · {_(words)}" if words else place


class StepPanels:
    def __init__(self, host, panels: dict[str, Widget]):
        self.host = host
        # ids are weak proxies: hold the panels themselves, or a detached panel would be collected
        self.panels = {name: getattr(p, "__self__", p) for name, p in panels.items()}
        self.current: str | None = None
        for p in self.panels.values():
            if p.parent is not None:
                p.parent.remove_widget(p)

    @classmethod
    def of(cls, screen, first: str) -> "StepPanels":
        """The `panel_<step>` ids of `screen`'s rules, hosted in its `body`, showing `first`."""
        panels = cls(screen.ids.body, {k[len("panel_"):]: v for k, v in screen.ids.items()
                                       if k.startswith("panel_")})
        panels.show(first)
        return panels

    def show(self, name: str) -> None:
        if name == self.current:
            return
        self.host.clear_widgets()
        self.host.add_widget(self.panels[name])
        self.current = name


def when_ready(service):
    """The pickup locker service (kiosk/app/pickup.py) once its locker is up and checked, else None."""
    return service if service.ready else None


_NOTHING_UNDER_WAY = Inline()   # pending = 0: what `worker` is before the flow is bound


class LockerFlowScreen(VisitScreen):
    """A screen that renders one flow of the pickup locker service (kiosk/app/pickup.py `PickupService`):
    its step panels, and the flow, bound on first use once the locker is up (it may come up late)."""

    flow_name = ""  # the service's attribute: "pickup", "handin", "deposit" or "recall"

    def __init__(self, app, service, *, name: str, first_panel: str, **kwargs):
        super().__init__(name=name, **kwargs)
        self.app = app
        self._service = service
        self._render = Clock.create_trigger(self._render_now, 0)   # a method: the clock holds it weakly
        self.hold(self._render.cancel)
        self._flow = None
        self.panels = StepPanels.of(self, first_panel)

    @property
    def service(self):
        return when_ready(self._service)

    def _render_now(self, _dt) -> None:
        self.render()

    @property
    def flow(self):
        service = self.service
        flow = getattr(service, self.flow_name) if service is not None else None
        if flow is not None and flow is not self._flow:
            self._flow = flow
            self.hold(flow.on_change(lambda _f: self._render()))
            self.flow_bound(service, flow)
        return flow

    @property
    def worker(self):
        """The flow's executor: its `pending` counts the steps under way (the UI tests and the tour wait on it)."""
        flow = self.flow
        return flow.executor if flow is not None else _NOTHING_UNDER_WAY

    def flow_bound(self, service, flow) -> None:
        """What the screen takes from the service once (devices present, the door plan)."""

    def render(self) -> None:
        raise NotImplementedError

    # --- the door's buttons, for the flows that offer them in the step on screen ----------------------
    def finish_open(self) -> None:
        if self.flow is not None:
            self.flow.finish_open()

    def door_did_not_open(self) -> None:
        if self.flow is not None:
            self.flow.door_did_not_open()

    def open_again(self) -> None:
        if self.flow is not None:
            self.flow.open_again()

    def another_door(self) -> None:
        if self.flow is not None:
            self.flow.another_door()


class CitizenLockerScreen(ShowsSteps, LockerFlowScreen):
    """The base of the citizen's locker screens (pickup, hand-in): one visit from `flow.begin()` to
    `flow.end_visit()` after the session's wipe; the scanner listened to (by the flow) while a step of
    `scan_steps` shows; the ID card read as soon as the flow asks for it; the door shown by number and
    place on the locker's face; a finished service on to the rating."""

    step = StringProperty("")
    notice = StringProperty("")
    door = NumericProperty(0)
    column = NumericProperty(0)
    row = NumericProperty(0)
    position = ListProperty(["", ""])
    has_scanner = BooleanProperty(False)
    hotline = StringProperty("")

    scan_steps: tuple[str, ...] = ()   # the flow's steps during which the scanner is listened to

    def __init__(self, app, service, path, *, name: str, first_panel: str, **kwargs):
        super().__init__(app, service, name=name, first_panel=first_panel, **kwargs)
        self.path = path    # kiosk.core.visit.VisitPath: a finished service hands over to the rating
        self._scan_when_ready = False
        self.step = first_panel
        self.hotline = app.settings.kiosk.hotline
        self.hold(app.session.on("wipe", self._on_wipe))

    def flow_bound(self, service, flow) -> None:
        plan = service.plan
        self.ids.locker_map.set_plan(plan.columns, plan.rows, plan.numbering, len(plan.doors))
        self.has_scanner = flow.scanner is not None

    # --- visits -----------------------------------------------------------------------------------
    def on_pre_enter(self, *_a):
        flow = self.flow
        self.notice = ""
        self.panels.show("checking")
        if flow is None:
            return
        self._scan_when_ready = True    # once the flow has begun (show_flow)
        flow.begin()

    def on_leave(self, *_a):
        self._scan_when_ready = False
        flow = self.flow
        if flow is not None:
            flow.stop_scanning()
            flow.leave()                # a wait under way stops now; what it must record, it records

    def _on_wipe(self, _reason):
        self._scan_when_ready = False
        flow = self._flow
        if flow is not None:
            flow.stop_scanning()
            flow.end_visit()            # after the step under way

    # --- taps -------------------------------------------------------------------------------------
    def key(self, key: str) -> None:
        """A key of the keypad: to the flow, which says when what was typed is complete."""
        flow = self.flow
        if flow is None:
            return
        if key == "clear":
            flow.clear()
        elif key == "back":
            flow.backspace()
        elif flow.press(key):
            flow.submit()
        self.render()

    def read_card(self) -> None:
        flow = self.flow
        if flow is not None and not flow.reading_card:
            self.notice = ""
            flow.read_card()

    def finish(self) -> None:
        """The service is done: on to the rating when it recorded something, else the visit ends."""
        flow = self.flow
        if flow is not None and flow.recorded:
            self.path.rate(flow.name, flow.transaction_id)
            return
        self.app.end_visit("done")

    def cancel(self) -> None:
        self.app.end_visit("canceled")

    # --- showing the flow -------------------------------------------------------------------------
    def show_flow(self, flow) -> None:
        """What every step shows (the notice, the door and its place, the step's panel), once the
        subclass has set its own figures; then the scanner or the card reader where the step asks."""
        step = flow.step.value
        self.step = step
        self.show_step(flow)
        self.notice = flow.notice.value if flow.notice else ""
        self.door, self.column, self.row = flow.door or 0, flow.column, flow.row
        self.position = list(flow.position)
        self.ids.locker_map.lit = flow.door or 0
        self.panels.show(step)
        if self._scan_when_ready and step in self.scan_steps:
            self._scan_when_ready = False
            flow.start_scanning()   # the flow listens to the scanner; the screen never touches it
        if step == "id_card" and not flow.notice and not flow.reading_card:
            flow.read_card()

    def place_text(self, column: int, row: int, position, *_lang) -> str:
        return door_place(column, row, tuple(position))


class Keypad(KeyGrid):
    """0-9, clear and back-space as big keys; `on_key(key)` with '0'-'9', 'clear' or 'back'.

    `key_height` is in dp before the elder scale."""

    key_height = NumericProperty(120)
    rows = ListProperty([["1", "2", "3"], ["4", "5", "6"], ["7", "8", "9"], ["clear", "0", "back"]])
    edit_keys = ListProperty(["clear", "back"])


class LockerMap(GridLayout):
    """The locker's face, one cell per door, the door in question lit."""

    lit = NumericProperty(0)
    cells = ListProperty()  # door numbers in reading order (row by row)

    def set_plan(self, columns: int, rows: int, numbering: str, door_count: int) -> None:
        if self.children:
            return  # built once
        self.cols = columns
        order = []
        for row in range(1, rows + 1):
            for col in range(1, columns + 1):
                n = (col - 1) * rows + row if numbering == "down" else (row - 1) * columns + col
                order.append(n if n <= door_count else 0)
        self.cells = order
        for n in order:
            self.add_widget(LockerCell(number=n))
        self._paint()

    def on_lit(self, *_a):
        self._paint()

    def _paint(self):
        for cell in self.children:
            cell.lit = cell.number == self.lit

    def on_kv_post(self, base_widget):
        super().on_kv_post(base_widget)
        blink_while_shown(self)   # the lit door's ring blinks while the map is on the window

    def blink(self) -> None:
        for cell in self.children:
            cell.ring = not cell.ring if cell.lit else True


class LockerCell(Widget):
    number = NumericProperty(0)
    lit = BooleanProperty(False)
    ring = BooleanProperty(True)    # the blinking ring around the lit door, shown or not this moment


Builder.load_file(str(Path(__file__).with_name("locker_widgets.kv")))
