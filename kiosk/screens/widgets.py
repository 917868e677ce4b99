"""Widgets every screen shares: the big button, the header bar with the language
switch and the elder-mode toggle, cards and text styles.

Sizes follow `app.scale`, so elder mode enlarges text and touch targets
everywhere at once; no touch target is ever under `theme.TOUCH_MIN_DP`.
"""
from __future__ import annotations

from pathlib import Path

from kivy.animation import Animation
from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, InstructionGroup, Line
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.layout import Layout
from kivy.uix.scrollview import ScrollView

from kiosk import i18n
from kiosk.i18n import N_
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


def on_window(widget) -> bool:
    """Shown now: on the window, some size, and neither it nor a parent faded out or folded away (a
    step's button or a note not needed yet stands with opacity 0 and height 0). The keypad's focus and
    the voice's reader both ask it."""
    from kivy.core.window import Window

    if widget.get_root_window() is None:
        return False
    w = widget
    while w is not None and w is not Window:
        if w.opacity <= 0 or w.width <= 1 or w.height <= 1:
            return False
        w = w.parent
    return True


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
    folded = BooleanProperty(False)   # a language chip the compact header leaves out


class HelpChip(RoundButton):
    """"Call staff": filled in the help colour, so it is found at a glance on every screen; `shown` or
    folded to no width; on two lines where the header is short of room (`two_lines`)."""

    TWO_LINES = N_("Call\nstaff")        # where the header is short of room
    shown = BooleanProperty(False)
    two_lines = BooleanProperty(False)
    natural_width = NumericProperty(0)   # its width when shown
    lines_width = NumericProperty(0)     # the longer of its two lines, when on two lines


def _text_width(text: str, font_size: float) -> float:
    """How wide `text` is drawn in the chips' font (bold) at `font_size`: the header plans with it."""
    label = CoreLabel(text=text, font_size=font_size, bold=True)
    label.refresh()
    return label.texture.size[0]


class HeaderBar(BoxLayout):
    """On top of every screen: home, the language switch, the elder-mode toggle and, on a citizen's
    screens (not staff's or the technician's), "Call staff".

    The header plans its room whenever a chip's width changes: "Call staff" goes on one line beside the
    others where it fits; where it does not (elder mode on a portrait screen, whose chips are 1.6 times as
    large) the header goes `compact`: the language already chosen folds away (its chip only chose what is
    chosen; the other language's stays) and "Call staff" takes two lines. (The voice key is on the home
    screen, large: the header has no room left for it.) Should even that not fit, it
    leaves the header (`help_inside` false) for the `HelpBar` under it."""

    at_home = BooleanProperty(True)
    citizen = BooleanProperty(True)      # the screen shown is a citizen's: "Call staff" is offered
    help_inside = BooleanProperty(True)  # "Call staff" is in the header
    compact = BooleanProperty(False)     # the chosen language's chip folded, "Call staff" on two lines
    languages = i18n.LANGUAGES
    native_names = i18n.NATIVE_NAMES

    def on_kv_post(self, base_widget):
        super().on_kv_post(base_widget)
        self._measure = Clock.create_trigger(self._fit, 0)
        ids = self.ids
        self.fbind("width", self._measure)
        for chip in (ids.home_button, ids.elder_toggle, ids.lang_zh_CN, ids.lang_en, ids.help_button):
            chip.fbind("width", self._measure)
            chip.fbind("texture_size", self._measure)
            chip.fbind("font_size", self._measure)
        self._fit()

    @staticmethod
    def _chip_width(chip) -> float:
        """A language chip's width when shown (widgets.kv, ToggleChip)."""
        return max(chip.texture_size[0] + dp(56), chip.height * 1.5)

    def _fit(self, *_):
        ids = self.ids
        # the widths that do not depend on the plan: home, the spacer, elder mode; the gaps and the padding
        others = [c.width for c in self.children
                  if c.size_hint_x is None and not isinstance(c, (HelpChip, BoxLayout))]
        room = (self.width - self.padding[0] - self.padding[2] - sum(others) - self.spacing * len(self.children))
        chips = (ids.lang_zh_CN, ids.lang_en)
        both = sum(self._chip_width(c) for c in chips) + ids.language_switch.spacing
        other = sum(self._chip_width(c) for c in chips if not c.active) or both
        least = dp(theme.TOUCH_MIN_DP) * 1.5
        help_chip = ids.help_button
        one_line = max(_text_width(i18n._("Call staff"), help_chip.font_size) + dp(40), least)
        help_chip.lines_width = _text_width(i18n._(HelpChip.TWO_LINES), help_chip.font_size)
        two_lines = max(help_chip.lines_width + dp(40), least)
        if room - both >= one_line:
            self.compact, self.help_inside = False, True
        elif room - other >= two_lines:
            self.compact, self.help_inside = True, True
        else:
            self.compact, self.help_inside = False, False


class HelpBar(BoxLayout):
    """"Call staff" under the header, where the header has no room for it (`shown`)."""

    shown = BooleanProperty(False)


class Card(BoxLayout):
    """A white panel on the page background; `edge` outlines it (an input box, a card to tap)."""

    bg_color = ColorProperty(theme.SURFACE)
    edge = BooleanProperty(False)


