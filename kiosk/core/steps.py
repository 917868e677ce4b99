"""The steps of a citizen's flow as the screen counts them: 「第 2 步 / 共 4 步」 (issue 22 item 5).

A flow declares, next to its states, the stages the citizen goes through in order and the stage each
state belongs to (`Steps`): every state has a stage or is declared to have none (the start, the end, a
dead end such as "the door did not open"), so a state added later without a place here is a failing
test (tests/test_steps.py), never a screen that silently shows no step. A stage that only some visits
take (the ID card of a pickup that needs one, paying for a print that has a price) is optional: the flow
says which it skips (`Flow.skipped_steps`) once it knows, and the count shrinks then ("of 3" becomes
"of 2"); until it knows it counts them, so the citizen is never told of fewer steps than may come.

A flow also says where the citizen waits on a device or the network, and at most how long (`Flow.waits`:
a state to the flow's attribute in seconds, a configured timeout or the device's own); `device_wait` reads
such a time from a driver's named timeouts.

No text here: the screen turns `StepOf` and the seconds into translated lines.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping


@dataclass(frozen=True)
class StepOf:
    number: int      # 1-based
    of: int


def device_wait(device, defaults: Mapping[str, float], *names: str) -> float:
    """The sum of `device`'s named timeouts `names` (its driver's `timeouts`, which the config may have
    changed), or of the driver's `defaults` where the device does not say (a stand-in in a test)."""
    timeouts = getattr(device, "timeouts", None)
    said = [getattr(timeouts, n, None) for n in names]
    return float(sum(v if isinstance(v, (int, float)) and v > 0 else defaults[n] for n, v in zip(names, said)))


class Steps:
    """`stages`: the stage names in order; `states`: each state of the flow to its stage, or None for a
    state that is not a step; `optional`: stages some visits skip."""

    def __init__(self, stages: Iterable[str], states: Mapping[Any, str | None], optional: Iterable[str] = ()):
        self.stages = tuple(stages)
        self.states = dict(states)
        self.optional = frozenset(optional)
        unknown = {s for s in self.states.values() if s is not None} - set(self.stages)
        unknown |= self.optional - set(self.stages)
        if unknown:
            raise ValueError(f"stages used but not declared: {sorted(unknown)}")

    def of(self, state: Any, skipped: Iterable[str] = ()) -> StepOf | None:
        """The step `state` is, counting only the stages not `skipped` (only optional ones may be);
        None for a state declared to be no step, or for a stage that is skipped."""
        stage = self.states.get(state)
        skip = self.optional & set(skipped)
        if stage is None or stage in skip:
            return None
        counted = [s for s in self.stages if s not in skip]
        return StepOf(counted.index(stage) + 1, len(counted))

    def undeclared(self, states: Iterable[Any]) -> list[Any]:
        """The states that neither have a stage nor are declared to have none."""
        return [s for s in states if s not in self.states]
