"""A picture of the kiosk's face with the device a citizen must use lit: where to put the ID card, show the
code, tap the bank card, take the receipt or the A4 paper.

The parts and where they sit come from `[ui] face` (kiosk/config.py: fractions of the face, top down),
so a hall with another kiosk model draws its own. Every part is an outlined box (theme.EDGE, 3:1 and
more against the face); the part in question is filled, carries a ring that blinks slowly (well under
three flashes a second) and an arrow pointing at it, so it is found without telling colours apart.
Drawn with a few canvas instructions: no image files, nothing to load.
"""
from __future__ import annotations

import weakref

from kivy.app import App
from kivy.clock import Clock
from kivy.graphics import Color, Line, RoundedRectangle, Triangle
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.screens import theme

BLINK_S = 0.6


_BLINKING: "weakref.WeakSet[Widget]" = weakref.WeakSet()
_TICK = None


def blink_while_shown(widget: Widget) -> None:
    """`widget.blink()` every BLINK_S (well under three flashes a second) whenever it is on the window.

    One clock event for every blinking widget, which it holds weakly: a widget in a step panel taken out of
    the tree, or in a screen given back after the visit, is neither called nor kept alive by it."""
    global _TICK
    _BLINKING.add(widget)
    if _TICK is None:
        _TICK = Clock.schedule_interval(_blink_shown, BLINK_S)


def _blink_shown(_dt) -> None:
    for widget in list(_BLINKING):
        if widget.get_root_window() is not None:
            widget.blink()


class KioskFace(Widget):
    """`lit`: the part to show ("idcard", "scanner", "payment", "receipt", "a4"); "" for none."""

    lit = StringProperty("")
    ring = BooleanProperty(True)
    folded = BooleanProperty(False)   # no room and nothing drawn: a page's step that uses no device
    room = NumericProperty(1e6)       # the most height it may take: a Page gives it what its page has left
    shrinks_to_room = True            # (for the Page, kiosk/screens/widgets.py)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        blink_while_shown(self)
        app = App.get_running_app()
        settings = getattr(app, "settings", None)
        self.parts = dict(settings.ui.face) if settings is not None else {}
        self.fbind("pos", self._draw)
        self.fbind("size", self._draw)
        self.fbind("lit", self._draw)
        self._ring_color = None   # the ring's colour: a blink changes its alpha, nothing is drawn again
        self.fbind("ring", self._show_ring)

    def _show_ring(self, *_a) -> None:
        if self._ring_color is not None:
            self._ring_color.a = 1 if self.ring else 0

    def blink(self) -> None:
        self.ring = not self.ring if self.lit else True

    def _box(self, part: str) -> tuple[float, float, float, float]:
        left, top, width, height = self.parts[part]
        # from y and height, not `top`: drawn while `pos` changes, `top` may still be the old one (a Page
        # moves its children up after its box laid them out)
        face_top = self.y + self.height
        return (self.x + left * self.width, face_top - (top + height) * self.height,
                width * self.width, height * self.height)

    def _draw(self, *_a) -> None:
        self.canvas.clear()
        self._ring_color = None
        r = dp(10)
        with self.canvas:
            # the kiosk's body
            Color(*theme.SURFACE)
            RoundedRectangle(pos=self.pos, size=self.size, radius=[dp(18)])
            Color(*theme.EDGE)
            Line(rounded_rectangle=(self.x + dp(1), self.y + dp(1), self.width - dp(2), self.height - dp(2), dp(18)),
                 width=dp(1.5))
            for part in self.parts:
                x, y, w, h = self._box(part)
                lit = part == self.lit
                if part == "screen":
                    Color(*theme.HEADER)
                    RoundedRectangle(pos=(x, y), size=(w, h), radius=[dp(6)])
                    continue
                Color(*(theme.ACCENT if lit else theme.BACKGROUND))
                RoundedRectangle(pos=(x, y), size=(w, h), radius=[min(r, h / 2)])
                Color(*(theme.HEADER if lit else theme.EDGE))
                Line(rounded_rectangle=(x, y, w, h, min(r, h / 2)), width=dp(2 if lit else 1.2))
                if lit:
                    self._ring_color = Color(*theme.CAUTION[:3], 1 if self.ring else 0)
                    pad = dp(7)
                    Line(rounded_rectangle=(x - pad, y - pad, w + 2 * pad, h + 2 * pad, min(r, h / 2) + pad),
                         width=dp(3))
                    # an arrow from the left edge of the face to the part, at its height
                    Color(*theme.CAUTION)
                    tip_x, mid_y = x - dp(12), y + h / 2
                    size = dp(16)
                    Triangle(points=[tip_x, mid_y, tip_x - size, mid_y + size * 0.7, tip_x - size, mid_y - size * 0.7])
                    Line(points=[self.x - dp(18), mid_y, tip_x - size, mid_y], width=dp(3))


Builder.load_string("""
<KioskFace>:
    size_hint: None, None
    # 2:3, as large as the elder scale asks up to 1.25; smaller (not under 120 dp) where the page has less
    # room left, so the step's keys stay in sight
    height: 0 if self.folded else max(dp(120), min(dp(300) * min(app.scale, 1.25), self.room))
    width: self.height * 2 / 3
    opacity: 0 if self.folded else 1
    pos_hint: {"center_x": 0.5}
""")

__all__ = ["KioskFace", "blink_while_shown"]
