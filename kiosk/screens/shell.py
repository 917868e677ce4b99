"""The kiosk's Kivy app: header bar over a screen manager, idle overlay, language and elder mode.

The home screen, its tiles and the overlays are built once per process and
reused for every visitor; every other screen is made when a visit first opens
it and given back once the visit is wiped (kiosk/screens/lifetime.py), so a
service's widgets take memory only while someone uses them. The visitor session (kiosk.core) decides
when to warn and when to wipe; this app only shows it and forwards touches.
Every way out of a visit (the header's Home, a flow's Finish or Back to home,
the idle overlay's Finish, the idle timeout) is `end_visit(reason)`, which asks
the session, so what a flow has under way is called back or finished first
(kiosk/core/flow.py); the home screen is shown only when the visit is wiped.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import time
from typing import TYPE_CHECKING, Callable

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.core.window import Window
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

from kiosk import i18n, memory
from kiosk.core import upgrade
from kiosk.core.config_follow import ConfigChange, ConfigFollower
from kiosk.core.flow import Leave
from kiosk.core.offer import DeviceProblem, switched_on, unavailable_reason
from kiosk.core.session import Phase
from kiosk.fonts import FontChoice
from kiosk.screens.text import break_lines_the_chinese_way, keep_text_pixels_once

if TYPE_CHECKING:  # pragma: no cover
    from kiosk.app.root import Kiosk
    from kiosk.app.services import CitizenService

log = logging.getLogger(__name__)

# the screens of hall staff and the technician: no "Call staff" there (kiosk/screens/help.py)
STAFF_SCREENS = frozenset({"staff", "staff_deposit", "staff_recall", "tech", "tech_pin"})
TICK_S = 0.25  # how often the session's timers are looked at
CONFIG_POLL_S = 5.0  # how often a newly applied signed config is looked for (one small file read)


def register_default_font(font: FontChoice) -> None:
    """Every Label without an explicit font_name draws with the Chinese font."""
    path = str(font.path)
    LabelBase.register(DEFAULT_FONT, path, path, path, path)


class Shell(BoxLayout):
    """The root widget: the header bar on top of the screen manager."""


class KioskApp(App):
    title = "kiosk"
    lang = StringProperty(i18n.DEFAULT_LANGUAGE)
    elder = BooleanProperty(False)
    scale = NumericProperty(1.0)
    hall = StringProperty()
    first_frame_drawn = BooleanProperty(False)
    has_voice = BooleanProperty(False)   # the kiosk can speak (the home screen's voice key is shown)
    voice_on = BooleanProperty(False)
    help_calling = BooleanProperty(False)   # a help request is being written: "Call staff" waits

    def __init__(self, kiosk: "Kiosk", **kwargs):
        """`kiosk`: every part of the UI process (kiosk/app/root.py), the citizen services it offers
        (in home-screen order) and their flows among them."""
        super().__init__(**kwargs)
        parts = kiosk.parts
        self.kiosk = kiosk
        self.settings = parts.settings
        self.session = parts.session
        self.services: list[CitizenService] = list(kiosk.services)
        self.font: FontChoice = parts.font
        self.now: Callable[[], dt.datetime] = parts.now
        self.hall = parts.settings.kiosk.hall
        self.default_language = parts.settings.kiosk.language
        self.device_problems: dict[str, DeviceProblem] = {}
        self._refresh_tiles = Clock.create_trigger(self._show_tiles, 0)
        self._first_frame_callbacks: list[Callable[[], None]] = []
        # the screens beside the home screen, made when a visit first opens them (kiosk/screens/lifetime.py)
        self._makers: dict[str, Callable[[], list[Screen]]] = {}
        self._made: list[Screen] = []
        self.config_follower: ConfigFollower | None = None
        self.restart_for_config: int | None = None  # a config version that needs the flows rebuilt
        self.stopped_for_upgrade: str | None = None  # the version a package upgrade stopped the UI for
        # the widgets, made by build()
        self.header = self.help_bar = self.screens = self.home = None
        self.idle_overlay = self.leave_overlay = self.help_overlay = None
        self.technician_ui = None     # kiosk/screens/tech.py, once the app has started
        self.voice = parts.voice      # kiosk/core/voice.py; None where the kiosk has no voice
        self.screen_reader = None     # kiosk/screens/voice.py, made with the widgets
        self.keypad_focus = None      # kiosk/screens/focus.py: the flows by keypad or arrow keys
        self.staff_press = None       # kiosk/screens/staff.py, where the locker is offered
        parts.problems.to(self.set_device_problem)
        parts.visit.on_change(self.follow_visit)   # a service hands over to the payment or the rating

    # -- building ---------------------------------------------------------------------------------
    def build(self):
        register_default_font(self.font)
        keep_text_pixels_once()  # before the first label renders (kiosk/screens/text.py)
        break_lines_the_chinese_way()
        # the .kv rules load with their modules, after the font is the default
        from kiosk.screens.help import HelpOverlay
        from kiosk.screens.home import HomeScreen
        from kiosk.screens.idle import IdleOverlay
        from kiosk.screens.leaving import LeaveOverlay

        i18n.set_language(self.default_language)
        self.lang = self.default_language
        self.has_voice = self.voice is not None
        root = Shell(orientation="vertical")
        from kiosk.screens.widgets import HeaderBar, HelpBar

        self.header = HeaderBar()
        self.help_bar = HelpBar()
        self.screens = ScreenManager(transition=NoTransition())
        self.home = HomeScreen(name="home", hall=self.hall, hall_en=self.settings.kiosk.hall_en)
        self.screens.add_widget(self.home)
        for service in self.services:
            self.make_screens_with((service.key,), lambda service=service: [self.kiosk.screen(service, self)])
            self.kiosk.ways_in(service, self)   # a way in beside the tile (the locker's staff press)
        self.make_screens_with(("payment",), self._payment_screen)   # the payment and rating steps of any visit
        self.make_screens_with(("rating",), self._rating_screen)
        self.screens.bind(current=lambda _sm, name: setattr(self.header, "at_home", name == "home"))
        self.screens.bind(current=lambda _sm, name: setattr(self.header, "citizen", name not in STAFF_SCREENS))
        root.add_widget(self.header)
        root.add_widget(self.help_bar)
        root.add_widget(self.screens)
        self.header.bind(citizen=self._place_help, help_inside=self._place_help)
        self._place_help()
        self.idle_overlay = IdleOverlay()
        self.leave_overlay = LeaveOverlay()
        self.help_overlay = HelpOverlay(self.kiosk.parts.help)
        self.kiosk.parts.help.on_change(self._follow_help)

        self.session.on("warning", self._on_warning)
        self.session.on("extend", self._on_extend)
        self.session.on("wipe", self._on_wipe)
        self.session.on("elder", self._on_elder)
        self.session.on("leaving", self._on_leaving)
        self.session.on("stay", self._on_stay)
        from kiosk.screens.focus import KeypadFocus

        self.keypad_focus = KeypadFocus(self)
        Window.bind(on_touch_down=self._on_activity, on_key_down=self._on_key)
        Window.bind(on_flip=self._on_flip)
        Window.clearcolor = (0.95, 0.96, 0.97, 1)
        if self.voice is not None:
            from kiosk.screens.voice import ScreenReader

            self.voice_on = self.voice.on
            self.screen_reader = ScreenReader(self, self.voice)
        Clock.schedule_interval(self._tick, TICK_S)
        Clock.schedule_interval(self._show_time, 1.0)
        self.config_follower = ConfigFollower(self.settings)
        Clock.schedule_interval(self._follow_config, CONFIG_POLL_S)
        self.bind(lang=self._show_time)
        self._show_time()
        self._show_tiles()
        return root

    def _payment_screen(self) -> list[Screen]:
        from kiosk.screens.payment import PaymentScreen

        return [PaymentScreen(name="payment", flow=self.kiosk.parts.visit.payment)]

    def _rating_screen(self) -> list[Screen]:
        from kiosk.screens.rating import RatingScreen

        return [RatingScreen(name="rating", flow=self.kiosk.parts.visit.rating)]

    # -- the screens of a visit -----------------------------------------------------------------------
    def make_screens_with(self, names: tuple[str, ...], make: Callable[[], list[Screen]]) -> None:
        """`make()` makes the screens `names` (together: they name each other) when a visit first opens
        one of them; they are given back once the visit is wiped."""
        for name in names:
            self._makers[name] = make

    def makes_screen(self, name: str) -> bool:
        return name in self._makers or name in self.screens.screen_names

    def screen_names(self) -> list[str]:
        """Every screen the app shows, made or not yet."""
        return list(dict.fromkeys([*self.screens.screen_names, *self._makers]))

    def screen(self, name: str) -> Screen:
        """The screen `name`, made now if this visit has not opened it yet."""
        if name not in self.screens.screen_names and name in self._makers:
            for made in self._makers[name]():
                self.screens.add_widget(made)
                self._made.append(made)
        return self.screens.get_screen(name)

    def show(self, name: str) -> None:
        """Show the screen `name`, made first if need be."""
        self.screen(name)
        self.screens.current = name

    def give_back_screens(self, *_args) -> None:
        """Between two visits: the screens the last one opened are undone and freed. Not while a new
        visit has begun (a tap in the frame after the wipe): its screens go after it."""
        if self.session.phase is not Phase.HOME or self.screens.current != "home":
            return
        made, self._made = self._made, []
        self.screens.transition.screen_out = self.home   # it held the screen switched away from last
        for screen in made:
            undo = getattr(screen, "give_back", None)   # a VisitScreen (kiosk/screens/lifetime.py)
            if undo is not None:
                undo()
            self.screens.remove_widget(screen)

    def on_start(self):
        from kiosk.screens.tech import TechnicianUi

        self.technician_ui = TechnicianUi(self, self.kiosk.technician)
        self.kiosk.start()   # the devices come up in the background; the home screen does not wait

    def on_stop(self):
        self.kiosk.stop()

    # Kivy's settings panel (F1) is not for citizens
    def open_settings(self, *largs):
        return False

    def close_settings(self, *largs):
        return False

    # -- what the citizen does ----------------------------------------------------------------------
    def set_language(self, lang: str) -> None:
        i18n.set_language(lang)
        self.lang = lang  # kv rules naming app.lang re-render every visible string

    def toggle_elder(self) -> None:
        self.session.set_elder(not self.session.elder)

    def toggle_voice(self) -> None:
        """Voice guidance on or off, for this visit (kiosk/core/voice.py)."""
        if self.voice is not None:
            self.voice.toggle()
            self.voice_on = self.voice.on

    def more_time(self) -> None:
        self.session.more_time()

    def end_visit(self, reason: str = "done") -> None:
        """Any way out of the visit: ends it, calls back what is under way first, or stays and says why."""
        self.session.leave(reason)

    def follow_visit(self, path) -> None:
        """The screen of the step the visit's chain is at (kiosk/core/visit.py)."""
        if path.showing is not None and self.makes_screen(path.showing):
            self.show(path.showing)

    def _place_help(self, *_args) -> None:
        """"Call staff" under the header on a citizen's screen when the header has no room for it."""
        self.help_bar.shown = self.header.citizen and not self.header.help_inside

    def call_staff(self) -> None:
        """The header's "Call staff", on the screen shown now (kiosk/core/help.py)."""
        self.session.touch()
        self.kiosk.parts.help.call(self.screens.current)

    def _follow_help(self, flow) -> None:
        from kiosk.core.help import HelpState

        self.help_calling = flow.state is HelpState.SENDING

    def go_home(self) -> None:
        """The home screen, once the visit is wiped (never a way out on its own)."""
        self.screens.current = "home"

    def open_service(self, key: str, item_code: str | None = None) -> None:
        """Open the service `key`; `item_code`: for the guide the citizen came from (the forms of that
        guide), where the service's flow takes one (`for_item`)."""
        service = next((s for s in self.services_on_home() if s.key == key), None)
        if service is None or unavailable_reason(service, self.device_problems):
            return   # switched off (a tap that arrived as the tile went) or a device of it is down
        if item_code is not None and hasattr(self.kiosk.flows.get(key), "for_item"):
            self.kiosk.flows[key].for_item(item_code)
        self.kiosk.parts.visit.enter(key)
        self.show(key)

    def offers(self, key: str) -> bool:
        """The service `key` is on the home screen and its devices are up."""
        service = next((s for s in self.services_on_home() if s.key == key), None)
        return service is not None and not unavailable_reason(service, self.device_problems)

    def set_device_problem(self, device: str, problem: DeviceProblem | None) -> None:
        """A device went down (`problem` says why, for technicians) or came back (None).
        Safe to call from a worker thread: the tiles refresh on the main thread."""
        if problem is not None:
            self.device_problems[device] = problem
        else:
            self.device_problems.pop(device, None)
        Clock.schedule_once(lambda _dt: self._refresh_tiles())

    def on_first_frame(self, fn: Callable[[], None]) -> None:
        """`fn` runs once the home screen has been drawn for the first time."""
        if self.first_frame_drawn:
            fn()
        else:
            self._first_frame_callbacks.append(fn)

    # -- session events -----------------------------------------------------------------------------
    def _on_activity(self, _window, _touch):
        self.session.touch()
        return False  # the touch goes on to the widgets

    def _on_key(self, _window, key, _scancode=None, codepoint=None, modifiers=None):
        """A key of a USB keypad or a keyboard: activity, then focus, Enter, Back and digits
        (kiosk/screens/focus.py). The voice's + and - are taken before (kiosk/screens/voice.py)."""
        self.session.touch()
        if self.keypad_focus is not None:
            return self.keypad_focus.on_key(key, codepoint, modifiers)
        return False

    # -- a newly applied signed config ------------------------------------------------------------
    def _follow_config(self, _dt=None) -> None:
        change = self.config_follower.check() if self.config_follower else None
        if change is not None:
            self.take_config(change)
        if self.session.phase is not Phase.HOME:
            return
        if self._stop_for_upgrade():
            return
        if self.restart_for_config is not None:
            log.info("restarting the UI between visits to run on config version %s", self.restart_for_config)
            self.stop()

    def _stop_for_upgrade(self) -> bool:
        """Between visits: stop when a package upgrade asks for it (kiosk/core/upgrade.py)."""
        request = upgrade.pending(self.settings.data_path, time.time())
        if request is None:
            return False
        log.info("stopping between visits for the upgrade to %s", request.version)
        try:
            upgrade.acknowledge(self.settings.data_path, os.getpid(), time.time())
        except OSError as exc:   # the upgrade then stops the unit itself; the UI must not hold it up
            log.error("could not tell the upgrade the UI stopped (%s): %s", upgrade.STOPPED, exc)
        self.stopped_for_upgrade = request.version
        self.stop()
        return True

    def take_config(self, change: ConfigChange) -> None:
        """Apply what the home screen and the session read at once; for anything else, restart
        between two visits (`kiosk ui` starts itself again on the new config)."""
        if not change.live:
            log.info("config version %s changes %s: the UI restarts when no visit is running",
                     change.version, ", ".join(sorted(change.changed)))
            self.restart_for_config = change.version if change.version is not None else 0
            return
        s = change.settings
        self.settings = s
        self.hall = s.kiosk.hall
        self.home.hall = s.kiosk.hall
        self.home.hall_en = s.kiosk.hall_en
        self.default_language = s.kiosk.language
        self.session.base_timeout_s = float(s.kiosk.idle_timeout_s)
        self.session.warning_s = float(s.kiosk.idle_warning_s)
        self.session.extensions = int(s.kiosk.idle_extensions)
        if self.elder:
            self.scale = s.ui.elder_scale
        if self.session.phase is Phase.HOME and self.lang != s.kiosk.language:
            self.set_language(s.kiosk.language)
        self._refresh_tiles()   # services switched on or off: a visit under way in one finishes
        log.info("config version %s applied live: %s", change.version, ", ".join(sorted(change.changed)) or "no change")

    def _tick(self, _dt=None) -> None:
        phase = self.session.tick()
        if phase is Phase.WARNING:
            self.idle_overlay.show_state(self.session.seconds_left(), self.session.extensions_left)
        elif phase is Phase.ACTIVE and self.leave_overlay.parent is not None:
            now = self.session.rule()
            if now.rule in (Leave.FREE, Leave.CANCEL) or now.why != self.leave_overlay.why:
                # what had to happen first is over: the flow's screen shows what comes next
                self.leave_overlay.close()

    def _on_leaving(self, _reason: str, leaving) -> None:
        self.idle_overlay.dismiss(animation=False)
        self.leave_overlay.show_leaving(leaving.why)

    def _on_stay(self, reason: str, leaving) -> None:
        self.idle_overlay.dismiss(animation=False)
        if reason == "idle":
            self.leave_overlay.close()  # nobody at the screen: the flow's own screen says what happens
        else:
            self.leave_overlay.show_stay(leaving.why)

    def _on_warning(self) -> None:
        self.idle_overlay.show_state(self.session.seconds_left(), self.session.extensions_left)
        self.idle_overlay.open(animation=False)

    def _on_extend(self) -> None:
        self.idle_overlay.dismiss(animation=False)

    def _on_wipe(self, reason: str) -> None:
        self.idle_overlay.dismiss(animation=False)
        self.leave_overlay.close()
        self.help_overlay.close()
        self.set_language(self.default_language)
        self.go_home()
        # once every listener of the wipe has run: the visit's screens are given back; then what the
        # visit freed goes back to the system
        Clock.schedule_once(self.give_back_screens, 0)
        Clock.schedule_once(self._give_back_memory, 0.3)

    def _give_back_memory(self, _dt=None, rounds: int = 5) -> None:
        """Collect the visit's reference cycles until none are left, a few frames apart, then trim the
        heap. One collection is not enough: what it frees lets go of more (about 30,000 objects and
        then 17,000 after a hand-in), and Kivy deletes a freed texture's GL memory only at the frame
        after; trimming in the same breath left up to 10 MB in the heap until the next visitor
        (bench/soak.py)."""
        if memory.collect() and rounds > 1:
            Clock.schedule_once(lambda _dt: self._give_back_memory(rounds=rounds - 1), 0.15)
        else:
            Clock.schedule_once(lambda _dt: memory.give_back(), 0.15)

    def _on_elder(self, on: bool) -> None:
        self.elder = on
        self.scale = self.settings.ui.elder_scale if on else 1.0

    # -- display ----------------------------------------------------------------------------------
    def _show_time(self, *_args) -> None:
        self.home.show_time(self.now())

    def services_on_home(self) -> list["CitizenService"]:
        """The services with a tile now: those offered, less those the config switches off."""
        return switched_on(self.services, self.settings.services.disabled)

    def _show_tiles(self, *_args) -> None:
        self.home.tiles = [(s.key, s.title, unavailable_reason(s, self.device_problems))
                           for s in self.services_on_home()]

    def _on_flip(self, *_args) -> None:
        # drawn means: the home screen with its text laid out, not an empty first frame
        if (not self.first_frame_drawn and self.screens.current == "home"
                and self.home.ids.hall_name.texture is not None and self.home.ids.hall_name.height > 1):
            self.first_frame_drawn = True
            Window.unbind(on_flip=self._on_flip)
            for fn in self._first_frame_callbacks:
                fn()
            self._first_frame_callbacks.clear()
