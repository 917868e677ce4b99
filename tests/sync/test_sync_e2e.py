"""The relay against the REAL central platform (a subprocess) over loopback HTTP, faults injected.

The kiosk side runs in this process with an injected clock (so backoff and
Retry-After are checked without sleeping); the platform is `kiosk central`, and
`kiosk central export` says what it stored. Between the two, a small proxy
cuts, delays or answers for the platform where a test needs it.
"""
import json
import random
from collections import Counter

import pytest
import requests

from kiosk.store import Store
from kiosk.sync.client import CentralClient
from kiosk.sync.outbox import Outbox
from kiosk.sync.relay import Relay
from tests.clocks import ManualClock
from tests.sync.centralproc import KIOSK_ID, SECRET, kiosk_config, run_kiosk
from tests.sync.faultproxy import FaultProxy

pytestmark = pytest.mark.slow


class Kiosk:
    """The kiosk's store, outbox and relay, pointed at `url`, with its own clock."""

    def __init__(self, tmp_path, url, timeout_s=5.0, batch_size=500):
        self.config = kiosk_config(tmp_path / "kiosk", url)
        self.store = Store(tmp_path / "kiosk" / "var", KIOSK_ID)
        self.conn = self.store.connect()
        self.clock = ManualClock(1_800_000_000.0)
        self.outbox = Outbox(self.conn, now=self.clock)
        self.client = CentralClient(url, KIOSK_ID, SECRET, timeout_s=timeout_s)
        self.relay = Relay(self.outbox, self.client, batch_size=batch_size, backoff_base_s=1, backoff_cap_s=30,
                           now=self.clock, rng=random.Random(7))

    def probes(self, n):
        return [self.outbox.record("probe", {"n": i}).id for i in range(n)]

    def step_until_idle(self, max_steps=50):
        """Steps as the agent would, jumping the clock over each wait instead of sleeping."""
        for _ in range(max_steps):
            r = self.relay.step()
            if r.idle and r.error is None and self.outbox.pending_count() == 0:
                return
            self.clock.t += r.wait_s + 0.001
        raise AssertionError(f"still pending after {max_steps} steps: {self.outbox.summary()}")

    def close(self):
        self.client.close()
        self.conn.close()


@pytest.fixture
def kiosk_factory(tmp_path):
    made = []

    def make(url, **kw):
        k = Kiosk(tmp_path, url, **kw)
        made.append(k)
        return k
    yield make
    for k in made:
        k.close()


@pytest.fixture
def proxied(central):
    proxies = []

    def make(plan=(), default="pass", refuse_marker=None):
        p = FaultProxy(central.port, plan, default, refuse_marker)
        proxies.append(p)
        return p
    yield make
    for p in proxies:
        p.close()


def assert_each_stored_once(central, ids):
    stored = Counter(central.stored_ids())
    assert set(stored) == set(ids), f"missing {len(set(ids) - set(stored))}, extra {len(set(stored) - set(ids))}"
    assert max(stored.values()) == 1


def test_central_down_then_up_everything_arrives(central_unstarted, kiosk_factory):
    kiosk = kiosk_factory(central_unstarted.url)
    ids = kiosk.probes(30)
    r = kiosk.relay.step()
    assert r.error and "cannot reach" in r.error
    assert kiosk.outbox.summary().counts["pending"] == 30
    assert all(e.attempts == 1 for e in kiosk.outbox.items("pending"))
    central_unstarted.start()
    kiosk.step_until_idle()
    assert kiosk.outbox.summary().counts["acked"] == 30
    assert_each_stored_once(central_unstarted, ids)


def test_server_errors_are_retried_until_the_batch_arrives(central, proxied, kiosk_factory):
    proxy = proxied([("status", 500), ("status", 502), ("status", 503)])
    kiosk = kiosk_factory(proxy.url)
    ids = kiosk.probes(20)
    kiosk.step_until_idle()
    assert proxy.requests_to("/api/v1/transactions")[:4] == ["('status', 500)", "('status', 502)",
                                                            "('status', 503)", "pass"]
    assert_each_stored_once(central, ids)


def test_an_answer_slower_than_the_timeout_is_retried_and_stored_once(central, proxied, kiosk_factory):
    proxy = proxied([("delay", 2.0)])
    kiosk = kiosk_factory(proxy.url, timeout_s=0.5)
    ids = kiosk.probes(25)
    r = kiosk.relay.step()
    assert r.error and "no answer within 0.5 s" in r.error
    kiosk.step_until_idle()
    assert kiosk.outbox.summary().counts["acked"] == 25
    assert_each_stored_once(central, ids)


def test_a_connection_cut_after_the_platform_stored_the_batch_stores_each_item_once(central, proxied, kiosk_factory):
    proxy = proxied(["drop"])
    kiosk = kiosk_factory(proxy.url)
    ids = kiosk.probes(40)
    r = kiosk.relay.step()
    assert r.error and kiosk.outbox.summary().counts["pending"] == 40
    assert_each_stored_once(central, ids)  # the platform has them; the kiosk does not know yet
    kiosk.step_until_idle()
    assert kiosk.outbox.summary().counts["acked"] == 40
    assert_each_stored_once(central, ids)


