"""Keypad focus: every citizen flow done with a USB keypad or a keyboard's arrow keys, no screen touched.

EN 301 549 5.1.3, ADA 707.6. No screen has code of its own for it: on each key the shell hands
over (kiosk/screens/shell.py), this module looks at what is shown now — the open overlay (a
ModalView on the window), else the header and the current screen — and finds what a finger could
tap there: every button (ButtonBehavior) that is enabled and visible (no opacity of 0 and no zero
size up its parents, on the window) and every key of a pad of keys (kiosk/screens/keys.py).
Widgets in a scroll view count where the scroll view stands, and are scrolled into view when focus
lands on them. They are put in reading order: top to bottom in rows (targets whose vertical extents
overlap share a row), left to right in a row; a scroll view and a pad of keys each keep their own
targets together, in their own reading order.

Keys: Down, Right and Tab move to the next target, Up, Left and Shift-Tab to the one before (at
either end, round to the other); the first of them shows focus on the first target. Enter (either)
presses the focused target as a tap does. Escape, and Backspace when no pad with a delete key is
shown, is Back: the shown button with the id `back`, `previous` or `cancel`, else the header's Home
(`app.end_visit`). Digits (and letters, for the search keyboard) press that key of the shown pad.
`+` and `-` are the voice's (kiosk/screens/voice.py) and are left alone.

The focus ring is two bands around the target, drawn on the window's `canvas.after`: outside, 5 dp
of theme.HEADER (8.8:1 on the page, 9.6:1 on a white card), inside it 5 dp of white between the ring
and the target (5.9:1 on a blue button, so the ring stands apart from a blue and a white button
alike); on the dark header bar the two colours swap. One instruction group made once, moved when
the focus or the layout moves, taken off the canvas when there is no focus. Focus clears when the
screen changes, when a touch comes, and at the end of the visit; nothing of a visit is kept. With
voice on, the focused target's text is said, cutting short what was being said.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.graphics import Color, InstructionGroup, Rectangle
from kivy.metrics import dp
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.screenmanager import ScreenManager
from kivy.uix.scrollview import ScrollView

from kiosk.screens import theme
from kiosk.screens.keys import KeyGrid
from kiosk.screens.widgets import on_window

if TYPE_CHECKING:  # pragma: no cover
    from kiosk.screens.shell import KioskApp

RING_DP = 5           # the ring's dark (on the header: light) band: ≥ 3 dp asked, seen across a hall
GAP_DP = 5            # the band between the ring and the target, in the other colour: what is seen
                      # just outside the target is then a colour it stands out from (the tour's audit
                      # measures 2-5 px outside every target against its edge, WCAG 1.4.11)
FOLLOW_S = 0.2        # how often, while focus shows, the ring checks its target is still there
PRESS_SHOWN_S = 0.12  # how long a key pressed from the keypad shows pressed

# Kivy keycodes (SDL2)
TAB, ENTER, KP_ENTER, ESCAPE, BACKSPACE = 9, 13, 271, 27, 8
UP, DOWN, RIGHT, LEFT = 273, 274, 275, 276
KP_DIGITS = {256 + n: str(n) for n in range(10)}   # the keypad's 0-9
NEXT = {DOWN, RIGHT}
PREVIOUS = {UP, LEFT}
BACK_IDS = ("back", "previous", "cancel")   # in this order of preference


@dataclass(frozen=True, eq=False)
class Target:
    """A button, or one key (`key`) of a pad of keys."""

    widget: object
    key: str | None = None

    def same(self, other: "Target | None") -> bool:
        return other is not None and other.widget is self.widget and other.key == self.key

    def rect(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) in window pixels."""
        w = self.widget
        if self.key is None:
            x0, y0, x1, y1 = w.x, w.y, w.right, w.top
        else:
            kx, ky, kw, kh = w.key_rect(self.key)
            x0, y0, x1, y1 = kx, ky, kx + kw, ky + kh
        left, bottom = w.to_window(x0, y0)
        right, top = w.to_window(x1, y1)
        return left, bottom, right, top

    def text(self) -> str:
        """What the target says of itself: a key's caption, a button's text, a tile's lines."""
        w = self.widget
        if self.key is not None:
            return w.captions.get(self.key, self.key)
        if isinstance(w, Label):
            return w.text
        labels = [c for c in w.walk(restrict=True)
                  if isinstance(c, Label) and c is not w and c.text.strip() and c.opacity > 0 and c.height > 1]
        labels.sort(key=lambda c: -c.to_window(c.x, c.top)[1])   # top to bottom
        return "，".join(c.text for c in labels)

    def press(self) -> None:
        """As a finger's tap: press and release (a button), or the key's `on_key` (a pad)."""
        w = self.widget
        if self.key is None:
            w.trigger_action(duration=0)
        else:
            w.pressed = self.key
            w.dispatch("on_key", self.key)
            Clock.schedule_once(lambda _dt, w=w: setattr(w, "pressed", ""), PRESS_SHOWN_S)


