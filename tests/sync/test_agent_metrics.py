"""The agent's `GET /metrics`: the real management server scraped over HTTP, while the real relay, heartbeat
sender and catalog and config pulls talk to the real central platform (a subprocess).

The kiosk side runs in this process with injected clocks (the outbox's, the relay's and the agent's task
schedule), so ages and due tasks are exact and nothing sleeps. Each scrape is parsed with prometheus-client's
own parser, as Prometheus would read it.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import threading
from contextlib import contextmanager

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from kiosk import __version__, config
from kiosk.alarms import Alarms
from kiosk.commands.agent import catalog_importer
from kiosk.store import Store
from kiosk.sync import management
from kiosk.sync.agent import Agent, Periodic
from kiosk.sync.catalog_pull import CatalogPull
from kiosk.sync.client import CentralClient
from kiosk.sync.config_apply import ConfigApplier
from kiosk.sync.config_pull import ConfigPull
from kiosk.sync.heartbeat import HeartbeatSender
from kiosk.sync.http_guard import Guard, Limits
from kiosk.sync.metrics import AgentMetrics
from kiosk.sync.outbox import Outbox
from kiosk.sync.relay import Relay
from kiosk.sync.state import SyncState
from kiosk.wire.hashing import holder_hash
from tests.clocks import ManualClock
from tests.sync.centralproc import KIOSK_ID, kiosk_config, run_kiosk
from tests.sync.faultproxy import FaultProxy
from tests.sync.test_sync_e2e import CATALOG

pytestmark = pytest.mark.slow

ID_NUMBER = "11010519491231002X"         # planted: must never show in a scrape
HASH_KEY = b"metrics-test-hash-key-0123456789"
HOLDER = holder_hash(HASH_KEY, ID_NUMBER)
T0 = 1_800_000_000.0


class Scrape:
    """One `GET /metrics`, parsed."""

    def __init__(self, base: str):
        r = requests.get(base + management.METRICS_PATH, timeout=10)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/plain")
        self.text = r.text
        self.families = list(text_string_to_metric_families(r.text))
        self.samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                        for f in self.families for s in f.samples}

    def __call__(self, name: str, **labels) -> float:
        return self.samples[(name, tuple(sorted(labels.items())))]

    def has(self, name: str) -> bool:
        return any(n == name for n, _ in self.samples)


@contextmanager
def serving(settings, metrics: AgentMetrics):
    """The management API as `kiosk agent` serves it, with these metrics, until the block ends."""
    stop, ready = threading.Event(), threading.Event()
    worker = threading.Thread(target=management.serve, args=(settings, stop),
                              kwargs={"ready": ready, "metrics": metrics}, daemon=True)
    worker.start()
    assert ready.wait(15), "the management API did not start"
    try:
        yield f"http://127.0.0.1:{management.parse_listen(settings.management.listen)[1]}"
    finally:
        stop.set()
        worker.join(15)
        assert not worker.is_alive()


class Kiosk:
    """The agent's parts as `kiosk agent` composes them, pointed at `url`, on injected clocks."""

    def __init__(self, tmp_path, url: str):
        self.settings = config.load(kiosk_config(tmp_path / "kiosk", url))
        self.store = Store.from_settings(self.settings)
        self.conn = self.store.connect()
        self.clock = ManualClock(T0)          # wall time: the outbox, the relay, the heartbeat, the scrape
        self.mono = ManualClock(0.0)          # the agent's task schedule
        self.outbox = Outbox(self.conn, now=self.clock)
        state = SyncState(self.conn, now=self.clock)
        self.client = CentralClient.from_settings(self.settings)
        self.metrics = AgentMetrics(KIOSK_ID, self.store.connect, now=self.clock)
        self.relay = Relay.from_settings(self.settings, self.outbox, self.client, now=self.clock,
                                         rng=random.Random(7), metrics=self.metrics)
        beat = HeartbeatSender(self.client, self.outbox, kiosk_id=KIOSK_ID, db_uuid=self.store.identity.db_uuid,
                               now=self.clock, metrics=self.metrics)
        apply, self.guides = catalog_importer(self.store)
        catalog = CatalogPull(self.client, state, apply, Alarms(self.conn, self.outbox), metrics=self.metrics)
        fleet = ConfigPull(self.client, state, ConfigApplier(self.settings), self.metrics)
        self.agent = Agent(self.relay, self.outbox, state, heartbeat=beat, heartbeat_interval_s=60, catalog=catalog,
                           catalog_interval_s=600, tasks=[Periodic("config pull", 60, fleet.pull)],
                           monotonic=self.mono, wall=self.clock, stop=threading.Event())

    def close(self):
        self.guides.close()
        self.client.close()
        self.conn.close()