def test_429_with_retry_after_is_honoured(central, proxied, kiosk_factory):
    proxy = proxied([("status", 429, {"Retry-After": "7"})])
    kiosk = kiosk_factory(proxy.url)
    ids = kiosk.probes(10)
    r = kiosk.relay.step()
    assert r.error and "429" in r.error and r.wait_s >= 7
    kiosk.clock.t += 6.5
    assert kiosk.relay.step().sent == 0
    assert len(proxy.requests_to("/api/v1/transactions")) == 1  # nothing was sent before the 7 s
    kiosk.clock.t += 0.6
    assert kiosk.relay.step().acked == 10
    assert_each_stored_once(central, ids)


def test_one_invalid_item_goes_dead_with_its_reason_and_the_rest_arrive(central, kiosk_factory):
    kiosk = kiosk_factory(central.url)
    ids = kiosk.probes(10)
    bad = ids[4]
    # a row damaged after it was recorded: a date the platform cannot read
    kiosk.conn.execute("UPDATE outbox SET occurred_at='yesterday evening' WHERE id=?", (bad,))
    kiosk.step_until_idle()
    assert kiosk.outbox.summary().counts == {"pending": 0, "inflight": 0, "acked": 9, "dead": 1}
    assert_each_stored_once(central, [i for i in ids if i != bad])
    r = run_kiosk("queue", "--json", config=kiosk.config)
    assert r.returncode == 0
    dead = json.loads(r.stdout)["dead"]
    assert [d["id"] for d in dead] == [bad] and "occurred_at" in dead[0]["reason"]


def test_a_whole_batch_refused_as_invalid_is_narrowed_to_the_one_bad_item(central, proxied, kiosk_factory):
    kiosk = kiosk_factory(central.url)
    ids = kiosk.probes(40)
    bad = ids[23]
    proxy = proxied(refuse_marker=bad.encode())
    kiosk.client.base = proxy.url
    kiosk.step_until_idle()
    assert kiosk.outbox.summary().counts == {"pending": 0, "inflight": 0, "acked": 39, "dead": 1}
    assert kiosk.outbox.items("dead")[0].id == bad and "(422)" in kiosk.outbox.items("dead")[0].last_error
    assert_each_stored_once(central, [i for i in ids if i != bad])
    assert len(proxy.requests_to("/api/v1/transactions")) <= 2 * 6 + 1  # halving, not one request per item


def test_the_same_id_with_another_body_is_refused_and_kept_dead(central, kiosk_factory):
    kiosk = kiosk_factory(central.url)
    [tid] = kiosk.probes(1)
    kiosk.step_until_idle()
    # the kiosk's copy changes after it was delivered (a restored backup, say) and is sent again
    kiosk.conn.execute("UPDATE outbox SET body='{\"n\":99}', state='pending' WHERE id=?", (tid,))
    kiosk.step_until_idle()
    [dead] = kiosk.outbox.items("dead")
    assert dead.id == tid and dead.last_error.startswith("rejected by the platform")
    assert_each_stored_once(central, [tid])


def test_wrong_secret_is_refused_and_nothing_is_lost(central, kiosk_factory):
    kiosk = kiosk_factory(central.url)
    kiosk.client.secret = "not-the-provisioned-secret-000000"
    ids = kiosk.probes(3)
    r = kiosk.relay.step()
    assert r.error and "check [central] secret" in r.error
    assert kiosk.outbox.summary().counts["pending"] == 3 and central.stored_ids() == []
    kiosk.client.secret = SECRET
    kiosk.step_until_idle()
    assert_each_stored_once(central, ids)


def test_batches_of_500_and_the_interactive_lookups_work_against_the_platform(central, kiosk_factory):
    kiosk = kiosk_factory(central.url)
    ids = kiosk.probes(1200)
    r = kiosk.relay.drain()
    assert r.requests == 3 and r.acked == 1200
    assert_each_stored_once(central, ids)
    assert kiosk.client.documents_for_holder("0" * 64) == []