def visible(widget) -> bool:
    """Enabled and shown (widgets.on_window)."""
    return not widget.disabled and on_window(widget)


def _scroll_views(widget) -> list:
    """The scroll views `widget` stands in, innermost first."""
    found, parent = [], widget.parent
    while parent is not None and parent is not Window and parent is not parent.parent:
        if isinstance(parent, ScrollView):
            found.append(parent)
        parent = parent.parent
    return found


def targets_in(root) -> list[Target]:
    """Every target `root` shows, not yet in order."""
    found: list[Target] = []
    stack = [root]
    while stack:
        w = stack.pop()
        if w.opacity <= 0 or w.disabled:
            continue
        if isinstance(w, KeyGrid):
            if visible(w):
                found.extend(Target(w, key) for key in w.keys() if w.captions.get(key, key))
            continue
        if isinstance(w, ButtonBehavior) and visible(w):
            found.append(Target(w))
            continue   # a button's inner labels are not targets of their own
        stack.extend(w.children)   # a screen manager's children: its current screen alone
    return found


def _rows(items: list, rect_of: Callable) -> list:
    """`items` in reading order: rows from the top (an item joins a row its vertical extent overlaps
    by half the smaller height), left to right in a row."""
    boxes = sorted(((rect_of(i), n) for n, i in enumerate(items)), key=lambda b: (-b[0][3], b[0][0]))
    ordered, row, row_box = [], [], None
    for box, n in boxes:
        if row_box is not None:
            overlap = min(row_box[3], box[3]) - max(row_box[1], box[1])
            if overlap < 0.5 * min(row_box[3] - row_box[1], box[3] - box[1]):
                ordered.extend(sorted(row, key=lambda b: b[0][0]))
                row, row_box = [], None
        row.append((box, n))
        row_box = box if row_box is None else row_box
    ordered.extend(sorted(row, key=lambda b: b[0][0]))
    return [items[n] for _box, n in ordered]


def _window_rect(widget) -> tuple[float, float, float, float]:
    left, bottom = widget.to_window(widget.x, widget.y)
    return left, bottom, left + widget.width, bottom + widget.height


def reading_order(targets: Iterable[Target]) -> list[Target]:
    """`targets` top to bottom and left to right; those of one scroll view (or one pad of keys)
    together, where the scroll view (or pad) stands."""
    return _order(list(targets), depth=0)


def _block_of(target: Target, depth: int):
    """The scroll view or pad `target` belongs to at nesting `depth` (outermost first), or None."""
    blocks = list(reversed(_scroll_views(target.widget)))
    if target.key is not None:
        blocks.append(target.widget)
    return blocks[depth] if depth < len(blocks) else None


def _order(targets: list[Target], depth: int) -> list[Target]:
    groups: dict[int, list[Target]] = {}
    items: list = []
    for t in targets:
        block = _block_of(t, depth)
        if block is None:
            items.append(t)
        elif id(block) not in groups:
            groups[id(block)] = [t]
            items.append(block)
        else:
            groups[id(block)].append(t)

    def rect_of(item):
        if isinstance(item, Target):
            return item.rect()
        return _window_rect(item)

    ordered: list[Target] = []
    for item in _rows(items, rect_of):
        if isinstance(item, Target):
            ordered.append(item)
        else:
            ordered.extend(_order(groups[id(item)], depth + 1))
    return ordered


