"""How the home screen's service tiles share the room they have: columns, rows and tile size for n tiles.

Plain arithmetic over sizes in pixels, no Kivy, so that it is tested without a
window (tests/test_tiling.py). The home screen (kiosk/screens/home.py) measures
its texts and hands in `need_h`: how tall a tile must be at a given width for
its title and reason to fit.

A tiling *fits* when every tile's text fits in the width its columns leave and
the height its rows leave, and a tile is no smaller than a touch target; it is
*good* when it also gives each tile the preferred height (today's tile,
`theme.TILE_DP` times the elder scale). Column counts are tried in the mode's
order of preference (two columns in normal mode, one in elder mode, as the home
screen always had), and the first good tiling wins; failing that, the fitting
one with the tallest tiles. Tiles never grow past `max_h`: one service is a
large button, not the whole screen. The home screen tries its layouts the same
way (`best`): the roomiest with a good tiling; failing that, the roomiest whose
tiles are at least as tall as a normal-mode tile; failing that, the tallest.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Tiling:
    cols: int
    rows: int
    tile_w: float
    tile_h: float      # as shown: the row's room, at most max_h
    room_h: float      # the room each row has
    need_h: float      # the height the tiles' texts need at tile_w (inf: a word wider than the tile)
    fits: bool         # every text fits, and each tile is at least a touch target
    good: bool         # fits, at the preferred height or taller

    @property
    def shortfall(self) -> float:
        """How much higher the rows would have to be for the texts (0 when they fit)."""
        return max(0.0, self.need_h - self.room_h)


def column_order(n: int, prefer: Sequence[int]) -> list[int]:
    """The column counts to try for n tiles: the preferred ones in their order, then the others from
    one upward; never more columns than tiles."""
    order = [c for c in prefer if 1 <= c <= n]
    return order + [c for c in range(1, n + 1) if c not in order]


def tiling(n: int, cols: int, width: float, height: float, *, gap: float, want_h: float, max_h: float,
           min_h: float, need_h: Callable[[float], float]) -> Tiling:
    """n tiles in `cols` columns over width x height, `gap` between them."""
    rows = math.ceil(n / cols)
    tile_w = (width - (cols - 1) * gap) / cols
    room_h = (height - (rows - 1) * gap) / rows
    need = need_h(tile_w) if tile_w > 0 else math.inf
    fits = tile_w >= min_h and room_h >= min_h and room_h >= need
    return Tiling(cols, rows, tile_w, max(0.0, min(room_h, max_h)), room_h, need, fits, fits and room_h >= want_h)


def choose(n: int, width: float, height: float, *, gap: float, want_h: float, max_h: float, min_h: float,
           need_h: Callable[[float], float], prefer: Sequence[int]) -> Tiling:
    """The tiling of n >= 1 tiles: the first good one in the order of `prefer`, else the fitting one
    with the tallest tiles, else (nothing fits: an elder scale far above the default) the one whose texts
    come nearest to fitting."""
    candidates = [tiling(n, cols, width, height, gap=gap, want_h=want_h, max_h=max_h, min_h=min_h, need_h=need_h)
                  for cols in column_order(n, prefer)]
    good = [t for t in candidates if t.good]
    if good:
        return good[0]
    fitting = [t for t in candidates if t.fits]
    if fitting:
        return max(fitting, key=lambda t: t.room_h)
    return nearest(candidates)


def nearest(tilings: Iterable[Tiling]) -> Tiling:
    """Where none fits: the one whose texts come nearest to fitting, then the tallest."""
    return min(tilings, key=lambda t: (t.shortfall, -t.room_h))


def best(options: Iterable[tuple[T, Tiling]], floor_h: float) -> tuple[T, Tiling]:
    """Of (layout, its tiling) from the roomiest layout to the densest: the first whose tiling is good;
    else the first that fits with tiles at least `floor_h` high; else the one whose fitting tiles are
    tallest (the roomier of equals); else the one nearest to fitting."""
    options = list(options)
    for option in options:
        if option[1].good:
            return option
    fitting = [o for o in options if o[1].fits]
    for option in fitting:
        if option[1].room_h >= floor_h:
            return option
    if fitting:
        return max(fitting, key=lambda o: o[1].room_h)
    closest = nearest(t for _layout, t in options)
    return next(o for o in options if o[1] is closest)
