"""The elder-friendly rules measured on what the window shows (issue: every citizen can use it).

`audit(app, image)` walks the widgets shown now (the open overlay, else the header and the
current screen) and measures, against the picture of the window:

- `text-size`: every text at least 18 dp (MIIT's elder-friendly rules for terminals);
- `text-contrast`: text against the background under it at least 4.5:1 (WCAG 1.4.3);
- `target-size`: every touch target (a button, key, chip, tile, card, text box) at least 60 x 60 dp;
- `target-gap`: at least 8 dp between two touch targets, unless one holds the other;
- `edge-contrast`: a touch target's edge against what is around it at least 3:1 (WCAG 1.4.11): the
  colour just inside its border against the colour just outside, so a white card on the off-white
  page (1.09:1) is found, and a card with an outline passes;
- `home-scroll`: on the home screen nothing lies beyond a scroll;
- `text-cut`: no text shown shortened to 「…」 or drawn larger than its box (a department's name, a
  guide's title: they wrap to more lines, by kiosk/core/linebreak.py, and their row grows).

The background of a text is the commonest colour of the window's pixels in its box (the glyphs
are the lesser part of it); the two sides of an edge are the commonest colours of a band 2-5 px
inside and outside it along the middle half of each side (the rounded corners left out). A
violation names the widget (its class, its id in the rules, its text) and what was measured.
`kiosk tour --audit` runs it on every step of the tour in the step's mode and the other one.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from kivy.core.window import Window
from kivy.metrics import dp
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView
from kivy.uix.stencilview import StencilView
from kivy.uix.textinput import TextInput

TEXT_MIN_DP = 18
TEXT_CONTRAST = 4.5
EDGE_CONTRAST = 3.0
TARGET_MIN_DP = 60
TARGET_GAP_DP = 8
CUT_SLACK_PX = 2   # a texture a pixel or two over its box is rounding, not text cut off


@dataclass(frozen=True)
class Violation:
    rule: str
    widget: str
    measured: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.widget}: {self.measured}"

    def as_dict(self) -> dict:
        return asdict(self)


# -- colour --------------------------------------------------------------------------------------

def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(rgb) -> float:
    r, g, b = (_linear(v / 255 if v > 1 else v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _over(fg, bg) -> tuple[float, float, float]:
    """`fg` (RGBA, 0-1) drawn over `bg` (RGB, 0-255), as 0-255 RGB."""
    a = fg[3] if len(fg) > 3 else 1.0
    return tuple(a * f * 255 + (1 - a) * b for f, b in zip(fg[:3], bg))


def _mode(image, box) -> tuple[int, int, int] | None:
    """The commonest colour in `box` (window coordinates x0, y0, x1, y1; y up) of `image`."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    height = image.height
    x0, x1 = max(0, x0), min(image.width, x1)
    top, bottom = max(0, height - y1), min(height, height - y0)
    if x1 - x0 < 1 or bottom - top < 1:
        return None
    crop = image.crop((x0, top, x1, bottom))
    if crop.width * crop.height > 40_000:   # a large box: every other pixel tells the same
        crop = crop.resize((max(1, crop.width // 3), max(1, crop.height // 3)), 0)
    count, colour = max(crop.getcolors(crop.width * crop.height))
    return colour[:3]


def _edge(image, rect) -> tuple[float, tuple, tuple] | None:
    """The weakest side of `rect`'s edge: (contrast, colour inside, colour outside). On each side, the
    commonest colour of a band 2-5 px outside against the commonest colour of each one-pixel line
    0-6 px inside (an outline of a pixel or two is one of them), the strongest of those lines
    counting; along the middle half of the side, the rounded corners left out."""
    x, y, w, h = rect
    sides = (
        # (outside band, the inside lines) as boxes in window coordinates
        ((x + w / 4, y - 5, x + 3 * w / 4, y - 2), [(x + w / 4, y + k, x + 3 * w / 4, y + k + 1) for k in range(7)]),
        ((x + w / 4, y + h + 2, x + 3 * w / 4, y + h + 5),
         [(x + w / 4, y + h - k - 1, x + 3 * w / 4, y + h - k) for k in range(7)]),
        ((x - 5, y + h / 4, x - 2, y + 3 * h / 4), [(x + k, y + h / 4, x + k + 1, y + 3 * h / 4) for k in range(7)]),
        ((x + w + 2, y + h / 4, x + w + 5, y + 3 * h / 4),
         [(x + w - k - 1, y + h / 4, x + w - k, y + 3 * h / 4) for k in range(7)]),
    )
    worst = None
    for out_box, lines in sides:
        outside = _mode(image, out_box)
        insides = [c for c in (_mode(image, b) for b in lines) if c is not None]
        if outside is None or not insides:
            continue
        best = max(insides, key=lambda c: contrast(c, outside))
        found = (contrast(best, outside), best, outside)
        if worst is None or found[0] < worst[0]:
            worst = found
    return worst


# -- the widgets shown -------------------------------------------------------------------------------

def _window_rect(w) -> tuple[float, float, float, float]:
    x0, y0 = w.to_window(w.x, w.y)
    x1, y1 = w.to_window(w.right, w.top)
    return (min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))


def _clip(rect, box):
    x, y, w, h = rect
    bx0, by0, bx1, by1 = box
    x0, y0, x1, y1 = max(x, bx0), max(y, by0), min(x + w, bx1), min(y + h, by1)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def shown(root):
    """(widget, its window rect, the part of it not clipped away) for every widget shown under `root`."""
    out = []

    def walk(w, clip):
        if w.opacity <= 0 or w.width <= 0 or w.height <= 0:
            return
        rect = _window_rect(w)
        visible = _clip(rect, clip)
        out.append((w, rect, visible))
        inner = clip
        if isinstance(w, (ScrollView, StencilView)):
            inner = visible or (0, 0, 0, 0)
        for child in reversed(w.children):   # children[0] is drawn last: walk in drawing order
            walk(child, inner)

    walk(root, (0, 0, Window.width, Window.height))
    return out


def roots(app) -> list:
    """What is in front: the top overlay when one is open, else the whole window's root."""
    modals = [w for w in Window.children if isinstance(w, ModalView)]
    if modals:
        return [modals[0]]
    return [w for w in Window.children if not isinstance(w, ModalView)][-1:]


def name_of(w, full: bool = False) -> str:
    """Class, id in the rules that made it (when it has one), and its text, short (`full`: all of it).
    Where the widget is on a screen, the screen's name first (`documents: Label#title '…'`)."""
    ident = None
    p = w.parent
    for _ in range(12):
        if p is None:
            break
        ids = getattr(p, "ids", {})
        for key, val in ids.items():
            if getattr(val, "__self__", val) is w:
                ident = key
                break
        if ident:
            break
        p = getattr(p, "parent", None)
    text = getattr(w, "text", "") or ""
    if not text and hasattr(w, "children"):
        inner = [c.text for c in w.walk(restrict=True) if isinstance(c, Label) and c is not w and c.text]
        text = inner[0] if inner else ""
    text = " ".join(str(text).split())
    text = text if full or len(text) <= 24 else text[:23] + "…"
    name = f"{type(w).__name__}{'#' + ident if ident else ''}{' ' + repr(text) if text else ''}"
    return f"{screen_of(w)}: {name}" if full and screen_of(w) else name


def screen_of(w) -> str:
    """The name of the screen `w` is on ("" for the header or an overlay)."""
    p = w
    while p is not None and p is not p.parent:
        if isinstance(p, Screen):
            return p.name
        p = p.parent
    return ""


def text_cut(label) -> str:
    """What of `label`'s text is not shown: shortened to 「…」 by Kivy (`shorten`), or a texture larger
    than the label's box (text drawn past its edge, or cut by a layout that gave it less room); "" when
    all of it shows."""
    core = getattr(label, "_label", None)
    if label.shorten and core is not None and getattr(core, "is_shortened", False):
        return f"shortened to {label.width:.0f} px"
    tw, th = label.texture_size
    if tw > label.width + CUT_SLACK_PX or th > label.height + CUT_SLACK_PX:
        return f"text {tw:.0f} x {th:.0f} px in a box of {label.width:.0f} x {label.height:.0f} px"
    return ""


def is_target(w) -> bool:
    return isinstance(w, (ButtonBehavior, TextInput)) and not w.disabled


# -- the rules ---------------------------------------------------------------------------------

def audit(app, image) -> list[Violation]:
    """Every violation of the rules on what the window shows now (`image`: the window, RGB)."""
    one_dp = dp(1)
    found: list[Violation] = []
    targets = []
    for root in roots(app):
        for w, rect, visible in shown(root):
            if visible is None:
                continue
            if isinstance(w, Label) and w.text.strip() and (visible[2] - visible[0]) > 2 and (visible[3] - visible[1]) > 2:
                cut = text_cut(w)
                if cut:
                    found.append(Violation("text-cut", name_of(w, full=True), cut))
                size_dp = w.font_size / one_dp
                if size_dp < TEXT_MIN_DP - 0.01:
                    found.append(Violation("text-size", name_of(w), f"{size_dp:.1f} dp < {TEXT_MIN_DP}"))
                # a sliver at a scroll view's edge, the rest scrolled away, shows its button's edge, not
                # its text: the text's contrast is measured where it is scrolled to
                sliver = visible[3] - visible[1] < min(w.height, w.font_size) / 2
                bg = None if sliver else _mode(image, visible)
                if bg is not None:
                    fg = w.disabled_color if w.disabled else w.color
                    ratio = contrast(_over(fg, bg), bg)
                    if ratio < TEXT_CONTRAST:
                        found.append(Violation("text-contrast", name_of(w),
                                               f"{ratio:.2f}:1 < {TEXT_CONTRAST}:1 (text {_hex(_over(fg, bg))} "
                                               f"on {_hex(bg)})"))
            if is_target(w):
                targets.append((w, rect, visible))
    for w, rect, visible in targets:
        width_dp, height_dp = rect[2] / one_dp, rect[3] / one_dp
        if width_dp < TARGET_MIN_DP - 0.5 or height_dp < TARGET_MIN_DP - 0.5:
            found.append(Violation("target-size", name_of(w),
                                   f"{width_dp:.0f} x {height_dp:.0f} dp < {TARGET_MIN_DP} x {TARGET_MIN_DP}"))
        fully = visible == (rect[0], rect[1], rect[0] + rect[2], rect[1] + rect[3])
        edge = _edge(image, rect) if fully else None
        if edge is not None and edge[0] < EDGE_CONTRAST:
            found.append(Violation("edge-contrast", name_of(w), f"{edge[0]:.2f}:1 < {EDGE_CONTRAST}:1 "
                                                                f"(edge {_hex(edge[1])} against {_hex(edge[2])})"))
    # the gap between what can be touched: a target a scroll view cuts off is touched where it shows
    for n, (a, _ra, va) in enumerate(targets):
        for b, _rb, vb in targets[n + 1:]:
            if _holds(a, b) or _holds(b, a):
                continue
            gap = _gap(_rect(va), _rect(vb)) / one_dp
            if gap < TARGET_GAP_DP - 0.5:
                found.append(Violation("target-gap", f"{name_of(a)} / {name_of(b)}",
                                       f"{gap:.0f} dp < {TARGET_GAP_DP}"))
    if app.screens.current == "home" and not [w for w in Window.children if isinstance(w, ModalView)]:
        for w in app.home.walk(restrict=True):
            if isinstance(w, ScrollView) and w.children and w.children[0].height > w.height + 1:
                found.append(Violation("home-scroll", name_of(w),
                                       f"{w.children[0].height / one_dp:.0f} dp of content in {w.height / one_dp:.0f} dp"))
    return found


def _rect(box) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = box
    return (x0, y0, x1 - x0, y1 - y0)


def _holds(outer, inner) -> bool:
    p = inner.parent
    while p is not None and p is not p.parent:
        if p is outer:
            return True
        p = p.parent
    return False


def _gap(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    dx = max(bx - (ax + aw), ax - (bx + bw), 0)
    dy = max(by - (ay + ah), ay - (by + bh), 0)
    if dx == 0 and dy == 0:
        return 0.0   # touching or overlapping
    return max(dx, dy) if min(dx, dy) == 0 else (dx ** 2 + dy ** 2) ** 0.5


def _hex(rgb) -> str:
    return "#" + "".join(f"{int(round(v)):02X}" for v in rgb[:3])




def audit_both_modes(driver, png=None) -> list[dict]:
    """The rules measured on what the window shows in the mode it is in and in the other one (elder
    mode switched for the measure and back); each violation with the mode it was found in. With
    `png` (the step's picture), the other mode's picture is saved beside it when a rule is broken
    there (`NN-flow-step-elder.png`), so that what was measured can be seen."""
    from kiosk.tour.driver import save_png

    app = driver.app
    was = app.session.elder
    found = []
    try:
        for elder in (was, not was):
            if app.session.elder != elder:
                app.session.set_elder(elder)
                driver.pump(4)
            mode = "elder" if elder else "standard"
            image = driver.grab()
            broken = [{"mode": mode, **v.as_dict()} for v in audit(app, image)]
            if broken and png is not None and elder != was:
                save_png(image, Path(png).with_name(f"{Path(png).stem}-{mode}.png"), 720)
            found += broken
    finally:
        if app.session.elder != was:
            app.session.set_elder(was)
            driver.pump(4)
    return found


__all__ = ["Violation", "audit", "audit_both_modes", "contrast", "luminance"]