def scroll_into_view(target: Target) -> None:
    """Scroll every scroll view around `target` until its centre is in the middle of the view, or as
    near as it goes (as kiosk/tour/driver.py does for a tap)."""
    left, bottom, right, top = target.rect()
    cx, cy = (left + right) / 2, (bottom + top) / 2
    for view in _scroll_views(target.widget):
        sx, sy, sr, st = _window_rect(view)
        if sx <= left and right <= sr and sy <= bottom and top <= st:
            continue
        ex, ey = view.convert_distance_to_scroll(sx + view.width / 2 - cx, sy + view.height / 2 - cy)
        if view.do_scroll_x:
            view.scroll_x = min(1.0, max(0.0, view.scroll_x - ex))
        if view.do_scroll_y:
            view.scroll_y = min(1.0, max(0.0, view.scroll_y - ey))


class FocusRing:
    """Two bands around a rectangle of the window, on the window's canvas.after (made once)."""

    def __init__(self):
        self.group = InstructionGroup()
        self.outer = Color(rgba=theme.HEADER)
        self.outer_bars = [Rectangle() for _ in range(4)]
        self.inner = Color(rgba=theme.SURFACE)
        self.inner_bars = [Rectangle() for _ in range(4)]
        self.group.add(self.outer)
        for bar in self.outer_bars:
            self.group.add(bar)
        self.group.add(self.inner)
        for bar in self.inner_bars:
            self.group.add(bar)
        self.shown = False
        self.rect: tuple[float, float, float, float] | None = None   # what it surrounds (window px)

    @staticmethod
    def _frame(bars, left, bottom, right, top, width) -> None:
        """Four bars `width` wide just outside (left, bottom, right, top)."""
        bars[0].pos, bars[0].size = (left - width, bottom - width), (right - left + 2 * width, width)   # below
        bars[1].pos, bars[1].size = (left - width, top), (right - left + 2 * width, width)              # above
        bars[2].pos, bars[2].size = (left - width, bottom), (width, top - bottom)                        # left
        bars[3].pos, bars[3].size = (right, bottom), (width, top - bottom)                               # right

    def place(self, rect: tuple[float, float, float, float], dark_ground: bool) -> None:
        left, bottom, right, top = rect
        gap, ring = dp(GAP_DP), dp(RING_DP)
        self.inner.rgba = theme.HEADER if dark_ground else theme.SURFACE
        self.outer.rgba = theme.SURFACE if dark_ground else theme.HEADER
        self._frame(self.inner_bars, left, bottom, right, top, gap)
        self._frame(self.outer_bars, left - gap, bottom - gap, right + gap, top + gap, ring)
        self.rect = rect
        if not self.shown:
            Window.canvas.after.add(self.group)
            self.shown = True

    def hide(self) -> None:
        if self.shown:
            Window.canvas.after.remove(self.group)
            self.shown = False
        self.rect = None


