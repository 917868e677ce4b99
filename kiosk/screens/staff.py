"""The staff screens of the locker: sign-in and menu (here), deposit and recall (staff_deposit.py,
staff_recall.py).

Nothing on the home screen shows them to citizens: staff hold a finger on the
hall's name for `HOLD_S` seconds (timed on the session clock). Sign-in is a
staff id and a PIN on the on-screen keypad, checked off the main thread on the
locker service's staff executor (scrypt); five wrong PINs lock sign-in (kiosk/core/staff.py). The visit's end
(done, idle) signs the staff member out.
"""
from __future__ import annotations

import logging
from pathlib import Path

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.screens.lifetime import VisitScreen
from kiosk.screens import locker_widgets  # noqa: F401  (shared rules)
from kiosk.screens.locker_widgets import StepPanels

log = logging.getLogger(__name__)

HOLD_S = 3.0


class StaffScreen(VisitScreen):
    field = StringProperty("id")        # which field the keypad types into: id | pin
    staff_id = StringProperty("")
    pin_dots = StringProperty("")
    message = StringProperty("")        # a msgid
    locked_for = NumericProperty(0)
    signed_in = StringProperty("")
    recallable = NumericProperty(0)
    checking = BooleanProperty(False)

    def __init__(self, app, service, **kwargs):
        super().__init__(name="staff", **kwargs)
        self.app = app
        self._service = service   # kiosk/app/pickup.py PickupService
        self._pin = ""
        self.panels = StepPanels.of(self, "sign_in")
        self.hold(app.session.on("wipe", lambda _r: self.sign_out(go_home=False)))

    @property
    def service(self):
        return locker_widgets.when_ready(self._service)

    def on_pre_enter(self, *_a):
        if not self.signed_in:
            self.staff_id, self._pin, self.pin_dots, self.field, self.message = "", "", "", "id", ""
            self.panels.show("sign_in")
        else:
            self.show_menu()

    def key(self, key: str) -> None:
        if self.checking:
            return
        if self.field == "id":
            self.staff_id = "" if key == "clear" else (self.staff_id[:-1] if key == "back" else
                                                       (self.staff_id + key)[:16])
        else:
            self._pin = "" if key == "clear" else (self._pin[:-1] if key == "back" else (self._pin + key)[:12])
            self.pin_dots = "●" * len(self._pin)

    def sign_in(self) -> None:
        service = self.service
        if service is None or self.checking or not self.staff_id or not self._pin:
            return
        staff_id, pin, self._pin, self.pin_dots = self.staff_id, self._pin, "", ""
        self.checking = True

        def done(result, error):
            self.checking = False
            if error is not None:
                log.error("staff sign-in could not be checked: %s", error)
                return
            r, recallable = result
            if r.ok:
                self.signed_in = r.staff_id
                self.recallable = recallable
                self.show_menu()
            elif r.locked_for_s:
                self.locked_for = r.locked_for_s
                self.message = "locked"
            else:
                self.message = "wrong"
                self.field = "pin"
        service.sign_in(staff_id, pin, done)

    def show_menu(self) -> None:
        service = self.service
        if service is not None:
            service.count_recallable(lambda n, error: setattr(self, "recallable", 0 if error else n))
        self.panels.show("menu")

    def open_deposit(self) -> None:
        self.app.screens.current = "staff_deposit"

    def open_recall(self) -> None:
        self.app.screens.current = "staff_recall"

    def sign_out(self, go_home: bool = True) -> None:
        if self.signed_in:
            log.info("staff %s signed out", self.signed_in)
        self.signed_in = ""
        self._pin = ""
        self.pin_dots = ""
        if go_home:
            self.app.end_visit("staff")


class HallNamePress:
    """The hidden way in: a finger held on the hall's name on the home screen."""

    def __init__(self, app, service):
        self.app = app
        self.service = service
        self._down_at: float | None = None
        self._uid = None
        Window.bind(on_touch_down=self._down, on_touch_up=self._up)
        Clock.schedule_interval(self._tick, 0.25)

    def _down(self, _w, touch):
        label = self.app.home.ids.hall_name
        if self.app.screens.current == "home" and label.collide_point(*label.to_widget(*touch.pos)):
            self._down_at, self._uid = self.app.session.clock(), touch.uid
        return False

    def _up(self, _w, touch):
        if touch.uid == self._uid:
            self._tick()
            self._down_at = self._uid = None
        return False

    def _tick(self, *_a):
        if self._down_at is not None and self.app.session.clock() - self._down_at >= HOLD_S:
            self._down_at = None
            if self.app.makes_screen("staff") and self.service.ready:
                self.app.show("staff")


def install(app, service) -> None:
    """The staff screens over the pickup locker `service` (made, together, when a staff member signs in
    and given back after that visit) and the watch on the hall's name; once per app."""
    if app.makes_screen("staff"):
        return

    def make() -> list:
        from kiosk.screens.staff_deposit import DepositScreen
        from kiosk.screens.staff_recall import RecallScreen

        return [StaffScreen(app, service), DepositScreen(app, service), RecallScreen(app, service)]

    app.make_screens_with(("staff", "staff_deposit", "staff_recall"), make)
    app.staff_press = HallNamePress(app, service)


Builder.load_file(str(Path(__file__).with_name("staff.kv")))
