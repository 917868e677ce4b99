"""Composition of "Call staff" in the UI process (kiosk/app/root.py): the one `HelpFlow` every citizen
screen's header button uses (kiosk/core/help.py).

Built once per process, beside the visit path: its worker thread, the outbox it records `help`
transactions in, and what it knows of the network: the agent's record of when it last reached the
platform (`last_contact_at` in the kiosk database's sync state, kiosk/sync/agent.py), read on the
worker. Three missed heartbeats count as offline, as on the platform's fleet page. The flow forgets
the visit's requests when the visitor session is wiped.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

from kiosk.config import Settings

if TYPE_CHECKING:  # pragma: no cover
    from kiosk.app.services import Background
    from kiosk.core.help import HelpFlow
    from kiosk.core.session import VisitorSession
    from kiosk.store import Store

MISSED_HEARTBEATS = 3


def last_contact(store: "Store") -> Callable[[], float | None]:
    """When the agent last had an answer from the platform (unix seconds), read from the kiosk database on
    the calling thread's own connection."""
    from kiosk.store import PerThread
    from kiosk.sync.agent import LAST_CONTACT_KEY
    from kiosk.sync.state import SyncState

    conn = PerThread(store.connect)

    def read() -> float | None:
        value = SyncState(conn()).get(LAST_CONTACT_KEY)
        return float(value) if value else None
    return read


def make(settings: Settings, store: "Store", session: "VisitorSession", *, background: "Background",
         wall: Callable[[], float] = time.time) -> "HelpFlow":
    from kiosk.core.help import Contact, HelpFlow
    from kiosk.sync import outbox

    contact = Contact(last_contact(store), wall,
                      offline_after_s=MISSED_HEARTBEATS * settings.sync.heartbeat_interval_s)
    flow = HelpFlow(store, outbox, contact, hall=settings.kiosk.hall, hotline=settings.kiosk.hotline,
                    executor=background.threads("help"))
    session.on("wipe", lambda _reason: flow.reset())
    return flow