class KeypadFocus:
    """Moves focus over what is shown, presses it, goes Back, types digits; made once per process."""

    def __init__(self, app: "KioskApp"):
        self.app = app
        self.target: Target | None = None
        self.ring = FocusRing()
        self._follow = None
        self._replace = Clock.create_trigger(self._place_ring, 0)
        app.screens.bind(current=lambda *_a: self.clear())
        app.session.on("wipe", lambda _reason: self.clear())
        Window.bind(on_touch_down=self._on_touch)

    # -- what is shown ----------------------------------------------------------------------------
    def showing(self) -> list:
        """The open overlay (the one on top), else the header and the current screen."""
        for child in Window.children:
            if isinstance(child, ModalView):
                return [child]
        return [self.app.header, self.app.screens]

    def targets(self) -> list[Target]:
        found: list[Target] = []
        for root in self.showing():
            found.extend(targets_in(root))
        return reading_order(found)

    # -- keys -------------------------------------------------------------------------------------
    def on_key(self, key: int, codepoint: str | None, modifiers) -> bool:
        """A key from the window: True when it was taken here."""
        shift = "shift" in (modifiers or ())
        if key == TAB:
            return self.move(-1 if shift else 1)
        if key in NEXT:
            return self.move(1)
        if key in PREVIOUS:
            return self.move(-1)
        if key in (ENTER, KP_ENTER):
            return self.activate()
        if key == ESCAPE:
            return self.back()
        if key == BACKSPACE:
            return self.type_key("back") or self.back()
        char = KP_DIGITS.get(key) or (codepoint if codepoint and len(codepoint) == 1 else None)
        if char is not None and char.isascii() and char.isalnum():
            return self.type_key(char.lower())
        return False

    def move(self, step: int) -> bool:
        targets = self.targets()
        if not targets:
            self.clear()
            return True
        at = next((n for n, t in enumerate(targets) if t.same(self.target)), None)
        self.focus(targets[0] if at is None else targets[(at + step) % len(targets)])
        return True

    def activate(self) -> bool:
        targets = self.targets()
        current = next((t for t in targets if t.same(self.target)), None)
        if current is None:   # nothing focused yet: Enter shows where focus is, it presses nothing
            if targets:
                self.focus(targets[0])
            return True
        current.press()
        self._replace()
        return True

    def back(self) -> bool:
        """The screen's (or overlay's) own way back, else the header's Home."""
        roots = self.showing()
        shown = {id(t.widget): t for root in roots for t in targets_in(root) if t.key is None}
        for name in BACK_IDS:
            for root in roots:
                for w in root.walk(restrict=True):
                    ref = w.ids.get(name) if hasattr(w, "ids") else None
                    button = getattr(ref, "__self__", ref)
                    if button is not None and id(button) in shown:
                        shown[id(button)].press()
                        return True
        home = self.app.header.ids.home_button
        if not isinstance(roots[0], ModalView) and visible(home):
            Target(home).press()
        return True

    def type_key(self, key: str) -> bool:
        """`key` pressed on a shown pad that has it: the focused pad first, else the first in reading
        order. False when no pad shown has it."""
        pads = [t for t in self.targets() if t.key == key]
        if not pads:
            return False
        mine = next((t for t in pads if self.target is not None and t.widget is self.target.widget), pads[0])
        mine.press()
        return True

    # -- focus and its ring -------------------------------------------------------------------------
    def focus(self, target: Target) -> None:
        self._unbind()
        self.target = target
        target.widget.fbind("pos", self._replace)
        target.widget.fbind("size", self._replace)
        scroll_into_view(target)
        self._place_ring()
        self._replace()   # once more next frame, after the scroll view has moved
        if self._follow is None:
            self._follow = Clock.schedule_interval(self._check, FOLLOW_S)
        self._say(target)

    def clear(self) -> None:
        self._unbind()
        self.target = None
        self.ring.hide()
        if self._follow is not None:
            self._follow.cancel()
            self._follow = None

    def _unbind(self) -> None:
        if self.target is not None:
            self.target.widget.funbind("pos", self._replace)
            self.target.widget.funbind("size", self._replace)

    def _check(self, _dt=None) -> None:
        """The focused target gone (its step's panel taken away, disabled, faded out): no focus."""
        if self.target is None:
            return
        if not visible(self.target.widget) or not self._under(self.target.widget, self.showing()):
            self.clear()
        else:
            self._place_ring()

    def _place_ring(self, *_args) -> None:
        if self.target is None:
            return
        if not visible(self.target.widget):
            self.clear()
            return
        rect = self.target.rect()
        if rect != self.ring.rect:
            self.ring.place(rect, dark_ground=self._on_header(self.target.widget))

    def _on_header(self, widget) -> bool:
        return self._under(widget, [self.app.header])

    @staticmethod
    def _under(widget, roots: list) -> bool:
        """`widget` is one of `roots` or stands in one (an overlay opened over it: no longer)."""
        w = widget
        while w is not None and w is not Window:
            if any(w is root for root in roots):
                return True
            w = w.parent
        return False

    def _on_touch(self, *_args) -> bool:
        if self.target is not None:
            self.clear()   # a finger took over: the ring is for the keys
        return False

    def _say(self, target: Target) -> None:
        voice = self.app.voice
        if voice is not None and voice.on:
            text = " ".join(target.text().split())
            if text:
                voice.screen([text], self.app.lang)


__all__ = ["KeypadFocus", "FocusRing", "Target", "reading_order", "targets_in", "visible"]