@pytest.fixture
def kiosk_at(tmp_path):
    made = []

    def make(url):
        k = Kiosk(tmp_path, url)
        made.append(k)
        return k
    yield make
    for k in made:
        k.close()


def seed_catalog(central, tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(CATALOG, ensure_ascii=False), encoding="utf-8")
    r = run_kiosk("central", "seed", "--db", str(central.db), "--catalog", str(path))
    assert r.returncode == 0, r.stderr


def plant_dead_item_quoting_an_id_number(outbox: Outbox) -> None:
    """A dead item whose reason quotes an ID number (a platform echoing what it was sent): in the database,
    never in the metrics."""
    seq = outbox.record("probe", {"planted": True}).seq
    assert [e.seq for e in outbox.claim(1)] == [seq]
    outbox.settle([], {seq: f"rejected by the platform: holder {ID_NUMBER} unknown"}, {}, 0)


def assert_names_no_one(scrape: Scrape) -> None:
    assert ID_NUMBER not in scrape.text and ID_NUMBER.lower() not in scrape.text
    assert HOLDER not in scrape.text
    for family in scrape.families:
        for s in family.samples:
            for name, value in s.labels.items():
                assert ID_NUMBER not in value and HOLDER not in value, (s.name, name)
                if value == KIOSK_ID:  # the kiosk id is on the info metric only
                    assert (s.name, name) == ("kiosk_agent_info", "kiosk_id")


def test_a_sync_round_shows_in_the_scraped_metrics_and_no_label_or_value_names_anyone(central, kiosk_at, tmp_path):
    seed_catalog(central, tmp_path)
    kiosk = kiosk_at(central.url)
    plant_dead_item_quoting_an_id_number(kiosk.outbox)
    ids = [kiosk.outbox.record("probe", {"n": i}).id for i in range(3)]
    ids.append(kiosk.outbox.record("print", {"documents": 1, "holder_hash": HOLDER}).id)
    kiosk.clock.advance(30)

    with serving(kiosk.settings, kiosk.metrics) as base:
        before = Scrape(base)
        assert before("kiosk_agent_info", kiosk_id=KIOSK_ID, software_version=__version__) == 1
        assert before("kiosk_agent_outbox_read_ok") == 1
        assert before("kiosk_agent_outbox_pending_items") == 4
        assert before("kiosk_agent_outbox_dead_items") == 1
        assert before("kiosk_agent_outbox_oldest_pending_age_seconds") == 30
        assert before("kiosk_agent_batches_total", outcome="ok") == 0
        assert before("kiosk_agent_last_sync_timestamp_seconds") == 0
        assert before("kiosk_agent_last_heartbeat_timestamp_seconds") == 0
        assert_names_no_one(before)

        kiosk.agent.tick()  # one round: a batch, then the heartbeat, the catalog and config pulls
        after = Scrape(base)
        assert sorted(central.stored_ids()) == sorted(ids)
        assert after("kiosk_agent_outbox_pending_items") == 0
        assert after("kiosk_agent_outbox_dead_items") == 1
        assert after("kiosk_agent_outbox_oldest_pending_age_seconds") == 0
        assert after("kiosk_agent_batches_total", outcome="ok") == 1
        for outcome in ("refused", "network_error", "server_error"):
            assert after("kiosk_agent_batches_total", outcome=outcome) == 0
        assert after("kiosk_agent_transactions_answered_total", result="accepted") == 4
        assert after("kiosk_agent_transactions_answered_total", result="duplicate") == 0
        assert after("kiosk_agent_transactions_answered_total", result="rejected") == 0
        assert after("kiosk_agent_batch_round_trip_seconds_count") == 1
        assert after("kiosk_agent_last_sync_timestamp_seconds") == T0 + 30
        assert after("kiosk_agent_heartbeats_total", outcome="ok") == 1
        assert after("kiosk_agent_last_heartbeat_timestamp_seconds") == T0 + 30
        assert after("kiosk_agent_polls_total", poll="catalog", outcome="changed") == 1
        assert after("kiosk_agent_polls_total", poll="config", outcome="not_modified") == 1  # no bundle yet
        assert kiosk.guides.version() == "2026.11"

        kiosk.mono.advance(600)  # every task due again; nothing new to send
        kiosk.clock.advance(600)
        kiosk.agent.tick()
        again = Scrape(base)
        assert again("kiosk_agent_batches_total", outcome="ok") == 1
        assert again("kiosk_agent_polls_total", poll="catalog", outcome="not_modified") == 1  # the ETag matched
        assert again("kiosk_agent_polls_total", poll="catalog", outcome="changed") == 1
        assert again("kiosk_agent_heartbeats_total", outcome="ok") == 2
        assert again("kiosk_agent_last_heartbeat_timestamp_seconds") == T0 + 630
        assert again("kiosk_agent_last_sync_timestamp_seconds") == T0 + 30  # nothing was sent since
        for scrape in (after, again):
            assert_names_no_one(scrape)


