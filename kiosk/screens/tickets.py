"""The queue ticket screen (取号 / 预约签到): a view of `TicketFlow` (kiosk/core/tickets.py).

One panel per flow step (tickets.kv), in the manner of the citizen's locker screens: Chinese first, big
rows, one thing to do at a time. The business types are rows made once and reused for every visit (a
pool: a row's name, its waiting count and estimated wait, or when it opens). The ID card is read as soon
as its step shows (the flow waits on its own worker), the scanner listened to while the appointment code
is asked for; the screen never touches a device. Flow changes arrive on the main thread and are coalesced
into one redraw per frame. Built once per process; every visit starts from `flow.begin()`.
"""
from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk import i18n
from kiosk.core.tickets import Step, when_text
from kiosk.i18n import N_, _
from kiosk.screens.lifetime import VisitScreen
from kiosk.screens.steps import ShowsSteps  # and StepLine, for the .kv
from kiosk.screens.locker_widgets import StepPanels, to_flow  # noqa: F401  (and Keypad, for tickets.kv)

ROWS = 8   # business types (or appointments) a hall lists at most on one screen

NOTICES = {
    "business_closed": N_("{name} is closed now. It opens {when}."),
    "no_card": N_("No ID card was read. Place the card flat on the reader, or go on without it."),
    "card_not_read": N_("The card could not be read. Take it off and place it again, or go on without it."),
    "bad_code": N_("An appointment code has 6 to 16 letters or digits. Please check it in your appointment message."),
    "not_an_appointment_code": N_("That is not an appointment code. Please show the QR code of your appointment, "
                                  "or type its code."),
    "appointment_unknown": N_("No appointment with this code was found in this hall. Please check the code."),
    "appointment_other_day": N_("This appointment is for another day. Please come back on the day of your "
                                "appointment."),
    "too_early": N_("It is too early to check in. Check-in opens {when}."),
    "appointment_missed": N_("The time to check in for this appointment has passed. Please take an ordinary "
                             "number."),
    "no_appointment_today": N_("No appointment today was found for this ID card. You can enter the appointment "
                               "code, or take an ordinary number."),
    "check_in_offline": N_("Appointments cannot be checked right now. Please take an ordinary number and show "
                           "your appointment at the window."),
    "block_used_up": N_("This kiosk cannot issue more numbers right now. Please ask at the service desk."),
    "refused": N_("Sorry, no number could be issued. Please try again, or ask at the service desk."),
}


class ChoiceRow(ButtonBehavior, BoxLayout):
    """One business type (or appointment) to choose: its name, and a line about it; reused across visits."""

    key = StringProperty()
    title = StringProperty()
    detail = StringProperty()
    soft = BooleanProperty(False)     # closed now: still touchable, it says when it opens
    shown = BooleanProperty(False)
    screen = ObjectProperty(None, allownone=True)


