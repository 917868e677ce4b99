"""The home screen: the hall's name, the date and time, one tile per service, and where to get help.

Tiles come from the service list of `kiosk/app/root.py` (those the config
switches on), in its order; a service whose device is down shows as a disabled
tile with the reason. With no service at all the screen says where to get help
instead of offering a tile that leads nowhere.

Every tile is on the screen at once, in both modes and both orientations, never
behind a scroll. The tiles share the room the rest of the page leaves
(kiosk/screens/tiling.py); where they would come out shorter than the
preferred tile, the rest gives way one block at a time (`LAYOUTS`): the big
clock becomes one line, then the welcome goes, then the hall's name, then the
time. The titles are measured in the language and size they are shown in, so
a title never runs out of its tile, and every tile keeps room for the "out of
service" line, so a device going down never moves the tiles. On a landscape
screen the hall, the clock and the help stand in a column at the side and the
tiles take the rest.
"""
from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.lang import Builder
from kivy.metrics import dp, sp
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.layout import Layout
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk import i18n
from kiosk.core.offer import REASON_DEVICE_DOWN
from kiosk.screens import theme, tiling
from kiosk.screens import widgets  # noqa: F401  (the shared rules must load first)

# the blocks above the tiles (besides the help, always shown), from the roomiest page to the densest
LAYOUTS: tuple[frozenset[str], ...] = (
    frozenset({"hall", "welcome", "clock"}),    # the big clock: the home screen as it always was
    frozenset({"hall", "welcome", "status"}),   # the time and date in one line
    frozenset({"hall", "status"}),
    frozenset({"status"}),
)
# the services and the help alone: only where the time's line would leave tiles shorter than a normal-mode
# tile, or their texts without room
LAST_RESORT: frozenset[str] = frozenset()
# landscape: the side column's share of the width; narrower in elder mode, where the tiles need the width
SIDE_SHARE = {False: 0.34, True: 0.25}
PREFER_COLUMNS = {False: (2, 3, 1), True: (1, 2, 3)}   # normal mode, elder mode
MAX_GROWTH = 1.5          # a tile grows at most to this times the preferred height
_MEASURED_MAX = 512       # text heights remembered (titles x widths x sizes); forgotten all at once beyond


class ServiceTile(ButtonBehavior, BoxLayout):
    """One service on the home screen; disabled, with `reason`, when it cannot run now."""

    key = StringProperty()
    title = StringProperty()  # msgid
    reason = StringProperty()  # msgid; empty when available


class HomeSlot(BoxLayout):
    """One block of the page (the hall, the welcome, the clock, ...): its natural height when shown,
    none when not; its `minimum_height` is the room it takes when shown, whether it is or not."""

    shown = BooleanProperty(True)


class TileGrid(Layout):
    """The tiles in `cols` columns of `tile_h` high rows, from the top left in reading order, `gap` apart;
    their titles in `title_sp` (before the elder scale)."""

    cols = NumericProperty(2)
    tile_h = NumericProperty(200)
    gap = NumericProperty(24)
    title_sp = NumericProperty(theme.LEAD_SP)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for name in ("cols", "tile_h", "gap", "pos", "size", "children"):
            self.fbind(name, self._trigger_layout)

    def do_layout(self, *_args):
        cols = max(1, int(self.cols))
        tile_w = (self.width - (cols - 1) * self.gap) / cols
        for i, tile in enumerate(reversed(self.children)):
            row, col = divmod(i, cols)
            tile.size_hint = (None, None)
            tile.size = (tile_w, self.tile_h)
            tile.pos = (self.x + col * (tile_w + self.gap), self.top - (row + 1) * self.tile_h - row * self.gap)