def test_with_the_platform_stopped_network_errors_are_counted_and_the_queue_stays(central, kiosk_at):
    kiosk = kiosk_at(central.url)
    kiosk.outbox.record("probe", {"n": 0})
    with serving(kiosk.settings, kiosk.metrics) as base:
        kiosk.agent.tick()
        synced = Scrape(base)
        assert synced("kiosk_agent_batches_total", outcome="ok") == 1
        assert synced("kiosk_agent_heartbeats_total", outcome="ok") == 1

        central.stop()
        for i in range(2):
            kiosk.outbox.record("probe", {"n": i + 1})
        kiosk.clock.advance(45)
        kiosk.mono.advance(600)
        kiosk.agent.tick()
        down = Scrape(base)
        assert down("kiosk_agent_batches_total", outcome="network_error") == 1
        assert down("kiosk_agent_batches_total", outcome="ok") == 1
        assert down("kiosk_agent_batch_round_trip_seconds_count") == 1  # no answer, no round trip
        assert down("kiosk_agent_transactions_answered_total", result="accepted") == 1
        assert down("kiosk_agent_outbox_pending_items") == 2
        assert down("kiosk_agent_outbox_oldest_pending_age_seconds") == 45
        assert down("kiosk_agent_heartbeats_total", outcome="network_error") == 1
        assert down("kiosk_agent_heartbeats_total", outcome="ok") == 1
        for poll in ("catalog", "config"):  # (this platform has no catalog: a 404 is an error already)
            assert down("kiosk_agent_polls_total", poll=poll, outcome="error") == synced(
                "kiosk_agent_polls_total", poll=poll, outcome="error") + 1
        assert down("kiosk_agent_last_sync_timestamp_seconds") == T0
        assert down("kiosk_agent_last_heartbeat_timestamp_seconds") == T0

        kiosk.clock.advance(kiosk.relay.not_before - kiosk.clock() + 0.001)  # past the backoff
        kiosk.agent.tick()
        assert Scrape(base)("kiosk_agent_batches_total", outcome="network_error") == 2
        assert kiosk.outbox.summary().counts["pending"] == 2


def test_each_batch_outcome_and_each_answer_per_item_is_counted(central, kiosk_at):
    """Through a proxy that answers 503 once, then loses an answer (the platform stored the batch), then
    passes; a batch the platform refuses whole (422); an item it rejects alone (a number past 64 bits)."""
    proxy = FaultProxy(central.port, [("status", 503), "drop"], refuse_marker=b"refuse-this-batch")
    try:
        kiosk = kiosk_at(proxy.url)
        relay = kiosk.relay
        with serving(kiosk.settings, kiosk.metrics) as base:
            ids = [kiosk.outbox.record("probe", {"n": i}).id for i in range(2)]
            for _ in range(3):  # 503, lost answer, then the duplicates of what the lost answer stored
                relay.step()
                kiosk.clock.advance(max(0.0, relay.not_before - kiosk.clock()) + 0.001)
            kiosk.outbox.record("probe", {"marker": "refuse-this-batch"})
            assert relay.step().dead == 1
            kiosk.outbox.record("probe", {"n": 2 ** 64})
            fine = kiosk.outbox.record("probe", {"n": 3}).id
            relay.step()
            m = Scrape(base)
        assert kiosk.outbox.summary().counts == {"pending": 0, "inflight": 0, "acked": 3, "dead": 2}
        assert sorted(central.stored_ids()) == sorted([*ids, fine])
        assert proxy.requests_to("/api/v1/transactions")[:3] == ["('status', 503)", "drop", "pass"]
    finally:
        proxy.close()
    assert {o: m("kiosk_agent_batches_total", outcome=o) for o in ("ok", "refused", "network_error",
                                                                    "server_error")} == {
        "ok": 2, "refused": 1, "network_error": 1, "server_error": 1}
    assert {r: m("kiosk_agent_transactions_answered_total", result=r) for r in ("accepted", "duplicate",
                                                                                 "rejected")} == {
        "accepted": 1, "duplicate": 2, "rejected": 1}
    assert m("kiosk_agent_batch_round_trip_seconds_count") == 4  # every answer: ok twice, 503, 422
    assert m("kiosk_agent_outbox_dead_items") == 2


