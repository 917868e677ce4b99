"""What the voice says of the screen: its title and what to do next, read from the widgets shown.

Every screen already shows its title (`Headline` and the styles made from it, or a `PageTitle` in a
bar beside a back button), where a flow has steps its step line (`StepLine`, 「第 2 步 / 共 4 步」,
said as 「第 2 步，共 4 步」), its instructions (`Body`) and where the citizen waits on a device or the
network its wait line (`WaitLine`, 「最长需要 45 秒。」); a step panel that is not shown is out of the widget tree
(kiosk/screens/locker_widgets.py StepPanels). So the reader needs nothing from each screen: a few
times a second, while voice is on, it reads the shown titles, the step, the first instructions and
the wait, in that order, of the overlay that is open or else the current screen, and when they change it hands
them to the voice (kiosk/core/voice.py): a new title cuts short what is being said, a new
instruction on the same screen (a wrong code, a door that opened) is said after it. A countdown
ticking in the text is not a change.

The keypad's `*` (or F1) turns voice on and off from any screen, for a citizen who cannot see the
home screen's voice key; the `+` and `-` keys of a keyboard or keypad change the volume; the volume and voice itself go
back to their defaults at the end of the visit (the core's `end_of_visit`).
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from kivy.clock import Clock
from kivy.core.window import Window

from kiosk.screens.steps import NBSP, StepLine, WaitLine
from kiosk.screens.widgets import Body, Headline, PageTitle, on_window

if TYPE_CHECKING:  # pragma: no cover
    from kiosk.core.voice import Voice
    from kiosk.screens.shell import KioskApp

LOOK_S = 0.4          # how often the shown text is compared with what was last said
MOST_TITLES = 2
MOST_INSTRUCTIONS = 3
MOST_CHARS = 160      # of one instruction: the voice reads what to do, not a whole guide

_DIGITS = re.compile(r"\d+")
_KEYS_LOUDER = {"+", "=", "kp_add"}   # '=' is the unshifted '+' of a keyboard
_KEYS_QUIETER = {"-", "kp_subtract"}


def _shown(widget) -> bool:
    """Some text, and shown (widgets.on_window: a note folded away in a hidden card is not)."""
    return bool(widget.text.strip()) and on_window(widget)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= MOST_CHARS:
        return text
    cut = max(text.rfind(p, 0, MOST_CHARS) for p in "。.；;！!？?")
    return text[:cut + 1] if cut > 40 else text[:MOST_CHARS]


def _said_as(text: str) -> str:
    """A step or wait line as it is said: the slash of 「第 2 步 / 共 4 步」 is a pause, not a word, and the
    unbreakable spaces that keep a number with its unit are plain ones."""
    return " ".join(text.replace(NBSP, " ").replace(" / ", "，").split())


def shown_lines(root) -> list[str]:
    """What `root` shows, as it is read: the titles, the step line, the first instructions, the wait
    line; each kind top to bottom."""
    labels = [w for w in root.walk(restrict=True)
              if isinstance(w, (Headline, PageTitle, Body, StepLine, WaitLine)) and _shown(w)]
    labels.sort(key=lambda w: (-w.to_window(w.x, w.top)[1], w.to_window(w.x, w.y)[0]))
    titles = [_clip(w.text) for w in labels if isinstance(w, (Headline, PageTitle))][:MOST_TITLES]
    step = [_said_as(w.text) for w in labels if isinstance(w, StepLine)][:1]
    told = [_clip(w.text) for w in labels if isinstance(w, Body)][:MOST_INSTRUCTIONS]
    wait = [_said_as(w.text) for w in labels if isinstance(w, WaitLine)][:1]
    return titles + step + told + wait


class ScreenReader:
    """Hands what the screen shows to the voice when it changes (made once per process)."""

    def __init__(self, app: "KioskApp", voice: "Voice"):
        self.app = app
        self.voice = voice
        self._said: list[str] = []
        self._titles: list[str] = []
        Clock.schedule_interval(self._look, LOOK_S)
        Window.bind(on_key_down=self._on_key)
        voice.on_change(lambda: Clock.schedule_once(self._voice_changed, 0))

    def _voice_changed(self, _dt=None) -> None:
        self.app.voice_on = self.voice.on
        if not self.voice.on:
            self._said, self._titles = [], []

    def showing(self):
        """The overlay open over the screen, else the current screen."""
        for overlay in (self.app.leave_overlay, self.app.idle_overlay):
            if overlay is not None and overlay.parent is not None:
                return overlay
        return self.app.screens.current_screen

    def _look(self, _dt=None) -> None:
        if not self.voice.on:
            return
        root = self.showing()
        if root is None:
            return
        lines = shown_lines(root)
        key = [_DIGITS.sub("#", line) for line in lines]
        if key == [_DIGITS.sub("#", line) for line in self._said]:
            return
        titles = lines[:sum(1 for _ in self._titles_of(root))]
        if titles != self._titles:
            self.voice.screen(lines, self.app.lang)
        else:
            before = {_DIGITS.sub("#", line) for line in self._said}
            self.voice.say([line for line in lines if _DIGITS.sub("#", line) not in before], self.app.lang)
        self._said, self._titles = lines, titles

    @staticmethod
    def _titles_of(root):
        return [w for w in root.walk(restrict=True) if isinstance(w, (Headline, PageTitle)) and _shown(w)][:MOST_TITLES]

    def _on_key(self, _window, key, _scancode, codepoint, _modifiers) -> bool:
        # voice on and off from any screen without seeing it: the keypad's * (268) or F1 (282), or *
        if key in (268, 282) or codepoint == "*":
            self.app.toggle_voice()
            return True
        if not self.voice.on:
            return False
        name = codepoint or ""
        if name in _KEYS_LOUDER or key == 270:      # 270: the keypad's +
            self.voice.louder()
            self.voice.say([f"{self.voice.volume}%"], self.app.lang)
            return True
        if name in _KEYS_QUIETER or key == 269:     # 269: the keypad's -
            self.voice.quieter()
            self.voice.say([f"{self.voice.volume}%"], self.app.lang)
            return True
        return False


__all__ = ["ScreenReader", "shown_lines"]