class HomeScreen(Screen):
    hall = StringProperty()
    hall_en = StringProperty()   # the hall's name in the English UI ("" = `hall` in every language)
    date_text = StringProperty()
    time_text = StringProperty()
    tiles = ListProperty()  # [(key, title msgid, reason msgid or "")]
    # what the page shows now (kept by `arrange`)
    wide = BooleanProperty(False)           # a landscape screen: the side column
    side_share = NumericProperty(SIDE_SHARE[False])
    show_hall = BooleanProperty(True)
    show_welcome = BooleanProperty(True)
    show_clock = BooleanProperty(True)
    show_status = BooleanProperty(False)

    def __init__(self, **kwargs):
        self._measured: dict[tuple, float] = {}
        self._side_filler = Widget()   # landscape: pushes the help to the foot of the side column
        self._arrange_soon = Clock.create_trigger(self.arrange, -1)
        super().__init__(**kwargs)

    def on_kv_post(self, base_widget):
        super().on_kv_post(base_widget)
        app = App.get_running_app()
        if app is not None:
            for name in ("elder", "scale", "lang"):
                app.fbind(name, self._arrange_soon)
        ids = self.ids
        ids.page.fbind("size", self._arrange_soon)
        for slot in self._slots().values():
            slot.fbind("minimum_height", self._arrange_soon)
        ids.help_slot.fbind("minimum_height", self._arrange_soon)

    def show_time(self, now: dt.datetime) -> None:
        self.date_text = i18n.format_date(now.date())
        self.time_text = i18n.format_clock(now)

    def on_tiles(self, _screen, tiles) -> None:
        grid = self.ids.tiles
        shown = {t.key: t for t in grid.children}
        if [t.key for t in reversed(grid.children)] != [k for k, _t, _r in tiles]:
            grid.clear_widgets()
            shown = {}
            for key, title, _reason in tiles:
                tile = ServiceTile(key=key, title=title)
                grid.add_widget(tile)
                shown[key] = tile
        for key, _title, reason in tiles:
            shown[key].reason = reason
            shown[key].disabled = bool(reason)
        self._arrange_soon()

    # -- the page's arrangement ---------------------------------------------------------------------
    def _slots(self) -> dict[str, HomeSlot]:
        ids = self.ids
        return {"hall": ids.hall_slot, "welcome": ids.welcome_slot, "clock": ids.clock_slot,
                "status": ids.status_slot}

    def arrange(self, *_args) -> None:
        """Which blocks the page shows and how the tiles are tiled, for the room there is now."""
        page = self.ids.page
        if page.width <= 1 or page.height <= 1:
            return
        self._place_help(page.width > page.height)
        app = App.get_running_app()
        scale = app.scale if app is not None else 1.0
        elder = bool(getattr(app, "elder", False))
        self.side_share = SIDE_SHARE[elder]
        if not self.tiles:
            self._show(LAYOUTS[0])
            return
        layout, chosen, title_sp = self._plan(theme.LEAD_SP, scale, elder)
        if not chosen.fits:
            # beyond what the page holds at the tiles' size (landscape elder mode with many services, an elder
            # scale far above the default): the next size down, still larger than in normal mode
            smaller = self._plan(theme.BUTTON_SP, scale, elder)
            if smaller[1].fits or smaller[1].shortfall < chosen.shortfall:
                layout, chosen, title_sp = smaller
        self._show(layout)
        grid = self.ids.tiles
        grid.cols, grid.tile_h, grid.title_sp = chosen.cols, chosen.tile_h, title_sp

    def _plan(self, title_sp: float, scale: float, elder: bool) -> tuple[frozenset[str], tiling.Tiling, float]:
        """The layout and tiling for titles of `title_sp` (before the scale)."""
        page = self.ids.page
        pad, gap = dp(theme.PAD_DP), dp(theme.HOME_GAP_DP)
        inner_w, inner_h = page.width - 2 * pad, page.height - 2 * pad
        grid_w = (1 - self.side_share) * (inner_w - gap) if self.wide else inner_w
        natural = {name: slot.minimum_height for name, slot in self._slots().items()}
        help_h = self.ids.help_slot.minimum_height
        want_h = dp(theme.TILE_DP) * scale
        floor_h = dp(theme.TILE_DP)   # failing the preferred height, tiles as tall as a normal-mode tile

        def option(layout: frozenset[str]) -> tuple[frozenset[str], tiling.Tiling]:
            room = inner_h if self.wide else inner_h - sum(natural[name] for name in layout) - help_h
            return layout, tiling.choose(
                len(self.tiles), grid_w, room, gap=dp(theme.TILE_GAP_DP), want_h=want_h, max_h=want_h * MAX_GROWTH,
                min_h=dp(theme.TOUCH_MIN_DP), need_h=lambda w: self.tile_need_h(w, title_sp, scale),
                prefer=PREFER_COLUMNS[elder])

        # landscape: only the layouts whose side column holds its blocks and the help
        options = [option(layout) for layout in LAYOUTS
                   if not self.wide or sum(natural[name] for name in layout) + help_h <= inner_h]
        layout, chosen = tiling.best(options, floor_h) if options else option(LAST_RESORT)
        if not chosen.fits or chosen.room_h < floor_h:
            last = option(LAST_RESORT)
            if (last[1].fits and (not chosen.fits or last[1].room_h > chosen.room_h)
                    or not chosen.fits and last[1].shortfall < chosen.shortfall):
                layout, chosen = last
        return layout, chosen, title_sp

    def _show(self, layout: frozenset[str]) -> None:
        self.show_hall = "hall" in layout
        self.show_welcome = "welcome" in layout
        self.show_clock = "clock" in layout
        self.show_status = "status" in layout

    def _place_help(self, wide: bool) -> None:
        """The help card at the foot of the page (portrait) or of the side column, below a filler
        (landscape)."""
        if wide == self.wide:
            return
        help_slot, page, side = self.ids.help_slot, self.ids.page, self.ids.side
        help_slot.parent.remove_widget(help_slot)
        self.wide = wide
        if wide:
            side.add_widget(self._side_filler)
            side.add_widget(help_slot)
        else:
            side.remove_widget(self._side_filler)
            page.add_widget(help_slot)

    # -- how tall a tile must be ------------------------------------------------------------------
    def tile_need_h(self, tile_w: float, title_sp: float, scale: float) -> float:
        """The height a tile `tile_w` wide needs for the longest title (of `title_sp` before the scale)
        and an "out of service" line, at the current language (kiosk/screens/home.kv ServiceTile); inf
        where a word of a title does not fit the width at all."""
        width = tile_w - 2 * dp(theme.TILE_PAD_X_DP)
        reasons = {REASON_DEVICE_DOWN} | {reason for _k, _t, reason in self.tiles if reason}
        title_h = max(self.text_h(i18n._(title), sp(title_sp) * scale, width, bold=True)
                      for _k, title, _r in self.tiles)
        reason_h = max(self.text_h(i18n._(reason), sp(theme.SMALL_SP) * scale, width) for reason in reasons)
        return 2 * dp(theme.TILE_PAD_Y_DP) + title_h + dp(theme.TILE_SPACING_DP) + reason_h

    def text_h(self, text: str, font_size: float, width: float, bold: bool = False) -> float:
        """The height of `text` wrapped at `width`, as a Label draws it; inf when a word is wider than
        `width`, which would be broken mid-word: a Chinese title with no space is one word, so that 证照领取
        never ends as 证照领 over 取."""
        key = (text, int(font_size), int(width), bold)
        if key not in self._measured:
            if len(self._measured) >= _MEASURED_MAX:
                self._measured.clear()
            label = CoreLabel(text=text, font_size=font_size, text_size=(width, None), bold=bold, halign="left")
            label.resolve_font_name()
            too_wide = any(label.get_extents(word)[0] > width for word in text.split())
            self._measured[key] = math.inf if too_wide or width <= 0 else float(label.render()[1])
        return self._measured[key]


Builder.load_file(str(Path(__file__).with_name("home.kv")))
