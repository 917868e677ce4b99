"""Driving the real kiosk app frame by frame: for `kiosk tour`, the UI tests and the bench.

The app runs in its real window, but instead of Kivy's main loop the driver
advances it one frame at a time, injects touches through the window's input
path (as a finger would), moves the session's clock without sleeping, and
grabs what the window shows as an image.
"""
from __future__ import annotations

import itertools
import time
from pathlib import Path

from kivy.base import EventLoop, runTouchApp
from kivy.core.window import Window
from kivy.input.motionevent import MotionEvent

from kiosk.core.session import SteerableClock
from kiosk.screens.screenshot import grab_window, save_png
from kiosk.screens.shell import KioskApp


_touch_ids = itertools.count(1)
SETTLE_FRAMES = 900         # ~15 s at 60 frames a second: a search, a card read, a receipt, a sale
SETTLE_LONG_FRAMES = 3600   # an A4 job through CUPS


class Finger(MotionEvent):
    """One touch at window coordinates (pixels), posted through the window's input path."""

    def __init__(self, x: float, y: float):
        win = EventLoop.window
        super().__init__("kiosk-driver", next(_touch_ids),
                         {"x": x / max(1.0, win.width - 1.0), "y": y / max(1.0, win.height - 1.0)},
                         is_touch=True, type_id="touch")

    def depack(self, args):
        self.sx, self.sy = args["x"], args["y"]
        self.profile = ["pos"]
        super().depack(args)


class UiDriver:
    def __init__(self, app: KioskApp, clock: SteerableClock):
        self.app = app
        self.clock = clock
        self.started = False

    def start(self, max_frames: int = 600) -> None:
        # App.run() without its loop: build, put the root in the window, on_start;
        # then the input providers and the event loop, which we advance ourselves
        self.app._run_prepare()
        runTouchApp(embedded=True)
        self.started = True
        for _ in range(max_frames):
            if self.app.first_frame_drawn:
                break
            EventLoop.idle()
        if not self.app.first_frame_drawn:
            raise RuntimeError(f"the home screen was not drawn within {max_frames} frames")
        self.pump()

    def stop(self) -> None:
        if self.started:
            self.app.stop()
            EventLoop.idle()
            EventLoop.close()
            self.started = False

    def pump(self, frames: int = 3) -> None:
        """Run `frames` frames: clock events, input, layout, drawing."""
        for _ in range(frames):
            EventLoop.idle()

    def tap(self, widget) -> None:
        """A finger down and up on the centre of `widget`, scrolled into view first as a citizen
        would swipe to it (a widget clipped by a ScrollView cannot be touched where it is)."""
        self._tap_point(widget, widget.center)

    def tap_tile(self, key: str, timeout: float = 90) -> None:
        """The home screen's tile of service `key`, once it is enabled: a tile stays greyed out (and a tap
        on it does nothing) until the home screen has seen its devices come up, which on a machine busy
        with the whole test suite lags behind the flow's own binding by many seconds."""
        tile = next(t for t in self.app.home.ids.tiles.children if t.key == key)
        self.wait_for(lambda: not tile.disabled, timeout, f"the {key} tile enabled (its devices seen up)")
        self.tap(tile)

    def tap_key(self, pad, key: str) -> None:
        """A finger on one key of a pad of keys drawn as one widget (kiosk/screens/keys.py)."""
        self._tap_point(pad, pad.key_center(key))

    def _tap_point(self, widget, point: tuple[float, float]) -> None:
        if widget.get_root_window() is None:
            raise AssertionError(f"{widget!r} is not on the window")
        self.scroll_into_view(widget, point)
        self.tap_at(*widget.to_window(*point))

    def scroll_into_view(self, widget, point: tuple[float, float] | None = None) -> None:
        """Scroll every scroll view around `widget` until `point` (in the coordinates of
        `widget.pos`; its centre by default) is in the middle of it or as near as it goes."""
        from kivy.uix.scrollview import ScrollView

        point = point or widget.center
        parent = widget.parent
        while parent is not None and parent is not parent.parent:
            if isinstance(parent, ScrollView):
                wx, wy = widget.to_window(*point)
                sx, sy = parent.to_window(*parent.pos)
                if not (sx <= wx <= sx + parent.width and sy <= wy <= sy + parent.height):
                    ex, ey = parent.convert_distance_to_scroll(sx + parent.width / 2 - wx,
                                                               sy + parent.height / 2 - wy)
                    if parent.do_scroll_x:
                        parent.scroll_x = min(1.0, max(0.0, parent.scroll_x - ex))
                    if parent.do_scroll_y:
                        parent.scroll_y = min(1.0, max(0.0, parent.scroll_y - ey))
                    self.pump(2)
            parent = parent.parent

    # Kivy's ScrollView hands a tap to its children on release and delivers the release
    # 0.2 s later (ScrollView.on_touch_up schedules _do_touch_up); a tap is done after that
    TAP_SETTLE_S = 0.25

    def tap_at(self, x: float, y: float) -> None:
        from kivy.clock import Clock

        finger = Finger(x, y)
        EventLoop.post_dispatch_input("begin", finger)
        self.pump(1)
        finger.update_time_end()
        EventLoop.post_dispatch_input("end", finger)
        released = Clock.get_time()
        self.pump(2)
        for _ in range(200):  # bounded: about 0.25 s of frames
            if Clock.get_time() - released >= self.TAP_SETTLE_S:
                break
            self.pump(1)
        self.pump(1)

    def key(self, keycode: int, scancode: int = 0, text: str | None = None) -> bool:
        """A key press as the window reports one; returns True when the app consumed it
        (Escape, for example, must not close the app)."""
        handled = Window.dispatch("on_key_down", keycode, scancode, text, [])
        handled = Window.dispatch("on_keyboard", keycode, scancode, text, []) or handled
        Window.dispatch("on_key_up", keycode, scancode)
        self.pump(2)
        return bool(handled)

    def settle(self, done, frames: int = SETTLE_FRAMES) -> bool:
        """Run frames until `done()` (a worker reported back) or `frames` are spent; `done()` then.
        For work inside the app, bounded in frames rather than seconds (see `wait_for`)."""
        for _ in range(frames):
            if done():
                self.pump(2)
                return True
            self.pump(1)
        return done()

    def wait_for(self, cond, timeout: float = 20.0, what: str = "", settle: int = 2) -> None:
        """Pump frames until `cond()` holds, then `settle` more: for what runs in real time outside
        the UI (simulated devices, the platform, CUPS). Raises AssertionError naming `what`."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump(1)
            if cond():
                self.pump(settle)
                return
            time.sleep(0.005)
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what or cond}")

    def advance(self, seconds: float) -> None:
        """Move the session's clock forward and let the app see it (no sleeping)."""
        self.clock.advance(seconds)
        self.app._tick()
        self.pump()

    def reset(self) -> None:
        """Back to a fresh home screen, as after a visitor's session is wiped."""
        self.app.session.wipe_now("reset")
        self.pump()

    def grab(self):
        """What the window shows now, as a Pillow image (RGB)."""
        self.pump(1)
        return grab_window()

    def screenshot(self, path: str | Path, max_width: int | None = 720) -> Path:
        """Save what the window shows as a PNG (downscaled to `max_width`, kept small)."""
        return save_png(self.grab(), path, max_width)
