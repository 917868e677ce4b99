"""Leaving a visit: what each flow declares about the step it is in, so every way out is equally safe.

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
from dataclasses import dataclass
from typing import Protocol


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
