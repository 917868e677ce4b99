"""A pad of on-screen keys as one widget: the locker keypads and the guide search keyboard.

A key made as a button is a whole widget: a label with some thirty properties,
its core label, the bindings of its kv rule (font size, colours, the elder
scale), its canvas. Here that is 100 KB or more a key, and the kiosk has about
ninety keys on its screens (the search keyboard alone has 38). `KeyGrid` draws
every key of a pad on its own canvas (a rounded rectangle and the caption's
texture each) and finds the key under a finger itself, so a pad costs one
widget and a few small textures.

What a finger sees is what a button gives: the key under the finger turns to
`pressed_color` while it is down, and `on_key(key)` fires on release over the
same key; a finger that slides off lets it go without a key. A disabled pad
swallows touches and is drawn in the disabled colours.

`key_center(key)` gives where a key is (in the coordinates of `pos`), for the
UI driver's `tap_key` and for tests.
"""
from __future__ import annotations

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Line, Rectangle, RoundedRectangle
from kivy.metrics import dp, sp
from kivy.properties import (AliasProperty, BooleanProperty, ColorProperty, DictProperty,
                             ListProperty, NumericProperty, StringProperty)
from kivy.uix.widget import Widget

from kiosk.screens import theme
from kiosk.screens.widgets import OUTLINE_DP, RADIUS_DP, outline_shape


