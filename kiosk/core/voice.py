"""Voice guidance: each screen speaks its title and what to do next, when the citizen turns voice on.

What is said comes from the screen (kiosk/screens/voice.py reads the title and the instructions
shown); this module decides how it is said and when:

- `speakable()`: codes and numbers of four digits or more (pickup codes, phone numbers, ticket
  numbers such as A012) are read digit by digit; money (¥1.50, 1.50 元) as an amount (1元5角,
  1 yuan 50 fen); a masked identity (张*, 110***...1234) and anything that looks like an ID number
  is never read out, neither whole nor in part.
- `Voice.screen()` cuts short whatever is still being said and says the new screen's lines;
  `Voice.say()` adds lines after what is queued (a flow's message on the same screen).
- The speech runs on its own thread; the engine (kiosk/hardware/speech.py) is made when voice is
  first used. At the end of every visit the volume goes back to the default and voice to its
  default state (ADA 707.5), and nothing of the visit stays queued.
"""
from __future__ import annotations

import logging
import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterable

from kiosk.hardware.speech import SpeechEngine, SpeechUnavailable

log = logging.getLogger(__name__)

VOLUME_STEP = 10
VOLUME_MIN, VOLUME_MAX = 10, 100

# a masked identity or any part of one: a run with the mask character (张*、110***********1234, 张**)
_MASKED = re.compile(r"[^\s：:，,。；;（）()]*[*＊][^\s：:，,。；;（）()]*")
# a whole ID number (18 digits, the last maybe X; the old 15) standing in the text unmasked
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
# money: ¥1.50 / ￥1.50 / 1.50 元 / 1.50元
_MONEY = re.compile(r"[¥￥]\s?(\d+)(?:\.(\d{1,2}))?|(\d+)(?:\.(\d{1,2}))?\s?元")
# a code: four digits or more, or letters and digits together (A012, Z001); read a character at a time
_CODE = re.compile(r"(?<![0-9A-Za-z])(?:[A-Za-z]{1,3}\d{2,}|\d{4,})(?![0-9A-Za-z])")
# marks espeak-ng reads aloud or stumbles over, said as a pause instead
_NOISE = re.compile(r"[·•|/→←…]+")


def _amount(yuan: str, fraction: str | None, language: str) -> str:
    fen = int(yuan) * 100 + int((fraction or "0").ljust(2, "0"))
    whole, jiao, rest = fen // 100, fen // 10 % 10, fen % 10
    if language == "zh_CN":
        out = f"{whole}元" if whole or not (jiao or rest) else ""
        if jiao:
            out += f"{jiao}角"
        if rest:
            out += ("零" if whole and not jiao else "") + f"{rest}分"
        return out
    parts = [f"{whole} yuan"] if whole or not fen % 100 else []
    if fen % 100:
        parts.append(f"{fen % 100} fen")
    return " ".join(parts)


def speakable(text: str, language: str) -> str:
    """`text` as it is to be said: identities left out, money as amounts, codes digit by digit."""
    text = _MASKED.sub(" ", text)
    text = _ID_NUMBER.sub(" ", text)
    text = _MONEY.sub(lambda m: _amount(m.group(1) or m.group(3), m.group(2) or m.group(4), language), text)
    text = _CODE.sub(lambda m: " ".join(m.group(0).upper()), text)
    text = _NOISE.sub("，" if language == "zh_CN" else ", ", text)
    return re.sub(r"\s+", " ", text).strip(" ，,")


@dataclass(frozen=True)
class Line:
    text: str
    language: str
    generation: int