class Page(BoxLayout):
    """The one grid of every citizen screen, top down: the title (a `Headline`, left, in the title size),
    the step line, the instruction, the step's choices and content (the list, the keypad, the kiosk's
    face) right under it, and at the bottom edge its `PageActions` with the step's navigation (Back,
    Cancel, Finish, Next): the room left between them stays empty, unless a child stretches into it (a
    list, the preview's page). The screen's one scroll view or box gives the page's sides and top
    (`theme.PAD_DP`, `theme.PAGE_TOP_DP`); the gaps are the page's (`theme.PAGE_GAP_DP`, the same in
    elder mode, where the larger text and keys need the room).

    A page is at least `room` high: the height of the view it is shown in, less that view's padding, so
    its action bar stands at the bottom of the window on every step; a page taller than that scrolls as a
    whole. `room` follows the parent's parent (a step panel's body in its ScrollView) by itself; a page
    that stretches in a box of its own sets `size_hint_y` instead."""

    room = NumericProperty(0)

    def __init__(self, **kwargs):
        self._room_of = None
        super().__init__(**kwargs)

    def on_parent(self, _page, parent) -> None:
        if self._room_of is not None:
            host, view = self._room_of
            host.funbind("padding", self._measure_room)
            view.funbind("height", self._measure_room)
            self._room_of = None
        if parent is None:    # (a page made by kv gets its parent before its rules: size_hint_y is not known yet)
            return
        # a page right in its scroll view, or a step panel in the scroll view's padded body
        host, view = (None, parent) if isinstance(parent, ScrollView) else (parent, parent.parent)
        if view is None:
            return
        self._room_of = (host or view, view)
        (host or view).fbind("padding", self._measure_room)
        view.fbind("height", self._measure_room)
        self._measure_room()

    def _measure_room(self, *_a) -> None:
        host, view = self._room_of
        padding = getattr(host, "padding", (0, 0, 0, 0)) if host is not view else (0, 0, 0, 0)
        self.room = max(0, view.height - padding[1] - padding[3])

    def do_layout(self, *_args) -> None:
        """Top down, as a box would, but a child folded away (no height, no size hint: a line or a button
        not needed on this step) takes no gap either; what stretches (a list, the preview's page) shares
        the room left; the action bar stands on the bottom edge."""
        left, top, right, bottom = self.padding
        gap = self.spacing
        order = list(reversed(self.children))           # children[0] was added last
        bar = order[-1] if order and isinstance(order[-1], PageActions) else None
        body = [c for c in order if c is not bar and (c.height > 0 or c.size_hint_y is not None)]
        fixed = sum(c.height for c in body if c.size_hint_y is None)
        gaps = gap * max(0, len(body) - 1)
        below = (bar.height + (gap if body else 0)) if bar is not None and bar.height > 0 else 0
        # a picture that can shrink (the kiosk's face) gets the room the rest of the page leaves it
        limit = self.room if self.size_hint_y is None else self.height
        for child in body:
            if getattr(child, "shrinks_to_room", False) and child.size_hint_y is None:
                child.room = limit - (top + fixed - child.height + gaps + below + bottom)
        fixed = sum(c.height for c in body if c.size_hint_y is None)
        self.minimum_height = top + fixed + gaps + below + bottom
        share = sum(c.size_hint_y for c in body if c.size_hint_y is not None)
        room = max(0, self.height - self.minimum_height)
        width = self.width - left - right
        y = self.y + self.height - top
        for child in body:
            if child.size_hint_y is not None:
                child.height = room * child.size_hint_y / share
            self._place_x(child, left, width)
            y -= child.height
            child.y = y
            y -= gap
        if bar is not None:
            self._place_x(bar, left, width)
            bar.y = self.y + bottom
        for child in order:
            if child is not bar and child not in body:
                child.y = y            # folded away: out of the way, under the last shown

    def _place_x(self, child, left, width) -> None:
        if child.size_hint_x is not None:
            child.width = width * child.size_hint_x
        hint = child.pos_hint
        x = self.x + left
        if "center_x" in hint:
            child.center_x = x + width * hint["center_x"]
        elif "right" in hint:
            child.right = x + width * hint["right"]
        else:
            child.x = x + width * hint.get("x", 0)


class PageActions(Layout):
    """The bottom of a `Page`: the step's navigation keys, stacked, the main one first; the same place
    on every screen. A key folded away (no height: a step's button not needed now) takes no gap either,
    so the last key shown stands on the page's bottom edge whatever was folded above or below it."""

    spacing = NumericProperty(0)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for name in ("spacing", "pos", "width"):
            self.fbind(name, self._trigger_layout)

    def do_layout(self, *_args) -> None:
        shown = [c for c in self.children if c.height > 0]   # children[0] was added last: the bottom one
        y = self.y
        for child in shown:
            child.x, child.y = self.x, y
            if child.size_hint_x is not None:
                child.width = self.width * child.size_hint_x
            y += child.height + self.spacing
        self.height = max(0, y - self.y - self.spacing) if shown else 0


class Headline(Label):
    base_size = NumericProperty(theme.TITLE_SP)


class PageTitle(Label):
    """A page's title in a bar of its own (beside a back button): read out as a title, as a Headline is."""


class Body(Label):
    base_size = NumericProperty(theme.BODY_SP)
    color_name = StringProperty("TEXT")


Builder.load_file(str(Path(__file__).with_name("widgets.kv")))
