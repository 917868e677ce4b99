"""A citizen's "Call staff" through the real agent to the REAL central platform (a subprocess) on loopback.

The kiosk side is the UI's HelpFlow (kiosk/app/help.py's composition: the real store, outbox and the
agent's record of its last contact) and the agent's own loop (kiosk/sync/agent.py Agent.tick with the real
Relay and HeartbeatSender), in this process with injected clocks; nothing sleeps. While the platform is
down the citizen is told the request goes out when the network is back; once the platform is up the
agent delivers it, once, even when the platform's first answer is lost on the way back (a proxy between
the two cuts it), and the next press is told it was sent.
"""
from __future__ import annotations

import random
import threading
from collections import Counter

import pytest

from kiosk.app.help import MISSED_HEARTBEATS, last_contact
from kiosk.core.help import Contact, HelpFlow, HelpState
from kiosk.store import Store
from kiosk.sync import outbox as outbox_module
from kiosk.sync.agent import LAST_CONTACT_KEY, Agent
from kiosk.sync.client import CentralClient
from kiosk.sync.heartbeat import HeartbeatSender
from kiosk.sync.outbox import Outbox
from kiosk.sync.relay import Relay
from kiosk.sync.state import SyncState
from tests.clocks import ManualClock
from tests.sync.centralproc import KIOSK_ID, SECRET
from tests.sync.faultproxy import FaultProxy

pytestmark = pytest.mark.slow
HEARTBEAT_S = 60.0
HALL = "示例政务服务中心 24小时自助服务区"


class HelpKiosk:
    """The kiosk's database shared by the UI's help flow and the agent, each on its own connection."""

    def __init__(self, tmp_path, url):
        self.store = Store(tmp_path / "kiosk" / "var", KIOSK_ID)
        self.conn = self.store.connect()
        self.wall = ManualClock(1_800_000_000.0)
        self.mono = ManualClock(1000.0)
        self.outbox = Outbox(self.conn, now=self.wall)
        self.client = CentralClient(url, KIOSK_ID, SECRET, timeout_s=5.0)
        relay = Relay(self.outbox, self.client, backoff_base_s=1, backoff_cap_s=30, now=self.wall,
                      rng=random.Random(7))
        beat = HeartbeatSender(self.client, self.outbox, kiosk_id=KIOSK_ID, db_uuid=None, now=self.wall)
        self.agent = Agent(relay, self.outbox, SyncState(self.conn, now=self.wall), heartbeat=beat,
                           heartbeat_interval_s=HEARTBEAT_S, monotonic=self.mono, wall=self.wall,
                           stop=threading.Event())
        contact = Contact(last_contact(self.store), self.wall, offline_after_s=MISSED_HEARTBEATS * HEARTBEAT_S)
        self.help = HelpFlow(self.store, outbox_module, contact, hall=HALL, hotline="12345")

    def agent_runs(self, seconds: float) -> None:
        """The agent's loop for `seconds` of its clocks: each tick, then its wait jumped over."""
        end = self.mono() + seconds
        while self.mono() < end:
            wait = max(self.agent.tick(), 0.001)
            self.mono.advance(wait)
            self.wall.advance(wait)

    def close(self):
        self.client.close()
        self.conn.close()


@pytest.fixture
def proxy(central_unstarted):
    p = FaultProxy(central_unstarted.port)   # a dead network while the platform is down behind it
    yield p
    p.close()


@pytest.fixture
def kiosk(tmp_path, proxy):
    k = HelpKiosk(tmp_path, proxy.url)
    yield k
    k.close()


def stored_help(central) -> list[dict]:
    return [t for t in central.export() if t["kind"] == "help"]


def test_a_call_for_help_made_offline_arrives_once_when_the_network_is_back(kiosk, central_unstarted, proxy):
    central = central_unstarted
    kiosk.help.call("pickup")
    assert kiosk.help.state is HelpState.SENT and kiosk.help.offline, \
        "the agent never reached the platform: the citizen is told it goes out when the network is back"
    offline_id = kiosk.help.transaction_id
    kiosk.agent_runs(120)   # the platform is down: batches and heartbeats fail, the request waits
    assert kiosk.outbox.get(offline_id).state == "pending"
    assert SyncState(kiosk.conn).get(LAST_CONTACT_KEY) is None

    central.start()
    proxy.plan = ["drop"]   # the platform stores the first batch, and its answer never reaches the kiosk
    kiosk.agent_runs(120)
    assert kiosk.outbox.get(offline_id).state == "acked"
    assert proxy.requests_to("/api/v1/transactions").count("drop") == 1 and proxy.plan == []
    assert SyncState(kiosk.conn).get(LAST_CONTACT_KEY) is not None

    kiosk.help.close()
    kiosk.help.call("pickup")   # the same screen, the same visit: nothing new
    assert kiosk.help.repeat and not kiosk.help.offline
    kiosk.help.close()
    kiosk.help.call("guides")   # the platform answered lately: sent, not "when the network is back"
    assert not kiosk.help.repeat and not kiosk.help.offline
    online_id = kiosk.help.transaction_id
    kiosk.agent_runs(30)
    assert kiosk.outbox.get(online_id).state == "acked"

    stored = stored_help(central)
    assert Counter(t["id"] for t in stored) == {offline_id: 1, online_id: 1}
