"""The technician mode on screen: the hidden corner press, the PIN pad, the device panel and the system panel.

Thin views over kiosk/core/technician/mode.py (entry, idle), bench.py
(devices) and system.py (system). The corner press is watched on the
window itself, only on the home screen, with nothing drawn there. While the
PIN pad or the mode shows, the visitor session is held (no "more time?"
overlay); the mode's own idle timer, or leaving, ends the visit and returns to
the citizens' home screen. Workers report through triggers; widgets are
touched on the main thread only. Technician screens are dense on purpose (a
technician reads them close up), with touch targets still at least
theme.TOUCH_MIN_DP; in elder mode their text and buttons grow with `app.scale`
like the citizens' screens, and the devices panel scrolls when it no longer fits.
What a device reports (states, causes, check results, card fields) comes from
the core in codes and msgids (kiosk/core/technician/wording.py) and is
translated here, as it is drawn, and again when the language changes.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen

from kiosk import i18n
from kiosk.core.technician import wording
from kiosk.core.technician.mode import Phase
from kiosk.i18n import N_
from kiosk.screens import theme, widgets  # noqa: F401  (the shared rules must load first)
from kiosk.screens.widgets import forget_widget_tree

log = logging.getLogger(__name__)

CORNER_PX = 140          # the hidden press: this square at the top-left of the window
TICK_S = 0.2
DOOR_POLL_S = 2.0
RESULT_LINES = 12        # a card read has 12 fields; more would push the door grid off the screen

DEVICE_TITLES = {
    "idcard": N_("ID card reader"), "locker": N_("Locker"), "receipt_printer": N_("Receipt printer"),
    "document_printer": N_("A4 printer"), "payment": N_("Payment terminal"), "scanner": N_("QR/barcode scanner"),
}
OK_GREEN = theme._hex("#176A34")   # 5.4:1 on the chosen card (ACCENT_SOFT), 6.7:1 on white
WARN_AMBER = theme._hex("#9A4A00")
FAULT_RED = theme._hex("#B3261E")
GREY = theme.TEXT_SOFT   # 5.8:1 on the chosen card, 7.2:1 on white


def state_color(state: str, detail: str):
    if state == "online":
        return WARN_AMBER if detail and not detail.startswith("door_open") else OK_GREEN
    if state == "busy":
        return theme.ACCENT
    if state in ("offline", "hardware_error"):
        return FAULT_RED
    return GREY


def _(msgid: str) -> str:
    return i18n._(msgid)


class TechButton(widgets.RoundButton):
    """A dense technician button, still touch-sized."""


class TechToggle(widgets.RoundButton):
    active = BooleanProperty(False)


class TechCard(BoxLayout):
    """A white panel of the technician screens."""


class FoldCard(TechCard):
    """A card that can be folded away; folded, its children (laid out where they were) take no touches."""

    shown = BooleanProperty(True)

    def on_touch_down(self, touch):
        return super().on_touch_down(touch) if self.shown else False

    def on_touch_up(self, touch):
        return super().on_touch_up(touch) if self.shown else False


class DeviceRowView(ButtonBehavior, BoxLayout):
    key = StringProperty()
    title = StringProperty()
    state_text = StringProperty()
    info = StringProperty()
    state_color = ColorProperty(GREY)
    selected = BooleanProperty(False)


class DoorButton(ButtonBehavior, Label):
    door = NumericProperty(0)
    closed = BooleanProperty(True)
    selected = BooleanProperty(False)


class TechPinScreen(Screen):
    dots = StringProperty()
    message = StringProperty()
    locked = BooleanProperty(False)
    warning = BooleanProperty(False)   # the last PIN was wrong
    checking = BooleanProperty(False)


class TechScreen(Screen):
    panel = StringProperty("devices")
    title = StringProperty()
    # devices panel
    detail_text = StringProperty()
    result_title = StringProperty()
    result_text = StringProperty()
    result_color = ColorProperty(theme.TEXT)
    has_doors = BooleanProperty(False)
    has_controls = BooleanProperty(False)
    busy = BooleanProperty(False)
    # system panel
    outbox_text = StringProperty()
    platform_text = StringProperty()
    config_text = StringProperty()
    alarms_text = StringProperty()
    recent_text = StringProperty()
    system_message = StringProperty()
    system_busy = ListProperty()

    def on_panel(self, _screen, panel: str) -> None:
        # the panels' ScreenManager keeps only the shown panel in the tree (kv cannot bind `current`
        # before its screens exist)
        self.ids.panels.current = panel


class TechnicianUi:
    """Binds the core technician objects to the app's window and screens."""

    def __init__(self, app, tech):
        self.app = app
        self.tech = tech
        self.mode = tech.mode
        self.executor = tech.executor
        self.bench = tech.bench
        self.system = tech.system
        self.pin = ""
        self._touch_uid = None
        self._door_poll = None
        # the two screens exist only while a technician is at the kiosk (see _build_screens)
        self._pin_screen: TechPinScreen | None = None
        self._screen: TechScreen | None = None
        self._redraw_devices = Clock.create_trigger(lambda _dt: self._screen and self.show_devices(), 0)
        self._redraw_system = Clock.create_trigger(lambda _dt: self._screen and self.show_system(), 0)
        self.bench.on_change = lambda _name: self._redraw_devices()
        self.system.on_change = self._redraw_system
        self.stop_button: TechButton | None = None
        self._rows: dict[str, DeviceRowView] = {}
        self._doors: list[DoorButton] = []
        self.mode.on("pin", self._on_pin)
        self.mode.on("open", lambda: Clock.schedule_once(lambda _dt: self._on_open(), 0))
        self.mode.on("close", self._on_close)
        self.tech.alarms.on_change(lambda _active: self._redraw_system())
        app.bind(lang=self._on_lang)
        Window.bind(on_touch_down=self._on_touch_down, on_touch_up=self._on_touch_up)
        app.screens.bind(current=self._on_screen)
        app.session.on("wipe", lambda reason: self.mode.leave("visit ended") if reason != "technician" else None)
        Clock.schedule_interval(self._tick, TICK_S)

    # -- the screens, built for a technician's visit and let go after it --------------------------
    @property
    def pin_screen(self) -> TechPinScreen:
        self._build_screens()
        return self._pin_screen

    @property
    def screen(self) -> TechScreen:
        self._build_screens()
        return self._screen

    def _build_screens(self) -> None:
        """Citizens never see these two screens, and they are a fifth of the UI's widgets: they
        are built when the hidden press asks for the PIN and released when the mode closes."""
        if self._screen is not None:
            return
        self._pin_screen = TechPinScreen(name="tech_pin")
        self._screen = TechScreen(name="tech")
        self._screen.ui = self._pin_screen.ui = self
        self.app.screens.add_widget(self._pin_screen)
        self.app.screens.add_widget(self._screen)
        self._build_rows()

    def _release_later(self) -> None:
        # not from inside the screen manager's own switch: it finishes moving the screens first
        Clock.schedule_once(lambda _dt: self._release_screens(), 0)

    def _release_screens(self) -> None:
        if self._screen is None or self.app.screens.current in ("tech", "tech_pin"):
            return
        transition = self.app.screens.transition   # remembers the last screens it moved (never None)
        shown = self.app.screens.current_screen
        for screen in (self._pin_screen, self._screen):
            self.app.screens.remove_widget(screen)
            forget_widget_tree(screen)
            for end in ("screen_in", "screen_out"):
                if getattr(transition, end) is screen:
                    setattr(transition, end, shown)
        self._pin_screen = self._screen = None
        self._rows.clear()
        self._doors.clear()
        self.stop_button = None

    @property
    def screens_built(self) -> bool:
        return self._screen is not None

    # -- the hidden press ------------------------------------------------------------------------
    def in_corner(self, x: float, y: float) -> bool:
        return x <= CORNER_PX and y >= Window.height - CORNER_PX

    def _on_touch_down(self, _window, touch):
        if self.mode.phase is not Phase.CLOSED:
            self.mode.touch()
        elif self.app.screens.current == "home" and self.in_corner(*touch.pos):
            self._touch_uid = touch.uid
            self.mode.press()
        return False

    def _on_touch_up(self, _window, touch):
        if touch.uid == self._touch_uid:
            self._touch_uid = None
            self.mode.release()
        return False

    def _tick(self, _dt=None) -> None:
        if self._touch_uid is not None or self.mode.phase is not Phase.CLOSED:
            self.mode.tick()

    # -- entering and leaving ----------------------------------------------------------------------
    def _on_pin(self) -> None:
        self.app.session.hold("technician")
        self.pin = ""
        self.pin_screen.dots = ""
        self.pin_screen.warning = False
        left = self.mode.locked_for()
        self.pin_screen.locked = bool(left)
        self.pin_screen.message = self._locked_text(left) if left else self._prompt()
        self.app.screens.current = "tech_pin"

    def _locked_text(self, seconds: int) -> str:
        return _("Too many wrong PINs. Entry is locked for {minutes} min.").format(minutes=max(1, -(-seconds // 60)))

    def key(self, digit: str) -> None:
        self.mode.touch()
        if self.pin_screen.locked or self.pin_screen.checking or len(self.pin) >= 12:
            return
        if self.pin_screen.warning:   # a new PIN begins: the last one's "wrong" is no longer news
            self.pin_screen.warning = False
            self.pin_screen.message = self._prompt()
        self.pin += digit
        self.pin_screen.dots = "●" * len(self.pin)

    def delete(self) -> None:
        """The last digit typed taken back."""
        self.mode.touch()
        if self.pin_screen.locked or self.pin_screen.checking:
            return
        self.pin = self.pin[:-1]
        self.pin_screen.dots = "●" * len(self.pin)

    def clear(self) -> None:
        self.mode.touch()
        self.pin = ""
        self.pin_screen.dots = ""

    def _prompt(self) -> str:
        return (_("Enter the technician PIN") if self.mode.configured
                else _("No technician PIN is set up on this kiosk ([technician] pin_hashes)"))

    def submit(self) -> None:
        if self.pin_screen.checking or self.pin_screen.locked or not self.pin:
            return
        pin, self.pin = self.pin, ""
        self.pin_screen.checking = True
        self.pin_screen.message = _("Checking...")

        def checked(result, error) -> None:   # on a worker: back to the UI thread
            if error is not None:
                log.error("technician: the PIN check failed: %r", error)
                result = None
            Clock.schedule_once(lambda _dt: self._pin_checked(result), 0)
        # scrypt takes tens of milliseconds per hash: on the technician's executor, not the UI thread
        self.executor.run(lambda: self.mode.check_pin(pin), checked)

    def _pin_checked(self, result) -> None:
        self.pin_screen.checking = False
        self.pin_screen.dots = ""
        if result is None:   # the check itself failed (logged): the technician may try again
            self.pin_screen.message = _("Enter the technician PIN")
            return
        if result.ok:
            return
        if result.locked_for_s:
            self.pin_screen.locked = True
            self.pin_screen.message = self._locked_text(result.locked_for_s)
        elif not result.configured:
            self.pin_screen.message = _("No technician PIN is set up on this kiosk ([technician] pin_hashes)")
        else:
            self.pin_screen.message = _("Wrong PIN. {n} tries left.").format(n=result.tries_left)
        self.pin_screen.warning = True

    def cancel(self) -> None:
        self.mode.leave("cancel")

    def _on_open(self) -> None:
        self.screen.title = _("Technician mode") + f"\n{self.app.settings.kiosk.id}"
        self.app.screens.current = "tech"
        self.show_panel("devices")
        self.bench.refresh()
        self.system.refresh()
        self.system.probe()

    def _on_close(self, reason: str) -> None:
        def back(_dt):
            self._stop_door_poll()
            self.bench.reset()   # the next technician visit starts clean
            if self._screen is not None:
                self._screen.ids.checks.clear_widgets()
            self.app.session.release("technician")
            if self.app.screens.current in ("tech", "tech_pin"):
                self.app.session.end("technician")   # the visit is over: home, default language
            self._release_later()
        Clock.schedule_once(back, 0)

    def _on_screen(self, _sm, name: str) -> None:
        # the header's Home button, or anything else that leaves: the mode ends with it
        if name not in ("tech", "tech_pin") and self.mode.phase is not Phase.CLOSED:
            self.mode.leave("home")
        elif name not in ("tech", "tech_pin"):
            self._release_later()

    def leave(self) -> None:
        self.mode.leave("done")

    def _on_lang(self, _app, _lang) -> None:
        """The texts made here (not by kv rules) in the new language."""
        if self._screen is None:
            return
        if self.pin_screen.message and not self.pin_screen.warning and not self.pin_screen.locked \
                and not self.pin_screen.checking:
            self.pin_screen.message = self._prompt()
        if self.mode.phase is Phase.OPEN:
            self.screen.title = _("Technician mode") + f"\n{self.app.settings.kiosk.id}"
            self.screen.ids.checks.clear_widgets()   # their captions: made again by show_devices
            self._redraw_devices()
            self._redraw_system()

    # -- panels --------------------------------------------------------------------------------
    def show_panel(self, panel: str) -> None:
        self.mode.show(panel)
        self.screen.panel = panel
        if panel == "system":
            self.system.refresh()
            self.show_system()
        else:
            self.show_devices()

    # -- devices panel -------------------------------------------------------------------------
    def _build_rows(self) -> None:
        grid = self.screen.ids.device_list
        for name in self.bench.names():
            row = DeviceRowView(key=name, title=DEVICE_TITLES.get(name, name))
            row.bind(on_release=lambda r: self.select(r.key))
            grid.add_widget(row)
            self._rows[name] = row
        doors = self.screen.ids.door_grid
        for n in range(1, self.bench.door_count() + 1):
            b = DoorButton(door=n, text=str(n))
            b.bind(on_release=lambda b: self.select_door(b.door))
            doors.add_widget(b)
            self._doors.append(b)

    # what the tour and the UI tests tap
    def row_view(self, name: str) -> DeviceRowView:
        return self._rows[name]

    def check_button(self, check: str) -> TechButton:
        return next(b for b in self.screen.ids.checks.children if getattr(b, "check", None) == check)

    def control_toggle(self, key: str) -> TechToggle:
        return next(t for t in self.screen.ids.controls.children if getattr(t, "key", None) == key)

    def door_button(self, door: int) -> DoorButton:
        return self._doors[door - 1]

    def select(self, name: str) -> None:
        self.mode.touch()
        self.bench.select(name)
        self._rebuild_actions()
        self.show_devices()
        if self.bench.rows[name].kind == "locker":
            self._start_door_poll()
        else:
            self._stop_door_poll()

    def select_door(self, door: int) -> None:
        self.mode.touch()
        self.bench.select_door(door)
        self.show_devices()

    def _start_door_poll(self) -> None:
        if self._door_poll is None:
            self._door_poll = Clock.schedule_interval(self._poll_doors, DOOR_POLL_S)

    def _stop_door_poll(self) -> None:
        if self._door_poll is not None:
            self._door_poll.cancel()
            self._door_poll = None

    def _poll_doors(self, _dt) -> None:
        locker = self.bench.locker
        if (locker and self.mode.phase is Phase.OPEN and self.screen.panel == "devices"
                and self.bench.selected == locker and not self.bench.busy(locker)):
            self.bench.poll_doors()

    def _rebuild_actions(self) -> None:
        name = self.bench.selected
        box = self.screen.ids.checks
        box.clear_widgets()
        if name is None:
            return
        for check in self.bench.checks_for(name):
            b = TechButton(text=_(self.bench_check_label(check)))
            b.check = check
            b.bind(on_release=lambda b: self.run(b.check))
            box.add_widget(b)
        stop = TechButton(text=_("Stop"), bg_color=GREY, disabled=not self.bench.busy(name))
        stop.bind(on_release=lambda _b: self.bench.stop(self.bench.selected))
        box.add_widget(stop)
        self.stop_button = stop
        controls = self.screen.ids.controls
        controls.clear_widgets()
        for control, on in self.bench.controls(name):
            t = TechToggle(text=_(control.label), active=on)
            t.key = control.key
            t.bind(on_release=lambda t: self.toggle(t.key))
            controls.add_widget(t)
        self.screen.has_controls = bool(controls.children)

    @staticmethod
    def bench_check_label(check: str) -> str:
        from kiosk.core.technician.bench import CHECKS

        return CHECKS[check]

    def run(self, check: str) -> None:
        self.mode.touch()
        self.bench.run(self.bench.selected, check)

    def toggle(self, key: str) -> None:
        self.mode.touch()
        self.bench.toggle(self.bench.selected, key)

    def show_devices(self) -> None:
        if self.bench.selected and not self.screen.ids.checks.children:
            self._rebuild_actions()
        for name, view in self._rows.items():
            row = self.bench.rows[name]
            view.selected = name == self.bench.selected
            view.state_text = wording.status(row.state, row.detail).render(_)
            view.state_color = state_color(row.state, row.detail)
            view.info = f"{row.driver} · {row.port}"
        name = self.bench.selected
        if name is None:
            return
        row = self.bench.rows[name]
        lines = [_("Driver: {driver}    Port: {port}").format(driver=row.driver, port=row.port),
                 _("Status: {state}").format(state=wording.status(row.state, row.detail).render(_)),
                 _("Last error: {error}").format(error=row.last_problem.render(_) if row.last_problem
                                                 else row.last_error or "-")]
        if row.self_test:
            lines.append(_("Self-test: {result}").format(result=_("Passed") if row.self_test_ok else _("Failed")))
        self.screen.detail_text = "\n".join(lines)
        result = self.bench.results.get(name)
        self.screen.busy = self.bench.busy(name)
        if result is None:
            self.screen.result_title, self.screen.result_text = "", ""
        else:
            state = (_("Running...") if result.running else _("Stopped") if result.stopped
                     else _("Passed") if result.ok else _("Failed"))
            at = time.strftime("%H:%M:%S", time.localtime(result.at)) if result.at else ""
            self.screen.result_title = f"{_(self.bench_check_label(result.check))}: {state}   {at}"
            self.screen.result_color = (theme.ACCENT if result.running else GREY if result.stopped
                                        else OK_GREEN if result.ok else FAULT_RED)
            self.screen.result_text = "\n".join(line.render(_) for line in result.lines[-RESULT_LINES:])
        if self.stop_button is not None:
            self.stop_button.disabled = not self.screen.busy
        self.screen.has_doors = row.kind == "locker"
        if row.kind == "locker":
            closed = {d["door"]: d["closed"] for d in self.bench.doors}
            for b in self._doors:
                b.closed = closed.get(b.door, True)
                b.selected = b.door == self.bench.selected_door
        controls = {c.key: on for c, on in self.bench.controls(name)}
        for t in self.screen.ids.controls.children:
            t.active = controls.get(t.key, False)

    # -- system panel --------------------------------------------------------------------------
    def refresh_system(self) -> None:
        self.mode.touch()
        self.system.refresh()

    def probe(self) -> None:
        self.mode.touch()
        self.system.probe()

    def retry_dead(self) -> None:
        self.mode.touch()
        self.system.retry_dead()

    def export(self) -> None:
        self.mode.touch()
        self.system.export()

    def show_system(self) -> None:
        s = self.system.snapshot
        q = s.get("queue", {})
        c = q.get("counts", {})
        lines = [_("Pending {pending}   In flight {inflight}   Acknowledged {acked}   Dead {dead}").format(
            pending=c.get("pending", "-"), inflight=c.get("inflight", "-"), acked=c.get("acked", "-"),
            dead=c.get("dead", "-"))]
        age = q.get("oldest_pending_age_s")
        if age is not None:
            lines.append(_("Oldest pending: {seconds} s").format(seconds=f"{age:.0f}"))
        if q.get("last_error"):
            lines.append(_("Last error: {error}").format(error=q["last_error"]))
        lines.append(_("Last successful sync: {when}").format(when=q.get("last_sync_at") or _("never")))
        if c.get("dead"):
            lines.append(_("Dead items (the platform refused them; fix the cause, then retry):"))
        for d in q.get("dead", [])[:8]:
            lines.append(f"  #{d['seq']} {d['kind']}: {d['reason']}")
        self.screen.outbox_text = "\n".join(lines)
        r = self.system.reachability
        if "probe" in self.system.working:
            reach = _("Checking...")
        elif r is None:
            reach = "-"
        elif r.get("reachable"):
            reach = _("Reachable") + f" ({r.get('latency_ms')} ms)"
        else:
            reach = _("Not reachable") + f": {r.get('detail')}"
        self.screen.platform_text = f"{self.app.settings.central.url}\n{reach}"
        cfg, v, host = s.get("config", {}), s.get("versions", {}), s.get("host", {})
        disk, mem = host.get("disk", {}), host.get("memory", {})
        self.screen.config_text = "\n".join([
            (_("Config version: {version} · {state}").format(version=cfg["version"], state=cfg.get("state", "-"))
             if cfg.get("version") is not None
             else _("Config version: no signed config applied (the config file as installed)"))
            + (f" · {cfg['last_rejection']}" if cfg.get("last_rejection") else ""),
            _("Software version: {version} (Python {python})").format(version=v.get("software", "-"),
                                                                     python=v.get("python", "-")),
            _("Disk: {free} MB free of {total} MB").format(free=disk.get("free_mb", "-"),
                                                          total=disk.get("total_mb", "-")),
            _("Memory: {free} MB free of {total} MB · this process {rss} MB").format(
                free=mem.get("available_mb", "-"), total=mem.get("total_mb", "-"), rss=mem.get("process_rss_mb", "-")),
        ])
        active = self.tech.alarms.active or s.get("alarms", [])
        self.screen.alarms_text = "\n".join(
            f"{'!' if a['severity'] == 'fault' else '·'} {str(a.get('raised_at') or '')[11:16]} {a['device']}: {a['code']}"
            + (f" - {a['detail']}" if a.get("detail") and a["detail"] != a["code"] else "")
            for a in active) or _("No active alarms")
        recent = self.tech.recent.records()[-14:]
        self.screen.recent_text = "\n".join(
            f"{e['at'][11:19]} {e['level'][:4]} {e['message'][:150]}" for e in reversed(recent)) or "-"
        self.screen.system_busy = sorted(self.system.working)
        if self.system.message:
            self.screen.system_message = self.system.message


Builder.load_file(str(Path(__file__).with_name("tech.kv")))