class TicketsScreen(ShowsSteps, VisitScreen):
    step = StringProperty("loading")
    notice = StringProperty("")
    notice_text = StringProperty("")
    intro = StringProperty("")          # the list's sentence: online, or the kept list's age
    offline = BooleanProperty(False)
    chosen = StringProperty("")         # the business chosen (name)
    typed = StringProperty("")
    number = StringProperty("")
    ticket_lines = ListProperty(["", ""])   # the waiting count and estimated wait; the time
    priority = BooleanProperty(False)
    printed = BooleanProperty(True)
    come_back = StringProperty("")      # CLOSED: when to come back
    hotline = StringProperty("")
    has_scanner = BooleanProperty(False)
    can_read_cards = BooleanProperty(False)
    rows_height = NumericProperty(0)

    def __init__(self, app, flow, **kwargs):
        super().__init__(**kwargs)
        self.app = app
        self.flow = flow
        self.hotline = app.settings.kiosk.hotline
        self._render = Clock.create_trigger(self._render_now, 0)   # a method: the clock holds it weakly
        self.hold(self._render.cancel)
        self.panels = StepPanels.of(self, "loading")
        self.business_rows = self._pool()
        self.appointment_rows = self._pool()
        self.hold(flow.on_change(lambda _f: self._render()))
        self.hold(i18n.on_language_change(lambda _lang: self._render()))

    def _render_now(self, _dt) -> None:
        self.render()

    def _pool(self) -> list[ChoiceRow]:
        """ROWS rows, made once; `_fill_rows` puts the ones in use into `box`."""
        return [ChoiceRow(screen=self) for _ in range(ROWS)]

    @property
    def worker(self):
        """The flow's executor: its `pending` counts the steps under way (the UI tests and the tour wait on it)."""
        return self.flow.executor

    # --- visits ---------------------------------------------------------------------------------------
    def on_pre_enter(self, *_a):
        self.panels.show("loading")
        self.flow.begin()

    def on_leave(self, *_a):
        self._scan(False)

    # --- taps -------------------------------------------------------------------------------------------
    def pick(self, key: str) -> None:
        if self.flow.step is Step.APPOINTMENTS:
            self.flow.choose_appointment(key)
        else:
            self.flow.choose(key)

    def key(self, key: str) -> None:
        to_flow(self.flow, key)

    def act(self, name: str) -> None:
        flow = self.flow
        if name == "finish":
            flow.number_seen()
            self.app.end_visit("done")
        elif name == "cancel":
            self.app.end_visit("canceled")
        elif name == "read_card":
            flow.read_card()
        else:
            getattr(flow, name)()

    # --- showing the flow ------------------------------------------------------------------------------
    def render(self) -> None:
        flow = self.flow
        self.show_step(flow)
        step = flow.step.value
        self.step = step
        self.notice = flow.notice.value if flow.notice else ""
        self.can_read_cards = flow.can_read_cards
        self.has_scanner = flow.scanner is not None
        self.typed = flow.typed
        self.chosen = flow.chosen.name if flow.chosen else ""
        today = flow.hall_now().date()
        self.notice_text = _(NOTICES[self.notice]).format(name=self.chosen, when=when_text(flow.opens_at, today)) \
            if self.notice in NOTICES else ""
        self.come_back = when_text(flow.opens_at, today)
        self._fill_rows(flow, today)
        ticket = flow.ticket
        if ticket is not None:
            self.number, self.priority, self.printed = ticket.number, ticket.priority, flow.printed is not False
            self.chosen = ticket.business_name
            self.ticket_lines = [self._waiting_line(ticket), ticket.issued_at.strftime("%Y-%m-%d %H:%M")]
        self.panels.show(step)
        self._scan(step == "check_in")
        if step in ("id_card", "check_in") and not flow.notice and not flow.reading_card:
            flow.read_card()    # the card is read as soon as it is placed; the flow waits on its own worker

    def _fill_rows(self, flow, today) -> None:
        if flow.step is Step.APPOINTMENTS:
            items = [(a.code, f"{a.business_name}", _("Appointment {slot}").format(slot=a.slot), False)
                     for a in flow.appointments]
            rows = self.appointment_rows
        else:
            items = []
            for b in (flow.queues.businesses if flow.queues else []):
                if flow.open_now(b):
                    detail = _("{n} waiting · about {m} min").format(n=b.waiting, m=b.estimated_wait_min) \
                        if b.waiting else _("No one waiting")
                    items.append((b.code, b.name, detail, False))
                else:
                    opens = flow.opening(b)
                    detail = _("Closed · opens {when}").format(when=when_text(opens, today)) if opens else _("Closed")
                    items.append((b.code, b.name, detail, True))
            rows = self.business_rows
            self.offline = flow.offline
            if flow.offline and flow.queues is not None:
                as_of = i18n.format_clock(flow.queues.now.astimezone(flow.zone))   # the queue system's time then
                self.intro = _("The queue system cannot be reached: the list is as of {time} ({age} min ago). Your "
                               "number comes from this kiosk.").format(time=as_of, age=flow.age_minutes())
            else:
                self.intro = _("Choose the business you came for.")
        box = self.ids.appointment_rows if rows is self.appointment_rows else self.ids.business_rows
        if len(box.children) != min(len(items), len(rows)):
            # only the rows in use are in the box: a folded row would still take the box's spacing
            box.clear_widgets()
            for row in rows[:len(items)]:
                box.add_widget(row)
        for row, item in zip(rows, items + [None] * (len(rows) - len(items))):
            if item is None:
                row.shown, row.key, row.title, row.detail = False, "", "", ""
            else:
                row.key, row.title, row.detail, row.soft = item
                row.shown = True

    @staticmethod
    def _waiting_line(ticket) -> str:
        if ticket.waiting_before is None:
            return _("Please watch the calling screen for your number.")
        line = _("Waiting before you: {n}").format(n=ticket.waiting_before)
        if ticket.estimated_wait_min:
            line += " · " + _("about {m} min").format(m=ticket.estimated_wait_min)
        return line

    def _scan(self, on: bool) -> None:
        if on and not self.flow.listening:
            self.flow.start_scanning()
        elif not on and self.flow.listening:
            self.flow.stop_scanning()


Builder.load_file(str(Path(__file__).with_name("tickets.kv")))
