"""HelpFlow ("Call staff"): one `help` transaction per screen per visit, in the real outbox, with no personal
data; a second press says staff were already called; offline (the agent has not reached the platform for
three heartbeats) the citizen is told it goes out when the network is back. Time is injected."""
from __future__ import annotations

import json

import pytest

from kiosk import store
from kiosk.app.help import last_contact
from kiosk.core.background import Held
from kiosk.core.help import Contact, HelpFlow, HelpState
from kiosk.core.session import SteerableClock, VisitorSession
from kiosk.sync import outbox as outbox_module
from kiosk.sync.agent import LAST_CONTACT_KEY
from kiosk.sync.outbox import Outbox
from kiosk.sync.state import SyncState
from tests.clocks import ManualClock

HALL = "示例政务服务中心 24小时自助服务区"
HEARTBEAT_S = 60.0


@pytest.fixture
def kiosk_store(tmp_path):
    return store.Store(tmp_path / "kiosk", "k-help")


@pytest.fixture
def conn(kiosk_store):
    c = kiosk_store.connect()
    yield c
    c.close()


@pytest.fixture
def wall():
    return ManualClock(1_800_000_000.0)


@pytest.fixture
def flow(kiosk_store, wall):
    contact = Contact(last_contact(kiosk_store), wall, offline_after_s=3 * HEARTBEAT_S)
    return HelpFlow(kiosk_store, outbox_module, contact, hall=HALL, hotline="0571-8888 1234")


def agent_reached_platform(conn, at: float) -> None:
    """What the agent records when a heartbeat or a batch is answered (kiosk/sync/agent.py)."""
    SyncState(conn).set(LAST_CONTACT_KEY, str(at))


def helps(conn):
    return [e for e in Outbox(conn).items("pending", 100) if e.kind == "help"]


def test_a_press_records_one_help_request_and_says_it_was_sent(flow, conn, wall):
    agent_reached_platform(conn, wall() - 30)
    flow.call("pickup")
    assert flow.state is HelpState.SENT and not flow.repeat and not flow.offline
    [entry] = helps(conn)
    assert entry.data == {"screen": "pickup", "hall": HALL}
    assert flow.transaction_id == entry.id
    flow.close()
    assert flow.state is HelpState.IDLE


def test_a_second_press_on_the_same_screen_says_staff_were_already_called_and_records_nothing(flow, conn, wall):
    agent_reached_platform(conn, wall())
    flow.call("pickup")
    first = flow.transaction_id
    flow.close()
    flow.call("pickup")
    assert flow.state is HelpState.SENT and flow.repeat and flow.transaction_id == first
    assert len(helps(conn)) == 1
    flow.close()
    flow.call("guides")   # another screen of the same visit: a new request, where the citizen is now
    assert not flow.repeat and [e.data["screen"] for e in helps(conn)] == ["pickup", "guides"]


def test_a_new_visit_may_call_again_from_the_same_screen(flow, conn, wall):
    session = VisitorSession(idle_timeout_s=90, warning_s=30, extensions=1, clock=SteerableClock(False))
    session.on("wipe", lambda _reason: flow.reset())   # as kiosk/app/help.py composes it
    session.touch()
    flow.call("home")
    session.leave("done")
    assert flow.state is HelpState.IDLE and flow.called_from == {}
    session.touch()
    flow.call("home")
    assert not flow.repeat and len(helps(conn)) == 2


def test_offline_when_the_agent_has_not_reached_the_platform_for_three_heartbeats(flow, conn, wall):
    flow.call("home")   # never reached: a kiosk fresh from provisioning, or the network down since start
    assert flow.state is HelpState.SENT and flow.offline and len(helps(conn)) == 1
    flow.close()
    agent_reached_platform(conn, wall())
    wall.advance(3 * HEARTBEAT_S)
    flow.call("tickets")
    assert not flow.offline
    flow.close()
    wall.advance(1)
    flow.call("fees")
    assert flow.offline, "past three heartbeats without an answer the kiosk counts as offline"
    assert len(helps(conn)) == 3, "offline or not, each request is in the outbox for the agent to deliver"


def test_presses_while_the_request_is_being_written_make_one_request(kiosk_store, conn, wall):
    held = Held()
    flow = HelpFlow(kiosk_store, outbox_module, Contact(lambda: wall(), wall, 180), hall=HALL, hotline="12345",
                    executor=held)
    flow.call("forms")
    flow.call("forms")
    assert flow.state is HelpState.SENDING and held.pending == 1
    held.release()
    assert flow.state is HelpState.SENT and len(helps(conn)) == 1


def test_a_write_that_fails_says_so_and_a_later_press_tries_again(kiosk_store, conn, wall):
    class Refusing:   # the outbox refusing the write (a full disk), as kiosk.sync.outbox raises
        @staticmethod
        def enqueue(_conn, _kind, _data):
            raise OSError("database or disk is full")

    flow = HelpFlow(kiosk_store, Refusing, Contact(lambda: None, wall, 180), hall=HALL, hotline="12345")
    flow.call("documents")
    assert flow.state is HelpState.FAILED and flow.called_from == {}
    flow.outbox = outbox_module
    flow.close()
    flow.call("documents")
    assert flow.state is HelpState.SENT and not flow.repeat and len(helps(conn)) == 1


def test_the_help_transaction_holds_no_personal_data(flow, conn, wall, kiosk_store):
    """The request carries the screen and the hall's name: nothing a person could be known by, even on a visit
    that read an ID card (the card's data is never in the flow) -- and the outbox's own check passes it."""
    flow.call("documents")
    [entry] = helps(conn)
    assert set(entry.data) == {"screen", "hall"}
    body = json.dumps(entry.data, ensure_ascii=False)
    for personal in ("name", "id_number", "code", "phone", "holder", "birth", "photo"):
        assert personal not in body
    outbox_module.encode("help", entry.data)   # the outbox's privacy check (kiosk/sync/outbox.py) passes it
