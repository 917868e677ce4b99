"""The visitor session: one citizen's visit, from the first touch to the wipe.

A plain state machine driven by an injected clock (seconds, monotonic):

    HOME --touch--> ACTIVE --idle_timeout_s without a touch--> WARNING
    WARNING --more_time() (at most `extensions` times)--> ACTIVE
    WARNING --warning_s run out--> leave("idle")
    any --leave(reason)--> wipe --> HOME                      every flow's step is FREE
                       --> LEAVING --flows confirm--> wipe     a step is CANCEL: called back first
                       --> stays ACTIVE ("stay" event)         a step is FINISH or CONFIRM

Every way out of a visit (the header's Home, a flow's Finish, the idle
timeout) is `leave(reason)`, and what it may do is what the visit's flows
declare for the steps they are in (kiosk/core/flow.py): the screen never
decides. While a flow's step must finish (a card terminal holding a sale, a
job printing) or be confirmed by the citizen (a reference that could not be
printed) the idle timer does not run; once the step has ended the timer
starts again, so an unattended kiosk still ends the visit by itself.

Elder mode doubles the idle timeout. The wipe forgets everything of the
visit: the card holders scrubbed from logs (`privacy.forget_people()`), then
every "wipe" listener, so each flow clears its own state. A mode that is not
a citizen's flow (the technician's) holds the session with `hold()`. The UI
calls `tick()` a few times a second.
"""
from __future__ import annotations

import enum
import logging
import math
import time
from typing import Callable

from kiosk.core import privacy
from kiosk.core.flow import Clock, Leave, Leaving, VisitFlow, strictest

log = logging.getLogger(__name__)


class Phase(enum.Enum):
    HOME = "home"  # nobody is being served
    ACTIVE = "active"  # a visit is running
    WARNING = "warning"  # the "more time?" countdown is showing
    LEAVING = "leaving"  # the visit ends once what a flow called back is confirmed ("正在取消…")


