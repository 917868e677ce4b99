"""Calling a member of staff (呼叫工作人员) from any citizen screen: a `help` transaction and what the citizen reads.

    idle --call(screen)--> sending --written--> sent        (the request is in the outbox, committed)
                                    --the write failed--> failed   (logged; the hotline is shown)
    sent | failed --close()--> idle
    idle --call(screen) again on a screen this visit called from--> sending --> sent, `repeat` (nothing new
                                                                    recorded)

A help request is a durable transaction like any other (kiosk/sync/outbox.py): the agent delivers it
to the platform, where hall staff see it in the console, so one made while the network is down
arrives, once, when the network returns. Its data is the screen it was asked from and the hall's
name as the kiosk's config gives it (the kiosk id travels with every batch): never a name, an ID
number or a code (DESIGN.md section 7).

One request per screen per visit is enough: a second press on the same screen says that staff
were already called; the visit's end (the session's wipe) forgets them. Whether the kiosk is
offline is what the agent last recorded (`Contact`): when the platform has not been reached for a
while the citizen is told the request goes out as soon as the network is back, and is given the
hall's phone number either way.
"""
from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from typing import Callable

from kiosk.core.background import Executor
from kiosk.core.flow import FREE, Flow, Leaving
from kiosk.store import PerThread, transaction

log = logging.getLogger(__name__)

MAX_SCREEN = 40   # a screen's name, as the platform keeps it


class HelpState(str, enum.Enum):
    IDLE = "idle"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class Contact:
    """Has the agent reached the platform recently? `last_contact()` is the wall time (unix seconds) the
    agent last had an answer from it (a heartbeat or a batch), None when never; past `offline_after_s`
    the kiosk counts as offline."""

    last_contact: Callable[[], float | None]
    wall: Callable[[], float]
    offline_after_s: float

    def online(self) -> bool:
        try:
            last = self.last_contact()
        except Exception as exc:   # a locked database: say offline, which only adds the hotline sentence
            log.warning("help: the last contact with the platform cannot be read: %s", exc)
            return False
        return last is not None and self.wall() - last <= self.offline_after_s


class HelpFlow(Flow[HelpState]):
    name = "help"
    transitions = {
        HelpState.IDLE: {HelpState.SENDING},
        HelpState.SENDING: {HelpState.SENT, HelpState.FAILED},
        HelpState.SENT: {HelpState.IDLE, HelpState.SENDING},
        HelpState.FAILED: {HelpState.IDLE, HelpState.SENDING},
    }

    def __init__(self, store, outbox, contact: Contact, *, hall: str, hotline: str,
                 executor: Executor | None = None):
        """`outbox`: the module kiosk.sync.outbox (its `enqueue(conn, kind, data)`), injected."""
        super().__init__(HelpState.IDLE, executor=executor)
        self.outbox = outbox
        self.contact = contact
        self.hall = hall
        self.hotline = hotline
        self._conn = PerThread(store.connect)
        self.reset()

    def reset(self) -> None:
        """The visit ended: the screens it called from are forgotten, a write under way is not shown."""
        self.new_visit()
        self.called_from: dict[str, str] = {}   # screen -> the transaction id of its request, this visit
        self.screen = ""
        self.repeat = False
        self.offline = False
        self.transaction_id: str | None = None
        self.changed()

    def call(self, screen: str) -> None:
        """The citizen pressed "Call staff" on `screen`. The write and the look at the last contact (both
        reads of the kiosk's database) run on the executor."""
        screen = (screen or "unknown")[:MAX_SCREEN]
        if self.state is HelpState.SENDING:
            return
        self.screen = screen
        earlier = self.called_from.get(screen)
        self.repeat = earlier is not None
        data = {"screen": screen, "hall": self.hall}
        self.go(HelpState.SENDING)

        def write() -> tuple[str, bool]:
            if earlier is not None:   # staff were called from here this visit: nothing new is recorded
                return earlier, self.contact.online()
            conn = self._conn()
            with transaction(conn):
                transaction_id = self.outbox.enqueue(conn, "help", data).id
            return transaction_id, self.contact.online()

        def written(result, error) -> None:
            if error is not None:
                log.error("help request from %s not recorded: %s", screen, error)
                self.go(HelpState.FAILED)
                return
            self.transaction_id, online = result
            self.offline = not online
            self.called_from[screen] = self.transaction_id
            if not self.repeat:
                log.info("help requested from %s%s", screen, "" if online else
                         " (the platform has not been reached lately: it goes out when the network is back)")
            self.go(HelpState.SENT)
        self.run(write, written)

    def close(self) -> None:
        """The citizen read the answer."""
        if self.state in (HelpState.SENT, HelpState.FAILED):
            self.go(HelpState.IDLE)

    def leaving(self, idle: bool) -> Leaving:
        # the request is committed or not in one short write; nothing to call back or wait for
        return FREE

    def cancel_in_flight(self) -> None:
        return None
