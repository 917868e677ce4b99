"""Widgets every screen shares: the big button, the header bar with the language
switch and the elder-mode toggle, cards and text styles.

Sizes follow `app.scale`, so elder mode enlarges text and touch targets
everywhere at once; no touch target is ever under `theme.TOUCH_MIN_DP`.
"""
from __future__ import annotations

from pathlib import Path

from kivy.animation import Animation
from kivy.graphics import Color, InstructionGroup, Line
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from kiosk import i18n
from kiosk.screens import theme


RADIUS_DP = 16          # the corners of buttons and keys (as the fill's radius in widgets.kv)
OUTLINE_DP = 1.5
CORNER_SEGMENTS = 12    # per corner of an outline; at this radius more are not seen


def outline_shape(x: float, y: float, width: float, height: float) -> tuple:
    """A `Line(rounded_rectangle=...)` for the border of a button or key at (x, y, width, height),
    drawn inside its edge; the line's width is dp(OUTLINE_DP)."""
    w = dp(OUTLINE_DP)
    return (x + w, y + w, width - 2 * w, height - 2 * w, dp(RADIUS_DP), CORNER_SEGMENTS)


class RoundButton(ButtonBehavior, Label):
    """A rounded button drawn in the kiosk's colours; `outline` adds a border in `fg_color`.

    The border is drawn only on the buttons that have one: a rounded line is a few
    thousand bytes of vertices twice over (Kivy's copy and the GL driver's), and most
    of the kiosk's buttons (every key of the keyboards) are plain.
    """

    bg_color = ColorProperty(theme.ACCENT)
    pressed_color = ColorProperty(theme.ACCENT_PRESSED)
    fg_color = ColorProperty(theme.ON_HEADER)
    outline = BooleanProperty(False)
    edge_color = ColorProperty(None, allownone=True)   # the outline's colour when not the text's

    def on_kv_post(self, base_widget):
        super().on_kv_post(base_widget)
        self._border: tuple[InstructionGroup, Color, Line] | None = None
        self.fbind("outline", self._draw_border)
        self.fbind("fg_color", self._draw_border)
        self.fbind("edge_color", self._draw_border)
        self.fbind("pos", self._draw_border)
        self.fbind("size", self._draw_border)
        self._draw_border()

    def _draw_border(self, *_):
        if not self.outline:
            if self._border is not None:
                self.canvas.before.remove(self._border[0])
                self._border = None
            return
        rect = outline_shape(self.x, self.y, self.width, self.height)
        if self._border is None:
            group = InstructionGroup()
            color, line = Color(rgba=self.edge_color or self.fg_color), Line(rounded_rectangle=rect, width=dp(OUTLINE_DP))
            group.add(color)
            group.add(line)
            self.canvas.before.add(group)
            self._border = (group, color, line)
        else:
            _, color, line = self._border
            color.rgba = self.edge_color or self.fg_color
            line.rounded_rectangle = rect


def widget_tree(root):
    """`root` and every widget under it, the screens of a screen manager included (shown or not)."""
    from kivy.uix.screenmanager import ScreenManager

    stack = [root]
    while stack:
        widget = stack.pop()
        yield widget
        stack.extend(widget.screens if isinstance(widget, ScreenManager) else widget.children)


def forget_widget_tree(root) -> None:
    """Undo the kv rules' bindings of a widget tree that is let go for good.

    A kv rule such as `font_size: sp(20) * app.scale` leaves an entry in the app's
    observers for every widget it made; the entries hold only weak references, but
    they stay in the list until unbound. A tree that is built and dropped again (the
    technician's screens) would leave a few hundred each time. A running animation (a
    scroll bar fading after a scroll) holds its widget until it ends: it is stopped too.
    """
    for widget in widget_tree(root):
        Builder.unbind_widget(widget.uid)
        Animation.cancel_all(widget)


class BigButton(RoundButton):
    """A full-width button; `base_height` in dp before the elder scale."""

    base_height = NumericProperty(theme.BUTTON_DP)


class ToggleChip(RoundButton):
    """A two-state button of the header (a language, elder mode); `active` is filled."""

    active = BooleanProperty(False)


class HeaderBar(BoxLayout):
    """On top of every screen: home, the language switch and the elder-mode toggle."""

    at_home = BooleanProperty(True)
    languages = i18n.LANGUAGES
    native_names = i18n.NATIVE_NAMES


class Card(BoxLayout):
    """A white panel on the page background; `edge` outlines it (an input box, a card to tap)."""

    bg_color = ColorProperty(theme.SURFACE)
    edge = BooleanProperty(False)


class Headline(Label):
    base_size = NumericProperty(theme.TITLE_SP)


class PageTitle(Label):
    """A page's title in a bar of its own (beside a back button): read out as a title, as a Headline is."""


class Body(Label):
    base_size = NumericProperty(theme.BODY_SP)
    color_name = StringProperty("TEXT")


Builder.load_file(str(Path(__file__).with_name("widgets.kv")))
