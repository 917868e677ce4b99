"""Rating a completed service (好差评): five levels, never pre-selected, always skippable.

    idle --start(service, transaction id)--> asking --choose(level)--> asking (a level chosen)
    asking --submit()--> saving --written--> done (a `rating` transaction)
                                --the write failed--> asking (logged; the citizen may submit again)
    asking --skip()--> skipped (nothing recorded)
    a chosen level of 不满意 or 非常不满意 shows the reasons to choose from (any number, none required)

The write runs on the flow's executor (kiosk/core/background.py), off the UI thread.

The `rating` transaction carries the service, the id of the service's own
transaction, the level and the chosen reasons: no personal data. A rating is
the citizen's own: nothing is chosen for them, and leaving without choosing
records nothing.
"""
from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from kiosk.core.background import Executor
from kiosk.core.flow import Flow
from kiosk.i18n import N_
from kiosk.store import PerThread, transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Level:
    value: int      # 5 = 非常满意 ... 1 = 非常不满意
    key: str        # as the platform receives it
    title: str      # msgid


LEVELS = (
    Level(5, "very_satisfied", N_("Very satisfied")),
    Level(4, "satisfied", N_("Satisfied")),
    Level(3, "fairly_satisfied", N_("Fairly satisfied")),
    Level(2, "dissatisfied", N_("Dissatisfied")),
    Level(1, "very_dissatisfied", N_("Very dissatisfied")),
)
LOW = (1, 2)   # these ask for reasons


class RateState(str, enum.Enum):
    IDLE = "idle"
    ASKING = "asking"
    SAVING = "saving"
    DONE = "done"
    SKIPPED = "skipped"


class RatingFlow(Flow[RateState]):
    name = "rating"
    transitions = {
        RateState.IDLE: {RateState.ASKING},
        RateState.ASKING: {RateState.SAVING, RateState.SKIPPED},
        RateState.SAVING: {RateState.DONE, RateState.ASKING},
    }

    def __init__(self, store, outbox, reasons: list[str], *, executor: Executor | None = None):
        super().__init__(RateState.IDLE, executor=executor)
        self.outbox = outbox
        self.reasons = list(reasons)   # msgids (or any text an operator configured)
        self._conn = PerThread(store.connect)
        self.reset()

    def reset(self) -> None:
        """The visit ended: nothing of its rating stays, and a write still under way is not shown."""
        self.new_visit()
        self.service = ""
        self.linked_transaction_id: str | None = None
        self.level: int | None = None
        self.chosen_reasons: list[str] = []
        self.transaction_id: str | None = None
        self.changed()

    @property
    def asks_reasons(self) -> bool:
        return self.level in LOW

    def start(self, service: str, linked_transaction_id: str | None) -> None:
        """Ask for a rating of `service`, whose own transaction is `linked_transaction_id`."""
        self.reset()
        self.service = service
        self.linked_transaction_id = linked_transaction_id
        self.go(RateState.ASKING)

    def choose(self, level: int) -> None:
        if self.state is not RateState.ASKING:
            return
        if level not in {lv.value for lv in LEVELS}:
            raise ValueError(f"a rating level is 1-5, not {level!r}")
        self.level = level
        if level not in LOW:
            self.chosen_reasons = []
        self.changed()

    def toggle_reason(self, reason: str) -> None:
        if self.state is not RateState.ASKING or not self.asks_reasons or reason not in self.reasons:
            return
        if reason in self.chosen_reasons:
            self.chosen_reasons.remove(reason)
        else:
            self.chosen_reasons.append(reason)
        self.changed()

    def submit(self) -> bool:
        """Record the rating (on the executor); False while no level is chosen (nothing is ever chosen
        for the citizen)."""
        if self.state is not RateState.ASKING or self.level is None:
            return False
        level = next(lv for lv in LEVELS if lv.value == self.level)
        data = {"service": self.service, "service_transaction_id": self.linked_transaction_id,
                "level": level.value, "level_key": level.key,
                "reasons": [r for r in self.reasons if r in self.chosen_reasons]}
        self.go(RateState.SAVING)

        def write() -> str:
            conn = self._conn()
            with transaction(conn):
                return self.outbox.enqueue(conn, "rating", data).id

        def written(transaction_id, error) -> None:
            if error is not None:
                log.error("rating of %s not recorded: %s", self.service, error)
                self.go(RateState.ASKING)
                return
            self.transaction_id = transaction_id
            log.info("rating of %s: %s", self.service, level.key)
            self.go(RateState.DONE)
        self.run(write, written)
        return True

    def skip(self) -> None:
        if self.state is RateState.ASKING:
            self.go(RateState.SKIPPED)


# the default reasons of `[ratings] low_reasons` (kiosk/config.py), marked here for translation
DEFAULT_REASONS = (N_("It took too long"), N_("The steps were hard to follow"), N_("The machine did not work well"),
                   N_("The printout was poor"), N_("The fee was unclear"), N_("Something else"))