class Voice:
    """The kiosk's voice: on or off, a volume, and a queue of lines spoken one after another."""

    def __init__(self, make_engine: Callable[[], SpeechEngine], *, on_by_default: bool = False,
                 volume: int = 60, headset: Callable[[], bool] | None = None):
        self._make_engine = make_engine
        self.default_on = on_by_default
        self.default_volume = max(VOLUME_MIN, min(VOLUME_MAX, volume))
        self._headset = headset
        self._cv = threading.Condition()
        self._queue: deque[Line] = deque()
        self._generation = 0
        self._engine: SpeechEngine | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._listeners: list[Callable[[], None]] = []
        self._closers: list[Callable[[], None]] = []
        self.unavailable: str | None = None   # why the engine could not be made, once tried
        self.volume = self.default_volume
        self.on = self._start_on()

    # -- state the screen shows -------------------------------------------------------------------
    def _start_on(self) -> bool:
        """On at the start of a visit: the config's default, or a headset plugged in."""
        if self.default_on:
            return True
        try:
            return bool(self._headset and self._headset())
        except OSError as e:   # the jack cannot be read: the default stands
            log.warning("could not read the headset jack: %s", e)
            return False

    def on_change(self, fn: Callable[[], None]) -> None:
        """`fn()` runs (on the caller's thread) when voice is turned on or off or the volume changes."""
        self._listeners.append(fn)

    def _changed(self) -> None:
        for fn in list(self._listeners):
            fn()

    def set_on(self, on: bool) -> None:
        if on != self.on:
            self.on = on
            if not on:
                self.interrupt()
            self._changed()

    def toggle(self) -> None:
        self.set_on(not self.on)

    def headset_changed(self, plugged: bool) -> None:
        """A headset went in: voice on, as the citizen asked by plugging it in (from the jack's thread).
        It came out: voice back to how a visit starts, so speech meant for one ear is not left on the
        hall's speakers."""
        self.set_on(True if plugged else self.default_on)

    def closes_with(self, fn: Callable[[], None]) -> None:
        """`fn()` runs when the voice is closed (what follows the headset jack)."""
        self._closers.append(fn)

    def louder(self) -> None:
        self._set_volume(self.volume + VOLUME_STEP)

    def quieter(self) -> None:
        self._set_volume(self.volume - VOLUME_STEP)

    def _set_volume(self, volume: int) -> None:
        volume = max(VOLUME_MIN, min(VOLUME_MAX, volume))
        if volume != self.volume:
            self.volume = volume
            self._changed()

    # -- speaking ---------------------------------------------------------------------------------
    def screen(self, lines: Iterable[str], language: str) -> None:
        """A new screen: what is still being said is cut short, then `lines` are said."""
        if not self.on:
            return
        self.interrupt()
        self.say(lines, language)

    def say(self, lines: Iterable[str], language: str) -> None:
        """`lines` after whatever is queued."""
        if not self.on or self._closed:
            return
        with self._cv:
            for raw in lines:
                text = speakable(raw, language)
                if text:
                    self._queue.append(Line(text, language, self._generation))
            self._cv.notify()
        self._ensure_thread()

    def interrupt(self) -> None:
        """Nothing more of what is queued is said; the line being said is cut short."""
        with self._cv:
            self._generation += 1
            self._queue.clear()
            engine = self._engine
        if engine is not None:
            engine.stop()

    def end_of_visit(self) -> None:
        """The visit is over: silence, the default volume, voice back to how a visit starts."""
        self.interrupt()
        self.volume = self.default_volume
        self.on = self._start_on()
        self._changed()

    def idle(self, timeout: float | None = None) -> bool:
        """Wait until every queued line has been said (tests and the tour); False on timeout."""
        with self._cv:
            return self._cv.wait_for(lambda: not self._queue and not self._busy, timeout)

    def close(self) -> None:
        for fn in self._closers:
            fn()
        with self._cv:
            self._closed = True
            self._queue.clear()
            self._cv.notify_all()
        if self._engine is not None:
            self._engine.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- the speaking thread ------------------------------------------------------------------------
    _busy = False

    def _ensure_thread(self) -> None:
        with self._cv:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="voice", daemon=True)
                self._thread.start()

    def _engine_or_none(self) -> SpeechEngine | None:
        if self._engine is None and self.unavailable is None:
            try:
                self._engine = self._make_engine()
            except SpeechUnavailable as e:
                self.unavailable = str(e)
                log.warning("voice guidance is not available: %s", e)
        return self._engine

    def _run(self) -> None:
        while True:
            with self._cv:
                self._busy = False
                self._cv.notify_all()
                self._cv.wait_for(lambda: self._queue or self._closed)
                if self._closed:
                    return
                line = self._queue.popleft()
                if line.generation != self._generation:
                    continue
                self._busy = True
                volume = self.volume
            engine = self._engine_or_none()
            if engine is None:
                with self._cv:
                    self._queue.clear()
                continue
            try:
                engine.say(line.text, line.language, volume)
            except Exception:   # one line that could not be said never silences the kiosk for good
                log.exception("the voice could not say a line")


__all__ = ["Voice", "speakable", "VOLUME_MAX", "VOLUME_MIN", "VOLUME_STEP"]
