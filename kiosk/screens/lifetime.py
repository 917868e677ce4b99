"""Screens that live for the visits that open them.

The home screen is made once; every other screen of a citizen service (and
the payment, the rating and the staff screens) is made when a visit first
opens it and given back once the visit is wiped (kiosk/screens/shell.py), so
that what a service's widgets, their text textures and its images take is
held only while someone uses it. A `VisitScreen` keeps what it has to undo
when it is given back: the flow's and the session's listeners it added, the
clock events it scheduled, its bindings to the app, its animations. Undoing them is what lets
the screen be freed: a listener left on a flow that lives for the whole
process would keep the screen, and its widgets, alive with it.
"""
from __future__ import annotations

import logging
from typing import Callable

from kivy.animation import Animation
from kivy.clock import Clock
from kivy.uix.screenmanager import Screen, ScreenManager
from kivy.uix.widget import Widget

log = logging.getLogger(__name__)


def every_widget(root: Widget):
    """`root` and every widget under it, shown or not: the children, the screens of an inner screen
    manager that are not current, the step panels not shown just now (kiosk/screens/locker_widgets.py)."""
    stack, seen = [root], set()
    while stack:
        widget = stack.pop()
        if id(widget) in seen:
            continue
        seen.add(id(widget))
        yield widget
        stack.extend(widget.children)
        if isinstance(widget, ScreenManager):
            stack.extend(widget.screens)
        stack.extend(getattr(getattr(widget, "panels", None), "panels", {}).values())


class VisitScreen(Screen):
    """A screen made for a visit; `give_back()` undoes what it subscribed to (`hold`)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._undo: list[Callable[[], None]] = []

    def hold(self, undo: Callable[[], None] | None) -> None:
        """Keep `undo` (what `flow.on_change`, `session.on` and the like return) for `give_back()`."""
        if undo is not None:
            self._undo.append(undo)

    def every(self, fn: Callable[[float], None], interval_s: float):
        """`fn` scheduled on the Kivy clock every `interval_s` seconds, until the screen is given back."""
        event = Clock.schedule_interval(fn, interval_s)
        self.hold(event.cancel)
        return event

    def follow_app(self, app, fn: Callable[..., None], *names: str) -> None:
        """`fn` on each change of the app's properties `names` (lang, scale), until given back."""
        for name in names:
            uid = app.fbind(name, fn)
            self.hold(lambda name=name, uid=uid: app.unbind_uid(name, uid))

    def give_back(self) -> None:
        """The visit is over: nothing of the process calls into this screen any more (nor keeps it:
        Kivy holds a widget that is being animated, a list's scroll among them, until it ends)."""
        for widget in every_widget(self):
            Animation.cancel_all(widget)
            stop = getattr(widget, "given_back", None)   # a blinking widget's timer (kiosk_face.Blink)
            if callable(stop):
                stop()
        while self._undo:
            undo = self._undo.pop()
            try:
                undo()
            except Exception:   # the others are still undone
                log.exception("%s: undoing %r failed", self.name, undo)