def test_kiosk_agent_composes_its_metrics_and_serves_them_on_the_management_api(central, tmp_path):
    """`kiosk agent`'s own composition (kiosk.commands.agent.build), one round on the real clocks."""
    from kiosk.commands.agent import build
    from kiosk.commands.base import Context

    path = kiosk_config(tmp_path / "kiosk", central.url)
    ctx = Context(argparse.Namespace(config=str(path)))
    conn = ctx.store.connect()
    Outbox(conn).record("probe", {})
    conn.close()
    stop = threading.Event()
    metrics = AgentMetrics(ctx.settings.kiosk.id, ctx.store.connect)
    agent, closables = build(ctx, stop, metrics=metrics)
    try:
        with serving(ctx.settings, metrics) as base:
            assert Scrape(base)("kiosk_agent_outbox_pending_items") == 1
            agent.tick()
            m = Scrape(base)
            assert requests.get(base + management.METRICS_PATH, headers={"Authorization": "nonsense"},
                                timeout=10).status_code == 200  # open: a credential is neither needed nor read
            assert requests.post(base + management.METRICS_PATH, data=b"", timeout=10).status_code == 405
    finally:
        for c in closables:
            c.close()
    assert m("kiosk_agent_outbox_pending_items") == 0
    assert m("kiosk_agent_batches_total", outcome="ok") == 1
    assert m("kiosk_agent_transactions_answered_total", result="accepted") == 1
    assert m("kiosk_agent_heartbeats_total", outcome="ok") == 1
    assert sum(m("kiosk_agent_polls_total", poll="catalog", outcome=o)
               for o in ("changed", "not_modified", "error")) == 1
    assert m("kiosk_agent_polls_total", poll="config", outcome="not_modified") == 1
    assert m("kiosk_agent_last_sync_timestamp_seconds") > 0
    assert m("kiosk_agent_info", kiosk_id=KIOSK_ID, software_version=__version__) == 1


def test_an_answered_scrape_does_not_clear_the_refusal_flood_alarm_but_an_operator_request_does():
    """The guard around the management API, on an injected clock: `/metrics` is open, so its answers say
    nothing about an operator (docs/operators.md: the alarm clears with the next answered operator request)."""
    clock = ManualClock(0.0)
    raised, calmed = [], []
    guard = Guard(Limits(refusals=2), on_flood=raised.append, on_calm=lambda: calmed.append(True), now=clock,
                  open_paths=frozenset({management.METRICS_PATH}))

    async def routes(scope, receive, send):  # the statuses the real routes give these requests
        status = 404 if scope["path"] == "/nowhere" else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def request(path: str, addr: str) -> int:
        sent = []

        async def send(message):
            sent.append(message)

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}
        await guard.wrap(routes)({"type": "http", "method": "GET", "path": path, "headers": [],
                                  "client": (addr, 40000)}, receive, send)
        return sent[0]["status"]

    async def scenario():
        assert [await request("/nowhere", "10.0.5.99") for _ in range(2)] == [404, 404]  # the flood
        assert guard.alarm_up
        clock.advance(Limits().window_s + 1)  # it is over
        assert await request(management.METRICS_PATH, "10.0.5.1") == 200
        assert guard.alarm_up
        assert await request(management.PATH, "10.0.5.1") == 200
        assert not guard.alarm_up

    asyncio.run(scenario())  # waits for the alarm callbacks, which run on the loop's executor
    assert len(raised) == 1 and calmed == [True]


def test_a_database_the_scrape_cannot_read_gives_read_ok_0_and_no_outbox_gauges_not_an_error(tmp_path):
    from kiosk import store

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data dir should be")
    metrics = AgentMetrics(KIOSK_ID, lambda: store.connect(blocker / "kiosk.db"))
    families = {f.name: f for f in text_string_to_metric_families(metrics.exposition().decode())}
    assert [s.value for s in families["kiosk_agent_outbox_read_ok"].samples] == [0]
    assert "kiosk_agent_outbox_pending_items" not in families
    assert "kiosk_agent_batches" in families  # the counters are there all the same
