"""`kiosk agent` and the sync commands as a technician runs them, against the real central platform.

The agent is killed with SIGKILL at random moments of a drain, again and
again, while new transactions keep being committed: at the end every
transaction the kiosk committed is at the platform exactly once.
"""
import json
import os
import random
import signal
import subprocess
import time
from collections import Counter

import pytest

from kiosk.store import Store
from kiosk.sync.outbox import Outbox
from tests.sync.centralproc import KIOSK, KIOSK_ID, ROOT, SECRET, kiosk_config, run_kiosk

pytestmark = pytest.mark.slow


def start_agent(config):
    env = dict(os.environ, KIVY_NO_ARGS="1")
    log = (config.parent / "agent.log").open("ab")
    return subprocess.Popen([str(KIOSK), "--config", str(config), "agent"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=log)


def wait_until(predicate, timeout, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def test_kill_9_during_drains_loses_nothing_and_stores_nothing_twice(central, tmp_path):
    config = kiosk_config(tmp_path / "kiosk", central.url, batch_size=10)
    store = Store(tmp_path / "kiosk" / "var", KIOSK_ID)
    conn = store.connect()
    outbox = Outbox(conn)
    committed = [outbox.record("probe", {"n": i}).id for i in range(1500)]
    rng = random.Random(20261122)
    kills = 0
    for round_no in range(10):
        committed += [outbox.record("probe", {"round": round_no, "n": i}).id for i in range(300)]
        acked_before = outbox.summary().counts["acked"]
        agent = start_agent(config)
        try:
            # kill only once the drain is under way, then at a random moment of it
            wait_until(lambda: outbox.summary().counts["acked"] > acked_before, timeout=15)
            time.sleep(rng.uniform(0, 0.3))
        finally:
            if agent.poll() is None:
                os.kill(agent.pid, signal.SIGKILL)
                kills += 1
            agent.wait(10)
    conn.close()
    assert kills >= 8, "the agent finished before it could be killed; give it more to send"

    r = run_kiosk("sync", "--once", "--json", config=config, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["pending"] == 0
    stored = Counter(central.stored_ids())
    assert len(committed) == 4500
    assert set(stored) == set(committed)
    assert max(stored.values()) == 1


def test_the_agent_drains_the_outbox_and_stops_cleanly_on_sigterm(central, tmp_path):
    config = kiosk_config(tmp_path / "kiosk", central.url)
    r = run_kiosk("sync", "probe", "--count", "5", "--json", config=config)
    ids = json.loads(r.stdout)["ids"]
    agent = start_agent(config)
    try:
        assert wait_until(lambda: len(central.stored_ids()) == 5, timeout=30)
    finally:
        os.kill(agent.pid, signal.SIGTERM)
        code = agent.wait(15)
    assert code == 0
    assert sorted(central.stored_ids()) == sorted(ids)
    queue = json.loads(run_kiosk("queue", "--json", config=config).stdout)
    assert queue["counts"]["acked"] == 5 and queue["last_sync_at"]


def test_probe_then_sync_once_moves_transactions_end_to_end(central, tmp_path):
    config = kiosk_config(tmp_path / "kiosk", central.url)
    r = run_kiosk("sync", "probe", "--count", "3", "--json", config=config)
    assert r.returncode == 0
    ids = json.loads(r.stdout)["ids"]
    assert len(ids) == 3
    r = run_kiosk("sync", "--once", "--json", config=config)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["acked"] == 3 and doc["pending"] == 0
    assert sorted(central.stored_ids()) == sorted(ids)
    assert {t["kind"] for t in central.export()} == {"probe"}
    # `kiosk queue` says when the platform last answered, whoever sent (the agent, or this command)
    assert json.loads(run_kiosk("queue", "--json", config=config).stdout)["last_sync_at"]


def test_sync_once_with_the_platform_down_fails_and_keeps_everything(central_unstarted, tmp_path):
    config = kiosk_config(tmp_path / "kiosk", central_unstarted.url)
    run_kiosk("sync", "probe", "--count", "2", config=config)
    r = run_kiosk("sync", "--once", "--json", config=config)
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["pending"] == 2 and "cannot reach" in doc["error"]
    q = run_kiosk("queue", config=config)
    assert q.returncode == 0 and "2 pending" in q.stdout and "cannot reach" in q.stdout


def test_queue_reports_an_empty_outbox_on_a_fresh_kiosk(tmp_path):
    config = kiosk_config(tmp_path / "kiosk", "http://127.0.0.1:9")
    r = run_kiosk("queue", "--json", config=config)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["counts"] == {"pending": 0, "inflight": 0, "acked": 0, "dead": 0}
    assert doc["oldest_pending_age_s"] is None and doc["dead"] == []


def test_sync_without_once_or_an_action_is_bad_usage(tmp_path):
    config = kiosk_config(tmp_path / "kiosk", "http://127.0.0.1:9")
    assert run_kiosk("sync", config=config).returncode == 2
    assert run_kiosk("sync", "probe", "--count", "0", config=config).returncode == 2


def test_retry_dead_puts_a_dead_item_back_for_the_next_push(tmp_path):
    config = kiosk_config(tmp_path / "kiosk", "http://127.0.0.1:9")
    store = Store(tmp_path / "kiosk" / "var", KIOSK_ID)
    conn = store.connect()
    ob = Outbox(conn)
    s = ob.record("probe", {}).seq
    ob.claim(1)
    ob.settle([], {s: "rejected by the platform: test"}, {}, 0)
    conn.close()
    r = run_kiosk("sync", "retry-dead", "--json", config=config)
    assert r.returncode == 0 and json.loads(r.stdout) == {"retried": 1}
    assert json.loads(run_kiosk("queue", "--json", config=config).stdout)["counts"]["pending"] == 1


def test_the_agent_pulls_the_catalog_into_the_kiosk_and_sends_heartbeats(central, tmp_path):
    import requests
    from tests.sync.test_sync_e2e import CATALOG

    from kiosk.core.guides.catalog import GuideCatalog
    from kiosk.wire import auth

    catalog_file = tmp_path / "catalog.json"
    catalog_file.write_text(json.dumps(CATALOG, ensure_ascii=False), encoding="utf-8")
    assert run_kiosk("central", "seed", "--db", str(central.db), "--catalog", str(catalog_file)).returncode == 0
    config = kiosk_config(tmp_path / "kiosk", central.url)
    store = Store(tmp_path / "kiosk" / "var", KIOSK_ID)
    guides = GuideCatalog(store)
    path = f"/api/v1/kiosks/{KIOSK_ID}/heartbeat"

    def heartbeat_arrived():
        r = requests.get(central.url + path, headers=auth.sign(SECRET, "GET", path, KIOSK_ID), timeout=5)
        return r.status_code == 200
    agent = start_agent(config)
    try:
        assert wait_until(lambda: guides.version() == "2026.11", timeout=30)
        assert wait_until(heartbeat_arrived, timeout=30)
    finally:
        os.kill(agent.pid, signal.SIGTERM)
        assert agent.wait(15) == 0
        guides.close()
    assert guides.get("11330100MB0001").name == "居民身份证换领"
