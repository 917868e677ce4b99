"""The visitor session: one citizen's visit, from the first touch to the wipe.

A plain state machine driven by an injected clock (seconds, monotonic):

    HOME --touch--> ACTIVE --idle_timeout_s without a touch--> WARNING
    WARNING --more_time() (at most `extensions` times)--> ACTIVE
    WARNING --warning_s run out--> wipe --> HOME
    any --end()--> wipe --> HOME

Elder mode doubles the idle timeout. The wipe forgets everything of the
visit: the card holders scrubbed from logs (`privacy.forget_people()`), then
every "wipe" listener, so each flow clears its own state. While a flow holds
the session (a payment waiting for the cardholder, a door being opened) the
idle timer does not run. The UI calls `tick()` a few times a second.
"""
from __future__ import annotations

import enum
import logging
import math
import time
from typing import Callable

from kiosk.core import privacy

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class Phase(enum.Enum):
    HOME = "home"  # nobody is being served
    ACTIVE = "active"  # a visit is running
    WARNING = "warning"  # the "more time?" countdown is showing


EVENTS = ("start", "warning", "extend", "wipe", "elder")


class VisitorSession:
    def __init__(self, *, idle_timeout_s: float, warning_s: float, extensions: int,
                 clock: Clock = time.monotonic):
        if idle_timeout_s <= 0 or warning_s <= 0 or extensions < 0:
            raise ValueError("idle_timeout_s and warning_s must be positive, extensions not negative")
        self.base_timeout_s = float(idle_timeout_s)
        self.warning_s = float(warning_s)
        self.extensions = int(extensions)
        self.clock = clock
        self.phase = Phase.HOME
        self.elder = False
        self.extensions_used = 0
        self.visits_ended = 0
        self._last_activity = clock()
        self._warning_since = 0.0
        self._holds: set[str] = set()
        self._listeners: dict[str, list[Callable[..., None]]] = {e: [] for e in EVENTS}

    # -- listeners -------------------------------------------------------------------------
    def on(self, event: str, fn: Callable[..., None]) -> None:
        """`fn` runs on `event`: start(), warning(), extend(), wipe(reason), elder(on)."""
        if event not in self._listeners:
            raise ValueError(f"unknown session event {event!r}; one of {', '.join(EVENTS)}")
        self._listeners[event].append(fn)

    def _emit(self, event: str, *args) -> None:
        for fn in list(self._listeners[event]):
            try:
                fn(*args)
            except Exception:  # one broken listener must not keep the others (or the wipe) from running
                log.exception("session %s listener %r failed", event, fn)

    # -- what the citizen does ---------------------------------------------------------------
    @property
    def idle_timeout_s(self) -> float:
        return self.base_timeout_s * (2 if self.elder else 1)

    @property
    def extensions_left(self) -> int:
        return self.extensions - self.extensions_used

    def touch(self) -> None:
        """Any touch or key press. Starts a visit at home; during the warning only
        `more_time()` counts, so a stray touch beside the button does not dismiss it."""
        if self.phase is Phase.WARNING:
            return
        self._last_activity = self.clock()
        if self.phase is Phase.HOME:
            self.phase = Phase.ACTIVE
            self._emit("start")

    def more_time(self) -> bool:
        """The "more time" button: back to the visit, if extensions remain."""
        if self.phase is not Phase.WARNING or self.extensions_left <= 0:
            return False
        self.extensions_used += 1
        self.phase = Phase.ACTIVE
        self._last_activity = self.clock()
        self._emit("extend")
        return True

    def set_elder(self, on: bool) -> None:
        on = bool(on)
        if on != self.elder:
            self.elder = on
            self._emit("elder", on)

    # -- flows --------------------------------------------------------------------------------
    def hold(self, reason: str) -> None:
        """Keep the visit alive while something the citizen waits for is under way."""
        self._holds.add(reason)

    def release(self, reason: str) -> None:
        self._holds.discard(reason)
        self._last_activity = self.clock()

    @property
    def held(self) -> bool:
        return bool(self._holds)

    def end(self, reason: str = "done") -> None:
        """The visit is over (done, cancel): wipe it now."""
        self._wipe(reason)

    # -- time ---------------------------------------------------------------------------------
    def seconds_left(self) -> int:
        """Whole seconds left on the warning countdown (0 outside the warning)."""
        if self.phase is not Phase.WARNING:
            return 0
        return max(0, math.ceil(self.warning_s - (self.clock() - self._warning_since)))

    def tick(self) -> Phase:
        now = self.clock()
        if self._holds:
            self._last_activity = now
        if self.phase is Phase.ACTIVE and now - self._last_activity >= self.idle_timeout_s:
            # the countdown starts when it is shown, so a late tick never shortens it
            self.phase = Phase.WARNING
            self._warning_since = now
            self._emit("warning")
        elif self.phase is Phase.WARNING and now - self._warning_since >= self.warning_s:
            self._wipe("idle")
        return self.phase

    def _wipe(self, reason: str) -> None:
        privacy.forget_people()
        self.phase = Phase.HOME
        self.extensions_used = 0
        self._holds.clear()
        self._last_activity = self.clock()
        self.visits_ended += 1
        self.set_elder(False)  # the next citizen starts from the standard screen
        self._emit("wipe", reason)
        log.info("visit ended (%s)", reason)


class SteerableClock:
    """A monotonic clock that can be moved forward, for the tour and tests: the session's
    timers jump, nothing sleeps. With `follow_real_time=False` it moves only when told."""

    def __init__(self, follow_real_time: bool = True, start: float = 1000.0):
        self.follow = follow_real_time
        self._offset = 0.0
        self._start = start
        self._t0 = time.monotonic()

    def __call__(self) -> float:
        real = time.monotonic() - self._t0 if self.follow else 0.0
        return self._start + real + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds
