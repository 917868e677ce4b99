"""The one shape of a flow (`Flow`), and what each flow declares about leaving a visit.

A flow is a plain-Python state machine: a state enum with the transitions it
allows, listeners (its screens) told of every change (each is called with the
flow; `flow.aspect` names the part that changed), an injected executor for
the blocking steps (kiosk/core/background.py) and one injected clock. Every
visit has a number; a result that comes back after its visit ended (a card
read, a network answer, a print job's state) is dropped, never shown to the
next citizen. A flow's blocking step, database writes included, runs in the
executor's `work`; what comes back on the UI thread only changes state.

Leaving a visit

A citizen may leave at any moment: the header's Home, a flow's own Back to
home or Finish, the idle timeout. What leaving may do depends on what the flow
has under way, and the flow declares it, never the screen:

    FREE     nothing is under way, or what is (a card reader waiting) stops harmlessly with the
             visit's reset: the visit ends at once
    CANCEL   something is under way that the kiosk can call back and must see called back (a code
             payment sent to the acquirer, a locker door standing open): the flow cancels it, the
             screen says "正在取消…", and the visit ends once the flow's step is FREE again
    FINISH   something is under way that cannot be called back (a card terminal holding the sale, a
             job printing, a door being unlocked): the visit stays on the flow's screen until the
             step has ended, then the citizen leaves from there
    CONFIRM  the step shows what the citizen must take away (a payment reference that could not be
             printed, a pickup code shown once): only the flow's own Finish ends the visit

`Leaving.why` names the step for the sentence the citizen reads ("printing",
"card_terminal", ...). `kiosk.core.session.VisitorSession.leave()` asks every
flow of the visit and acts on the strictest answer.
"""
from __future__ import annotations

import enum
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Generic, Mapping, Protocol, TypeVar

from kiosk.core.background import Done, Executor, Inline
from kiosk.core.listeners import tell_listeners
from kiosk.core.steps import StepOf, Steps

log = logging.getLogger(__name__)

Clock = Callable[[], float]   # monotonic seconds, injected: tests and the tour move it, nothing sleeps


class Leave(enum.IntEnum):
    # ordered: the strictest rule of the visit's flows decides
    FREE = 0
    CANCEL = 1
    FINISH = 2
    CONFIRM = 3


@dataclass(frozen=True)
class Leaving:
    rule: Leave
    why: str = ""      # snake case: the step under way, for the screen's sentence and the log

    @property
    def free(self) -> bool:
        return self.rule is Leave.FREE


FREE = Leaving(Leave.FREE)


class VisitFlow(Protocol):
    """What the session asks of each flow of a visit."""

    def leaving(self, idle: bool) -> Leaving:
        """The rule for leaving now; `idle` when it is the idle timeout, with nobody at the screen."""

    def cancel_in_flight(self) -> None:
        """Call back what is under way (the step's rule is CANCEL); the step becomes FREE once the
        device or the acquirer has confirmed. Never blocks: the flow's own worker does the waiting."""


def strictest(rules: list[Leaving]) -> Leaving:
    return max(rules, key=lambda r: r.rule, default=FREE)


# -- the flow base ----------------------------------------------------------------------------------

S = TypeVar("S", bound=enum.Enum)


class FlowError(RuntimeError):
    """A change of state the flow does not declare: a defect, named with the flow and both states."""


class Flow(Generic[S]):
    """The base of every flow. A subclass names itself and its transitions:

        class RatingFlow(Flow[RateState]):
            name = "rating"
            transitions = {RateState.IDLE: {RateState.ASKING}, RateState.ASKING: {...}, ...}

    and calls `Flow.__init__(self, initial, executor=..., clock=...)`. `go(state)` moves to a
    state the current one allows (staying is always allowed) and tells the listeners;
    `changed()` tells them of a change within the state. Every listener is called with the flow;
    `changed(aspect)` names the part that changed (`aspect`, "state" unless said), for a screen that
    redraws only that part (the guides'). `run(work, done)` runs a blocking step
    on the executor and drops `done` if the visit changed meanwhile; `new_visit()` starts the
    next visit at the initial state."""

    name: str = "flow"
    transitions: Mapping[Any, frozenset | set | tuple] = {}
    steps: Steps | None = None   # the steps the citizen is told of (kiosk/core/steps.py); None: one screen
    # the states where the citizen waits on a device or the network, each to the flow's attribute that holds
    # the longest that wait may take in seconds (a timeout of the config or of the device): the screen says it
    waits: Mapping[Any, str] = {}

    def __init__(self, initial: S, *, executor: Executor | None = None, clock: Clock = time.monotonic):
        self._initial = initial
        self._state: S = initial
        self.executor: Executor = executor if executor is not None else Inline()
        self.clock = clock
        self._listeners: list[Callable[[Any], None]] = []
        self.aspect = "state"   # the part of the flow the change being told is about (`changed`)
        self._visit = 0
        self._visit_lock = threading.Lock()

    # -- state ----------------------------------------------------------------------------------
    @property
    def state(self) -> S:
        return self._state

    def allowed(self, new: S) -> bool:
        return new is self._state or new in self.transitions.get(self._state, ())

    def go(self, new: S, tell: bool = True) -> None:
        if not self.allowed(new):
            raise FlowError(f"{self.name}: {self._state.value} -> {new.value} is not a transition of this flow")
        self._state = new
        if tell:
            self.changed()

    def on_change(self, fn: Callable[[Any], None]) -> Callable[[], None]:
        """`fn(flow)` on every change; returns what takes it away again (a screen given back after
        its visit no longer hears the flow)."""
        self._listeners.append(fn)
        return lambda: self._listeners.remove(fn) if fn in self._listeners else None

    @property
    def listeners(self) -> list[Callable[[Any], None]]:
        """The listeners `on_change` added (a test or the bench may take one away again)."""
        return self._listeners

    def changed(self, aspect: str = "state") -> None:
        """Tell every listener (`fn(flow)`) of a change; `aspect` names the part that changed, read as
        `flow.aspect` while the listeners are told (the next change names its own)."""
        self.aspect = aspect
        tell_listeners(self, self._listeners, f"{self.name} ({aspect})")

    # -- the step line -----------------------------------------------------------------------------
    def skipped_steps(self) -> set[str]:
        """The optional stages of `steps` this visit does not take (as far as the flow knows yet)."""
        return set()

    def step_of(self) -> StepOf | None:
        """「第 n 步 / 共 m 步」 of the current state; None where the flow counts no step."""
        return self.steps.of(self._state, self.skipped_steps()) if self.steps is not None else None

    def wait_s(self) -> float:
        """At most how long the wait of the current state takes (s); 0 where nothing is waited on."""
        name = self.waits.get(self._state)
        return float(getattr(self, name) or 0) if name else 0.0

    # -- visits ---------------------------------------------------------------------------------
    @property
    def visit(self) -> int:
        return self._visit

    def new_visit(self) -> None:
        """The visit ended: late results of it are dropped from now on, and the flow starts again."""
        with self._visit_lock:
            self._visit += 1
        self._state = self._initial

    def current(self, visit: int) -> bool:
        return visit == self._visit

    # -- blocking steps -------------------------------------------------------------------------
    def run(self, work: Callable[[], Any], done: Done | None = None) -> None:
        """`work` on the executor; `done(result, error)` back on the flow's thread, unless the visit
        that started it has ended by then (a late result is logged and dropped)."""
        visit = self._visit
        if done is None:
            self.executor.run(work)
            return

        def back(result, error) -> None:
            if visit != self._visit:
                log.info("%s: a result of an ended visit dropped (%s)", self.name,
                         type(error).__name__ if error else "done", extra={"flow": self.name})
                return
            done(result, error)
        self.executor.run(work, back)

    def deliver(self, fn: Callable[[], None], visit: int | None = None) -> None:
        """`fn` on the flow's own thread (a progress report from `work`), dropped when `visit` (the
        one the work was started for; default: the current one) has ended by then."""
        visit = self._visit if visit is None else visit
        self.executor.deliver(lambda: fn() if visit == self._visit else None)
