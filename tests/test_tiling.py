"""How the home screen's tiles share their room (kiosk/screens/tiling.py), without a window: a text that
needs 100 px of height per 400 px it lacks in width stands in for the measured titles."""
from __future__ import annotations

import math

import pytest

from kiosk.screens import tiling

GAP, WANT, MAX, MIN = 24.0, 200.0, 300.0, 60.0


def need(min_width: float = 150.0, lines_at=(400.0, 250.0)):
    """One line (60 px + 40 px of padding and reason) from lines_at[0] px wide, two from lines_at[1], three
    below; nothing under `min_width` (a word wider than the tile)."""
    def need_h(w: float) -> float:
        if w < min_width:
            return math.inf
        return 40 + 60 * (1 if w >= lines_at[0] else 2 if w >= lines_at[1] else 3)
    return need_h


def choose(n, width, height, prefer=(2, 3, 1), need_h=None):
    return tiling.choose(n, width, height, gap=GAP, want_h=WANT, max_h=MAX, min_h=MIN, need_h=need_h or need(),
                         prefer=prefer)


def test_column_counts_are_tried_as_preferred_then_from_one_up_never_more_than_tiles():
    assert tiling.column_order(9, (2, 3, 1)) == [2, 3, 1, 4, 5, 6, 7, 8, 9]
    assert tiling.column_order(1, (2, 3, 1)) == [1]
    assert tiling.column_order(3, (1, 2, 3)) == [1, 2, 3]


def test_a_tiling_divides_the_room_and_caps_the_tile_height():
    t = tiling.tiling(5, 2, 984, 1000, gap=GAP, want_h=WANT, max_h=MAX, min_h=MIN, need_h=need())
    assert (t.cols, t.rows) == (2, 3)
    assert t.tile_w == pytest.approx((984 - 24) / 2) and t.room_h == pytest.approx((1000 - 48) / 3)
    assert t.tile_h == MAX and t.fits and t.good


@pytest.mark.parametrize("n", range(1, 10))
def test_nine_or_fewer_tiles_fit_a_portrait_page_and_the_rows_hold_them(n):
    t = choose(n, 984, 1000)
    assert t.fits and t.good
    assert t.cols * t.rows >= n > t.cols * (t.rows - 1)
    assert t.rows * t.tile_h + (t.rows - 1) * GAP <= 1000 and t.cols * t.tile_w + (t.cols - 1) * GAP <= 984 + 1e-6


def test_two_columns_as_the_home_screen_had_until_they_come_out_too_short_then_three():
    assert choose(4, 984, 1000).cols == 2
    assert choose(7, 984, 1000).cols == 2             # four rows of 232 px
    nine = choose(9, 984, 1000)                        # five rows would be 180 px: three columns
    assert (nine.cols, nine.rows) == (3, 3) and nine.good


def test_elder_mode_prefers_one_column_while_it_is_tall_enough():
    assert choose(3, 984, 1000, prefer=(1, 2, 3)).cols == 1
    assert choose(5, 984, 1000, prefer=(1, 2, 3)).cols == 2


def test_a_title_wider_than_a_narrow_tile_rules_out_its_column_count():
    # three columns leave 312 px, under the 350 px a word needs: two columns of five rows, short as they are
    t = choose(9, 984, 1000, need_h=need(min_width=350))
    assert t.cols == 2 and t.fits and not t.good
    assert t.room_h == pytest.approx((1000 - 4 * GAP) / 5)


def test_where_nothing_is_good_the_fitting_tiling_with_the_tallest_tiles_wins():
    t = choose(9, 984, 700, need_h=need(min_width=350))
    assert t.cols == 2 and t.fits and not t.good     # 121 px rows of one-line titles (100 px)


def test_where_nothing_fits_the_tiling_nearest_to_fitting_is_taken_never_a_word_cut_up():
    t = choose(9, 984, 500, need_h=need(min_width=350))
    assert not t.fits and t.need_h < math.inf and t.cols == 2
    assert t.shortfall == pytest.approx(100 - (500 - 4 * GAP) / 5)


def test_the_roomiest_layout_with_a_good_tiling_wins_else_tall_enough_else_the_tallest():
    def over(height):
        return tiling.tiling(4, 2, 984, height, gap=GAP, want_h=WANT, max_h=MAX, min_h=MIN, need_h=need())

    good, fair, short, none = over(800), over(380), over(300), over(150)   # rows of 388, 178, 138, 63 px
    assert good.good and fair.fits and not fair.good and short.fits and not none.fits
    assert tiling.best([("clock", short), ("line", good)], floor_h=150)[0] == "line"
    assert tiling.best([("clock", fair), ("line", short), ("bare", good)], floor_h=150)[0] == "bare"
    assert tiling.best([("clock", short), ("line", fair), ("bare", fair)], floor_h=150)[0] == "line"
    assert tiling.best([("clock", none), ("line", short), ("bare", fair)], floor_h=250)[0] == "bare"
    assert tiling.best([("clock", none)], floor_h=150)[0] == "clock"