class KeyGrid(Widget):
    """Rows of keys, left to right and top to bottom; `on_key(key)` for each tap.

    `rows` lists each row's key names; a key is drawn with `captions[key]` (its
    name when absent) and takes `widths[key]` shares of its row (1 when absent).
    Keys named in `edit_keys` (delete, clear) use the `edit_*` style.
    """

    __events__ = ("on_key",)

    rows = ListProperty()
    captions = DictProperty()
    widths = DictProperty()
    edit_keys = ListProperty()

    row_height = NumericProperty(dp(92))    # pixels
    spacing = NumericProperty(dp(10))
    font_size = NumericProperty(sp(theme.BUTTON_SP))
    edit_font_size = NumericProperty(sp(theme.BUTTON_SP))
    bold = BooleanProperty(True)
    edit_bold = BooleanProperty(True)
    bg_color = ColorProperty(theme.SURFACE)
    pressed_color = ColorProperty(theme.ACCENT_SOFT)
    fg_color = ColorProperty(theme.HEADER)
    edit_bg_color = ColorProperty(theme.SURFACE)
    edit_pressed_color = ColorProperty(theme.ACCENT_SOFT)
    edit_fg_color = ColorProperty(theme.HEADER)
    outline = BooleanProperty(False)
    pressed = StringProperty("")            # the key a finger is on, "" when none

    def _minimum_height(self):
        n = len(self.rows)
        return n * self.row_height + max(0, n - 1) * self.spacing

    minimum_height = AliasProperty(_minimum_height, None, bind=("rows", "row_height", "spacing"))

    def __init__(self, **kwargs):
        self._rects: dict[str, tuple[float, float, float, float]] = {}
        self._fills: dict[str, Color] = {}
        self._textures: dict[tuple[str, int, bool], object] = {}
        self._redraw_later = Clock.create_trigger(self._redraw, -1)
        super().__init__(**kwargs)
        for name in ("pos", "size", "rows", "captions", "widths", "edit_keys", "row_height", "spacing",
                     "font_size", "edit_font_size", "bold", "edit_bold", "bg_color", "pressed_color",
                     "fg_color", "edit_bg_color", "edit_pressed_color", "edit_fg_color", "outline",
                     "disabled"):
            self.fbind(name, self._redraw_later)
        self.fbind("pressed", self._paint)
        self._redraw_later()

    # --- where the keys are --------------------------------------------------------------------

    def keys(self) -> list[str]:
        return [key for row in self.rows for key in row]

    def key_rect(self, key: str) -> tuple[float, float, float, float]:
        """(x, y, width, height) of `key`, in the coordinates of `pos`."""
        self._layout()
        try:
            return self._rects[key]
        except KeyError:
            raise KeyError(f"no key {key!r} on this pad; it has {', '.join(self.keys())}") from None

    def key_center(self, key: str) -> tuple[float, float]:
        x, y, w, h = self.key_rect(key)
        return x + w / 2, y + h / 2

    def key_at(self, x: float, y: float) -> str | None:
        """The key at (x, y), in the coordinates of `pos`; laid out afresh, as the pad may have
        moved in this frame before it is drawn again."""
        self._layout()
        for key, (kx, ky, kw, kh) in self._rects.items():
            if kx <= x <= kx + kw and ky <= y <= ky + kh:
                return key
        return None

    def _layout(self) -> None:
        rects = {}
        top = self.top
        for row in self.rows:
            shares = sum(self.widths.get(key, 1) for key in row) or 1
            free = self.width - max(0, len(row) - 1) * self.spacing
            x = self.x
            for key in row:
                w = free * self.widths.get(key, 1) / shares
                rects[key] = (x, top - self.row_height, w, self.row_height)
                x += w + self.spacing
            top -= self.row_height + self.spacing
        self._rects = rects

    # --- drawing -------------------------------------------------------------------------------

    def _style(self, key: str):
        edit = key in self.edit_keys
        return ((self.edit_font_size, self.edit_bold) if edit else (self.font_size, self.bold),
                (self.edit_bg_color, self.edit_pressed_color, self.edit_fg_color) if edit
                else (self.bg_color, self.pressed_color, self.fg_color))

    def _texture(self, caption: str, font_size: float, bold: bool, textures: dict):
        ident = (caption, int(round(font_size)), bold)
        texture = textures.get(ident, self._textures.get(ident))
        if texture is None:
            # drawn white and tinted by the Color before it, so a colour change needs no new texture
            label = CoreLabel(text=caption, font_size=font_size, bold=bold, color=(1, 1, 1, 1))
            label.refresh()
            texture = label.texture
        textures[ident] = texture
        return texture

    def _redraw(self, *_args) -> None:
        self._layout()
        self.canvas.clear()
        self._fills = {}
        textures: dict = {}
        radius = [dp(RADIUS_DP)]
        with self.canvas:
            for key, (x, y, w, h) in self._rects.items():
                (font_size, bold), (bg, _pressed, fg) = self._style(key)
                self._fills[key] = Color(rgba=bg)
                RoundedRectangle(pos=(x, y), size=(w, h), radius=radius)
                ink = theme.ON_DISABLED if self.disabled else fg
                if self.outline:
                    Color(rgba=ink)
                    Line(rounded_rectangle=outline_shape(x, y, w, h), width=dp(OUTLINE_DP))
                caption = self.captions.get(key, key)
                if caption:
                    texture = self._texture(caption, font_size, bold, textures)
                    tw, th = texture.size
                    Color(rgba=ink)
                    Rectangle(texture=texture, size=(tw, th),
                              pos=(int(x + (w - tw) / 2), int(y + (h - th) / 2)))
        self._textures = textures   # the captions no longer shown are let go
        self._paint()

    def _paint(self, *_args) -> None:
        for key, fill in self._fills.items():
            _size, (bg, pressed, _fg) = self._style(key)
            fill.rgba = theme.DISABLED if self.disabled else (pressed if key == self.pressed else bg)

    # --- touch ---------------------------------------------------------------------------------

    def on_touch_down(self, touch):
        # as ButtonBehavior: a wheel is not a press, and a scroll view that hands the same
        # touch on again after its timeout does not press twice
        if touch.is_mouse_scrolling or self in touch.ud or not self.collide_point(*touch.pos):
            return False
        if self.disabled:
            return True
        key = self.key_at(*touch.pos)
        if key is None:
            return False
        touch.grab(self)
        touch.ud[self] = key
        self.pressed = key
        return True

    def on_touch_move(self, touch):
        if touch.grab_current is self:
            self.pressed = touch.ud[self] if self.key_at(*touch.pos) == touch.ud[self] else ""
            return True
        return super().on_touch_move(touch)

    def on_touch_up(self, touch):
        if touch.grab_current is not self:
            return super().on_touch_up(touch)
        touch.ungrab(self)
        key = touch.ud.pop(self, None)
        self.pressed = ""
        if key is not None and not self.disabled and self.key_at(*touch.pos) == key:
            self.dispatch("on_key", key)
        return True

    def on_key(self, key: str) -> None:
        pass
