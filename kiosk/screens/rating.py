"""The rating screen (好差评), shared by every service: a view of `RatingFlow`.

Five large buttons, none chosen until the citizen chooses; after 不满意 or
非常不满意 the reasons appear as chips to tick (optional). "Submit" stays
disabled until a level is chosen; "Skip" is always there. After either the
visit ends. The five buttons and the reason chips are built once.
"""
from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty

from kiosk.core.rating import LEVELS, RateState
from kiosk.screens.lifetime import VisitScreen
from kiosk.screens import widgets  # noqa: F401  (the shared rules must load first)
from kiosk.screens.widgets import BigButton, RoundButton

THANKS_S = 4     # the thank-you stays this long (seconds, counted down on screen), then the visit ends


class LevelButton(BigButton):
    value = NumericProperty(0)
    msgid = StringProperty()
    chosen = BooleanProperty(False)


class ReasonChip(RoundButton):
    msgid = StringProperty()
    chosen = BooleanProperty(False)


class RatingScreen(VisitScreen):
    flow = ObjectProperty()
    asks_reasons = BooleanProperty(False)
    can_submit = BooleanProperty(False)
    thanked = BooleanProperty(False)
    seconds_left = NumericProperty(0)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for level in LEVELS:
            self.ids.levels.add_widget(LevelButton(value=level.value, msgid=level.title,
                                                   on_release=lambda b: self.flow.choose(b.value)))
        for reason in self.flow.reasons:
            self.ids.reasons.add_widget(ReasonChip(msgid=reason,
                                                   on_release=lambda c: self.flow.toggle_reason(c.msgid)))
        self._redraw = Clock.create_trigger(self.render, 0)
        self._countdown = None
        self.hold(self.flow.on_change(lambda _flow: self._redraw()))
        self.render()

    def render(self, *_args) -> None:
        f = self.flow
        for button in self.ids.levels.children:
            button.chosen = f.level == button.value
        for chip in self.ids.reasons.children:
            chip.chosen = chip.msgid in f.chosen_reasons
        self.asks_reasons = f.asks_reasons and f.state is RateState.ASKING
        self.can_submit = f.state is RateState.ASKING and f.level is not None
        self.thanked = f.state is RateState.DONE

    def submit(self) -> None:
        if self.flow.submit():
            self.seconds_left = THANKS_S
            self._countdown = Clock.schedule_interval(self._count_down, 1.0)

    def on_leave(self, *_args) -> None:
        """A countdown belongs to its visit: left another way (Home, the idle timeout), it must never end
        a later visit that comes back to this screen."""
        self._stop_countdown()

    def _stop_countdown(self) -> None:
        if self._countdown is not None:
            self._countdown.cancel()
            self._countdown = None

    def _count_down(self, _dt) -> None:
        self.seconds_left = max(0, self.seconds_left - 1)
        if self.seconds_left == 0:
            self._end_visit()

    def skip(self) -> None:
        self.flow.skip()
        self._end_visit()

    def _end_visit(self, *_args) -> None:
        self._stop_countdown()
        from kivy.app import App

        app = App.get_running_app()
        if app is not None and app.screens.current == self.name:
            app.end_visit("done")


Builder.load_file(str(Path(__file__).with_name("rating.kv")))