EVENTS = ("start", "warning", "extend", "wipe", "elder", "leaving", "stay")
CANCEL_WAIT_S = 90.0  # a cancel not confirmed by then: the visit stays and the flow's screen shows why


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
        self._flows: list[VisitFlow] = []
        self.leaving_reason = ""          # why the visit is being left (LEAVING)
        self._leaving_since = 0.0
        self._listeners: dict[str, list[Callable[..., None]]] = {e: [] for e in EVENTS}

    # -- listeners -------------------------------------------------------------------------
    def on(self, event: str, fn: Callable[..., None]) -> Callable[[], None]:
        """`fn` runs on `event`: start(), warning(), extend(), wipe(reason), elder(on),
        leaving(reason, Leaving) when a step is being called back, stay(reason, Leaving) when the
        visit cannot end now (the step that must finish or be confirmed first). Returns what takes
        `fn` away again (a screen given back after its visit)."""
        if event not in self._listeners:
            raise ValueError(f"unknown session event {event!r}; one of {', '.join(EVENTS)}")
        listeners = self._listeners[event]
        listeners.append(fn)
        return lambda: listeners.remove(fn) if fn in listeners else None

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
        if self.phase in (Phase.WARNING, Phase.LEAVING):
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
    def attach(self, flow: VisitFlow) -> None:
        """A flow of the visits (kiosk/core/flow.py): asked before any visit ends."""
        self._flows.append(flow)

    def rule(self, idle: bool = False) -> Leaving:
        """The strictest rule of the visit's flows for leaving now."""
        return strictest([self._rule_of(flow, idle) for flow in self._flows])

    @staticmethod
    def _rule_of(flow: VisitFlow, idle: bool) -> Leaving:
        try:
            return flow.leaving(idle)
        except Exception:  # a flow that cannot say is treated as one that must finish
            log.exception("flow %r could not say whether the visit may end", flow)
            return Leaving(Leave.FINISH, "unknown")

    def leave(self, reason: str = "done") -> Phase:
        """Any way out of the visit. Ends it now when every flow's step is FREE; calls back the steps
        that are CANCEL and ends it once they are FREE (LEAVING); stays when a step must FINISH or be
        CONFIRMed, telling the "stay" listeners which (the visit goes on from the flow's screen)."""
        if self.phase is Phase.LEAVING:
            return self.phase
        now = self.rule(idle=reason == "idle")
        if now.rule in (Leave.FINISH, Leave.CONFIRM):
            self._stay(reason, now)
            return self.phase
        if now.rule is Leave.CANCEL:
            self.phase = Phase.LEAVING
            self.leaving_reason = reason
            self._leaving_since = self.clock()
            for flow in self._flows:
                if self._rule_of(flow, reason == "idle").rule is Leave.CANCEL:
                    try:
                        flow.cancel_in_flight()
                    except Exception:
                        log.exception("flow %r could not call back its step", flow)
            log.info("visit ending (%s): calling back %s first", reason, now.why)
            self._emit("leaving", reason, now)
            return self._follow_leaving()
        self._wipe(reason)
        return self.phase

    def _follow_leaving(self) -> Phase:
        reason = self.leaving_reason
        now = self.rule(idle=reason == "idle")
        if now.free:
            self._wipe(reason)
        elif now.rule is not Leave.CANCEL or self.clock() - self._leaving_since >= CANCEL_WAIT_S:
            if now.rule is Leave.CANCEL:
                log.error("visit ending (%s): %s not confirmed after %.0f s; the visit stays", reason, now.why,
                          CANCEL_WAIT_S)
            self.phase = Phase.ACTIVE
            self._last_activity = self.clock()
            self._stay(reason, now)
        return self.phase

    def _stay(self, reason: str, now: Leaving) -> None:
        log.info("visit not ended (%s): %s must %s first", reason, now.why, now.rule.name.lower())
        if self.phase is Phase.WARNING:
            self.phase = Phase.ACTIVE
        self._last_activity = self.clock()
        self._emit("stay", reason, now)

    def hold(self, reason: str) -> None:
        """Keep the visit alive while a mode that is not a citizen's flow runs (the technician's)."""
        self._holds.add(reason)

    def release(self, reason: str) -> None:
        self._holds.discard(reason)
        self._last_activity = self.clock()

    @property
    def held(self) -> bool:
        """The idle timer is not running: a mode holds the visit, or a flow's step must finish or be
        confirmed first."""
        return bool(self._holds) or self.rule(idle=True).rule in (Leave.FINISH, Leave.CONFIRM)

    def end(self, reason: str = "done") -> Phase:
        """The visit is over (done, cancel): `leave(reason)`."""
        return self.leave(reason)

    def wipe_now(self, reason: str) -> None:
        """End the visit whatever its flows have under way; their late results are recorded, never
        shown. Only for a kiosk taken out of citizens' hands (tests between cases, a shutdown)."""
        self._wipe(reason)

    # -- time ---------------------------------------------------------------------------------
    def seconds_left(self) -> int:
        """Whole seconds left on the warning countdown (0 outside the warning)."""
        if self.phase is not Phase.WARNING:
            return 0
        return max(0, math.ceil(self.warning_s - (self.clock() - self._warning_since)))

    def tick(self) -> Phase:
        now = self.clock()
        if self.phase is Phase.LEAVING:
            return self._follow_leaving()
        if self.phase is Phase.ACTIVE and self.held:
            self._last_activity = now
        if self.phase is Phase.ACTIVE and now - self._last_activity >= self.idle_timeout_s:
            # the countdown starts when it is shown, so a late tick never shortens it
            self.phase = Phase.WARNING
            self._warning_since = now
            self._emit("warning")
        elif self.phase is Phase.WARNING and now - self._warning_since >= self.warning_s:
            self.leave("idle")
        return self.phase

    def _wipe(self, reason: str) -> None:
        privacy.forget_people()
        self.phase = Phase.HOME
        self.extensions_used = 0
        self._holds.clear()
        self.leaving_reason = ""
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
