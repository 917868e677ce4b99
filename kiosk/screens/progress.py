"""The case progress screen (办件进度): a view of `ProgressFlow` (kiosk/core/progress.py).

One panel per flow state (progress.kv), in the manner of the hand-in screen: big keys and buttons, one
thing to do at a time, Chinese first. Taps go to the flow; its blocking steps (the card read, the
platform's answer, the receipt) run on the flow's executor and come back on the main thread, coalesced
into one redraw. While the flow is looking the screen ticks it each second, so the look-up timeout ends
the wait even when no answer ever comes. The flow listens to the scanner while the keypad is shown; the
screen never touches a device. A case shown goes on to the rating with Finish, as other services do.
"""
from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk import i18n
from kiosk.core.progress import STEP_STATUS, ProgressState as S, lines, next_sentence, short_date
from kiosk.i18n import N_, _
from kiosk.screens.lifetime import VisitScreen
from kiosk.screens.steps import ShowsSteps  # and StepLine, for the .kv
from kiosk.screens import locker_widgets  # noqa: F401  (the keypad and the centred texts load first)
from kiosk.screens.locker_widgets import CASE_NUMBER_NOTICES as NOTICES, StepPanels, to_flow
from kiosk.screens.widgets import BigButton

CARD_PROBLEMS = {
    "no_card": N_("No ID card was found on the reader. Please place it flat on the reader and try again."),
    "card_unreadable": N_("The card could not be read. Please place it flat on the reader and try again."),
    "card_invalid": N_("This ID card could not be verified. Please ask the staff at the service desk for help."),
}
# a case in the holder's list, in a word (from what the citizen does next)
STANDING = {
    "wait": N_("Being handled"),
    "wait_for_locker": N_("Complete, soon in a locker"),
    "collect_from_locker": N_("Ready in locker door {door}"),
    "collected": N_("Collected"),
    "go_to_window": N_("At the service window"),
}
TICK_S = 1.0


def standing(case) -> str:
    """A case in a word or two, for the list: where it stands, and whether it is late."""
    word = _(STANDING.get(case.next.action, STANDING["wait"])).format(door=case.next.door or "")
    if case.next.action == "wait" and case.current_step:
        word = _("Being handled: {step}").format(step=case.current_step)
    return word + ("　" + _("Past the promised date") if case.late else "")


class CaseRow(BigButton):
    """One of the holder's cases in the list (a RecycleView row, reused as the list scrolls)."""

    index = NumericProperty(0)
    screen = ObjectProperty(None, allownone=True, force_dispatch=True)   # a weak proxy: it may be gone


class ProgressStepRow(BoxLayout):
    """One step of the case shown: its name and status, then its date and note."""

    step = StringProperty("")
    status = StringProperty("")
    when = StringProperty("")
    current = BooleanProperty(False)