def test_the_heartbeat_carries_devices_queue_and_alarms_to_the_platform(central, kiosk_factory):
    from kiosk.alarms import Alarms
    from kiosk.core.health import HealthBoard
    from kiosk.sync.heartbeat import HeartbeatSender
    from kiosk.wire import auth

    kiosk = kiosk_factory(central.url)
    kiosk.probes(4)
    health, alarms = HealthBoard(kiosk.conn), Alarms(kiosk.conn, kiosk.outbox)
    health.report("receipt_printer", "escpos", "online", "paper_near_end")
    alarms.raise_alarm("receipt_printer", "paper_near_end")
    sender = HeartbeatSender(kiosk.client, kiosk.outbox, kiosk_id=KIOSK_ID, db_uuid=kiosk.store.identity.db_uuid,
                             devices=lambda: [d.as_dict() for d in health.all()],
                             alarms=lambda: [a.as_dict() for a in alarms.active()], now=kiosk.clock)
    sender.send()
    path = f"/api/v1/kiosks/{KIOSK_ID}/heartbeat"
    r = requests.get(central.url + path, headers=auth.sign(SECRET, "GET", path, KIOSK_ID), timeout=5)
    assert r.status_code == 200, r.text
    beat = r.json()["latest"]["heartbeat"]
    assert beat["queue_depth"] == 5  # four probes and the alarm's own transaction
    assert beat["devices"] == [{"name": "receipt_printer", "driver": "escpos", "state": "online",
                                "detail": "paper_near_end"}]
    assert [a["code"] for a in beat["alarms"]] == ["paper_near_end"]
    assert beat["db_uuid"] == kiosk.store.identity.db_uuid


CATALOG = {"version": "2026.11", "items": [{
    "code": "11330100MB0001", "name": "居民身份证换领", "department": "县公安局", "themes": ["户籍办理"],
    "audience": "person", "kiosk_enabled": True, "conditions": "有效期满", "materials": [
        {"name": "居民身份证", "required": True, "form": "original", "copies": 1}],
    "steps": [{"name": "受理", "description": "窗口受理"}],
    "time_limit": {"legal": {"value": 60, "unit": "days"}, "promised": {"value": 20, "unit": "working_days"}},
    "fees": [], "legal_basis": ["《中华人民共和国居民身份证法》"], "location": "一楼", "hours": "24小时",
    "phone": "0000-0000000", "complaint_phone": "12345", "visits": 1, "faq": []}]}


def test_catalog_pull_is_conditional_and_a_refused_catalog_keeps_the_old_one_and_raises_an_alarm(
        central, kiosk_factory, tmp_path):
    from kiosk.alarms import Alarms
    from kiosk.sync.catalog_pull import CatalogPull
    from kiosk.sync.state import SyncState

    catalog_file = tmp_path / "catalog.json"
    catalog_file.write_text(json.dumps(CATALOG, ensure_ascii=False), encoding="utf-8")
    r = run_kiosk("central", "seed", "--db", str(central.db), "--catalog", str(catalog_file))
    assert r.returncode == 0, r.stderr
    kiosk = kiosk_factory(central.url)
    alarms = Alarms(kiosk.conn, kiosk.outbox)
    installed = []
    refuse = {"on": True}

    def apply(data: bytes) -> str:
        doc = json.loads(data)
        if refuse["on"]:
            raise ValueError("item 11330100MB0001: materials[0].copies: the kiosk wants at least 2")
        installed.append(doc["version"])
        return doc["version"]

    pull = CatalogPull(kiosk.client, SyncState(kiosk.conn), apply, alarms)
    first = pull.pull()
    assert first.outcome == "rejected" and "copies" in first.reason
    assert installed == [] and [a.key for a in alarms.active()] == ["catalog:bad_catalog"]
    assert pull.pull().outcome == "rejected"  # fetched again (no ETag kept), still one alarm
    assert len([e for e in kiosk.outbox.items("pending") if e.kind == "alarm"]) == 1
    refuse["on"] = False
    assert pull.pull().outcome == "updated" and installed == ["2026.11"]
    assert alarms.active() == []
    assert pull.pull().outcome == "unchanged"  # If-None-Match answered 304
    assert installed == ["2026.11"]


def test_documents_released_to_a_holder_are_listed_and_fetched_by_keyed_hash(central, kiosk_factory, tmp_path):
    from kiosk.core.privacy import holder_hash
    from kiosk.sync.client import CentralNotFound, CentralOffline

    key, id_number = "test-deployment-key-0123456789", "11010519491231002X"  # a synthetic number
    catalog_file = tmp_path / "catalog.json"
    catalog_file.write_text(json.dumps(CATALOG, ensure_ascii=False), encoding="utf-8")
    r = run_kiosk("central", "seed", "--db", str(central.db), "--hash-key", key, "--holder", id_number,
                  "--catalog", str(catalog_file))
    assert r.returncode == 0, r.stderr
    kiosk = kiosk_factory(central.url)
    h = holder_hash(key, id_number)
    docs = kiosk.client.documents_for_holder(h, timeout=2)
    assert docs and all({"id", "title", "pages"} <= set(d) for d in docs)
    pdf = kiosk.client.get_document(docs[0]["id"], holder_hash=h)
    assert pdf.startswith(b"%PDF")
    with pytest.raises(CentralNotFound):
        kiosk.client.get_document(docs[0]["id"], holder_hash=holder_hash(key, "110105194912310037"))
    assert kiosk.client.documents_for_holder(holder_hash(key, "110105194912310037")) == []
    central.stop()
    with pytest.raises(CentralOffline):  # the UI shows its offline message
        kiosk.client.documents_for_holder(h, timeout=1)