class ProgressScreen(ShowsSteps, VisitScreen):
    flow = ObjectProperty()
    path = ObjectProperty()             # kiosk.core.visit.VisitPath: on to the rating
    state = StringProperty(S.CHOOSE.value)
    typed = StringProperty("")
    notice = StringProperty("")
    problem = StringProperty("")
    by = StringProperty("")
    case_number = StringProperty("")
    hotline = StringProperty("")
    can_read_cards = BooleanProperty(False)
    can_print = BooleanProperty(False)
    has_scanner = BooleanProperty(False)
    from_list = BooleanProperty(False)
    printed = StringProperty("")        # "" not tried | yes | no
    rows = ListProperty()
    list_title = StringProperty("")
    # the case shown
    item = StringProperty("")
    department = StringProperty("")
    promised = StringProperty("")
    late = BooleanProperty(False)
    next_text = StringProperty("")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.panels = StepPanels.of(self, S.CHOOSE.value)
        self._redraw = Clock.create_trigger(self.render, 0)
        self._ticker = None
        self._steps_shown: tuple | None = None
        self.hold(self.flow.on_change(lambda _flow: self._redraw()))
        self.hold(i18n.on_language_change(lambda _lang: self._redraw()))

    @property
    def worker(self):
        """The flow's executor: its `pending` counts the steps under way (the UI tests and the tour wait on it)."""
        return self.flow.executor

    # -- visits ------------------------------------------------------------------------------------
    def on_pre_enter(self, *_a) -> None:
        self.hotline = self.flow.hotline
        self.flow.begin()
        self.render()
        if self._ticker is None:
            self._ticker = Clock.schedule_interval(lambda _dt: self.flow.tick(), TICK_S)

    def on_leave(self, *_a) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        self.flow.stop_scanning()

    # -- taps --------------------------------------------------------------------------------------
    def key(self, key: str) -> None:
        to_flow(self.flow, key)
        self.render()

    def choose_row(self, index: int) -> None:
        self.flow.choose(index)

    def act(self, name: str) -> None:
        flow = self.flow
        if name == "home":
            self._app().end_visit("home")
        elif name == "finish":
            if flow.state is S.RESULT:
                self.path.rate(flow.SERVICE, None)     # a query records nothing: the rating links to none
            else:
                self._app().end_visit("done")
        else:
            getattr(flow, name)()

    @staticmethod
    def _app():
        from kivy.app import App
        return App.get_running_app()

    # -- drawing the flow's state --------------------------------------------------------------------
    def render(self, *_a) -> None:
        f = self.flow
        self.show_step(f)
        self.state = f.state.value
        self.typed = f.typed
        self.notice = f.notice.value if f.notice else ""
        self.problem = f.problem
        self.by = f.by
        self.case_number = f.case_number
        self.can_read_cards, self.can_print = f.can_read_cards, f.can_print
        self.has_scanner = f.scanner is not None
        self.from_list = f.from_list
        self.printed = "" if f.printed is None else ("yes" if f.printed else "no")
        # a weak reference: Kivy keeps reused rows, with their last data, in a cache of its own (the
        # screen is given back after the visit, kiosk/screens/lifetime.py)
        self.rows = [{"text": f"{c.item_name}\n{c.case_number}\n{standing(c)}", "index": i, "screen": self.proxy_ref}
                     for i, c in enumerate(f.cases)] if f.state is S.RESULTS else []
        self.list_title = _("Your cases ({count})").format(count=len(f.cases)) + (
            "　" + _("the newest shown") if f.more else "")
        self._show_case(f.case if f.state in (S.RESULT, S.PRINTING) else None)
        if self.panels.current != f.state.value:
            self.panels.show(f.state.value)
            self.ids.scroll.scroll_y = 1     # each panel from its top
        if f.state is S.ENTER_CASE:
            f.start_scanning()      # the flow listens; the screen never touches the scanner

    def _show_case(self, case) -> None:
        if case is None:
            self.item = self.department = self.promised = self.next_text = ""
            self.late = False
            self._show_steps(None)
            return
        self.case_number = case.case_number
        self.item = case.item_name
        self.department = case.department or ""
        self.late = case.late
        self.promised = (_("Promised by {date}").format(date=short_date(case.promised_by))
                         if case.promised_by else "")
        self._show_steps(case)
        self.next_text = next_sentence(case.next, current=case.current_step, late=case.late,
                                       kiosk_id=self.flow.kiosk_id, hotline=self.flow.hotline)

    def _show_steps(self, case) -> None:
        """One row a step (its name and status, its date and note) below the card's title; made again
        only when another case, or the language, is shown."""
        key = None if case is None else (id(case), i18n.language())
        if key == self._steps_shown:
            return
        self._steps_shown = key
        card = self.ids.steps
        for row in [w for w in card.children if isinstance(w, ProgressStepRow)]:
            card.remove_widget(row)
        if case is None:
            return
        for s in case.steps or ():
            when = short_date(s.at) + (f"　{s.note}" if s.note else "")
            card.add_widget(ProgressStepRow(step=s.step, status=_(STEP_STATUS.get(s.status, s.status)),
                                                    when=when, current=s.status == "current"))
        if not case.steps:
            card.add_widget(ProgressStepRow(step=_("No steps reported yet."), status="", when=""))

    # -- text ----------------------------------------------------------------------------------------
    def notice_text(self, notice: str, *_lang) -> str:
        return _(NOTICES[notice]) if notice in NOTICES else ""

    def problem_text(self, problem: str, *_lang) -> str:
        return _(CARD_PROBLEMS.get(problem, CARD_PROBLEMS["card_unreadable"]))

    def not_found_text(self, by: str, case_number: str, *_lang) -> str:
        if by == "card":
            return _("No case was found for this ID card. Cases accepted recently may take a while to appear.")
        return lines(_("No case with the number {case} was found.").format(case=case_number),
                     _("Please check the number on your acceptance slip. A case accepted recently may take "
                       "a while to appear."))

    def offline_text(self, hotline: str, *_lang) -> str:
        return _("The kiosk cannot reach the government service platform right now, so the progress cannot be "
                 "looked up. Please try again later, or call {hotline}.").format(hotline=hotline)

    def typed_text(self, typed: str) -> str:
        return typed or "_"


def build_screen(flow, path) -> ProgressScreen:
    return ProgressScreen(name="progress", flow=flow, path=path)


Builder.load_file(str(Path(__file__).with_name("progress.kv")))
