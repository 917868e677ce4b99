"""The relay's decisions, with time and randomness injected and a scripted stand-in for the network.

(The same behaviours against the real central platform: test_sync_e2e.py.)
"""
import random

import pytest

from kiosk import store
from kiosk.sync.client import CentralInvalid, CentralOffline, CentralServerError, CentralTimeout
from kiosk.sync.outbox import Outbox
from kiosk.sync.relay import Backoff, Relay
from kiosk.wire.transactions import BatchResult, ItemResult
from tests.clocks import ManualClock


class ScriptedCentral:
    """Answers batches from a script of failures, then stores like the platform: an id once."""

    def __init__(self, failures=(), refuse_ids=(), invalid_ids=()):
        self.failures = list(failures)
        self.refuse_ids, self.invalid_ids = set(refuse_ids), set(invalid_ids)
        self.stored: dict[str, int] = {}
        self.batches: list[list[str]] = []

    def post_transactions(self, items):
        ids = [i["id"] for i in items]
        self.batches.append(ids)
        if self.failures:
            raise self.failures.pop(0)
        if self.invalid_ids & set(ids):
            raise CentralInvalid("invalid", 422, [{"loc": ["body", "items", 0, "occurred_at"], "msg": "bad date"}])
        results = []
        for i in ids:
            if i in self.refuse_ids:
                results.append(ItemResult(id=i, status="rejected", reason="same id, another body"))
            elif i in self.stored:
                results.append(ItemResult(id=i, status="duplicate"))
            else:
                self.stored[i] = 1
                results.append(ItemResult(id=i, status="accepted"))
        return BatchResult(results=results)


@pytest.fixture
def outbox(tmp_path):
    conn = store.connect(tmp_path / "kiosk.db")
    store.migrate(conn)
    clock = ManualClock(1_800_000_000.0)
    yield Outbox(conn, now=clock)
    conn.close()


def make_relay(outbox, central, **kw):
    kw.setdefault("rng", random.Random(4))
    return Relay(outbox, central, now=outbox.now, **kw)


def fill(outbox, n):
    return [outbox.record("probe", {"n": i}).id for i in range(n)]


def test_batches_are_at_most_batch_size_oldest_first(outbox):
    ids = fill(outbox, 12)
    central = ScriptedCentral()
    relay = make_relay(outbox, central, batch_size=5)
    result = relay.drain()
    assert [len(b) for b in central.batches] == [5, 5, 2]
    assert sum(central.batches, []) == ids
    assert result.acked == 12 and outbox.summary().counts["acked"] == 12


def test_a_rejected_item_goes_dead_with_its_reason_and_the_rest_are_acked(outbox):
    ids = fill(outbox, 4)
    relay = make_relay(outbox, ScriptedCentral(refuse_ids=[ids[1]]))
    relay.drain()
    assert outbox.summary().counts == {"pending": 0, "inflight": 0, "acked": 3, "dead": 1}
    dead = outbox.items("dead")[0]
    assert dead.id == ids[1] and "same id, another body" in dead.last_error


def test_a_batch_refused_as_invalid_is_narrowed_to_the_one_bad_item(outbox):
    ids = fill(outbox, 9)
    central = ScriptedCentral(invalid_ids=[ids[6]])
    relay = make_relay(outbox, central)
    result = relay.drain()
    assert set(central.stored) == set(ids) - {ids[6]}
    dead = outbox.items("dead")
    assert [d.id for d in dead] == [ids[6]] and "occurred_at: bad date" in dead[0].last_error
    assert result.error is None and outbox.pending_count() == 0
    assert len(central.batches) <= 2 * 4 + 1  # a binary search, not one request per item


@pytest.mark.parametrize("failure", [CentralOffline("refused"), CentralTimeout("slow"),
                                     CentralServerError("500", 500), CentralServerError("429", 429)])
def test_transport_failures_keep_items_pending_with_attempts_and_error(outbox, failure):
    fill(outbox, 3)
    relay = make_relay(outbox, ScriptedCentral(failures=[failure]))
    r = relay.step()
    assert r.error and r.wait_s >= 0
    items = outbox.items("pending")
    assert len(items) == 3 and all(e.attempts == 1 and e.last_error == str(failure) for e in items)


def test_retry_after_is_honoured_before_the_next_attempt(outbox):
    fill(outbox, 2)
    central = ScriptedCentral(failures=[CentralServerError("busy", 429, retry_after=7)])
    relay = make_relay(outbox, central, backoff_base_s=0.01)
    r = relay.step()
    assert r.wait_s >= 7
    outbox.now.t += 6.9
    assert relay.step().sent == 0 and len(central.batches) == 1
    outbox.now.t += 0.2
    assert relay.step().acked == 2


def test_backoff_grows_with_full_jitter_up_to_the_cap_and_resets_on_success(outbox):
    fill(outbox, 1)
    central = ScriptedCentral(failures=[CentralOffline("down")] * 12)
    relay = make_relay(outbox, central, backoff_base_s=1, backoff_cap_s=60)
    waits = []
    for _ in range(12):
        r = relay.step()
        waits.append(r.wait_s)
        outbox.now.t += r.wait_s
    assert all(0 <= w <= min(60, 2 ** i) for i, w in enumerate(waits))
    assert max(waits[6:]) > 8  # it does grow past the first ceilings
    assert relay.step().acked == 1 and relay.backoff.failures == 0


def test_full_jitter_spreads_a_hall_of_kiosks():
    delays = [Backoff(1, 300, random.Random(seed)).failed() for seed in range(50)]
    assert min(delays) < 0.2 and max(delays) > 0.8  # uniform over [0, 1), not all at one instant


def test_a_failure_while_narrowing_stops_and_releases_the_rest(outbox):
    ids = fill(outbox, 8)
    central = ScriptedCentral(invalid_ids=[ids[7]])
    relay = make_relay(outbox, central)
    # first request: invalid (whole batch); second (first half): the network goes away
    real = central.post_transactions
    calls = {"n": 0}

    def flaky(items):
        calls["n"] += 1
        if calls["n"] == 2:
            raise CentralOffline("cable pulled")
        return real(items)
    central.post_transactions = flaky
    r = relay.step()
    assert r.error and "cable pulled" in r.error
    assert outbox.summary().counts == {"pending": 8, "inflight": 0, "acked": 0, "dead": 0}


def test_an_answer_missing_an_item_keeps_that_item_pending(outbox):
    ids = fill(outbox, 2)

    class Forgetful(ScriptedCentral):
        def post_transactions(self, items):
            return BatchResult(results=[ItemResult(id=items[0]["id"], status="accepted")])
    make_relay(outbox, Forgetful()).step()
    assert outbox.get(ids[0]).state == "acked"
    assert outbox.get(ids[1]).state == "pending" and "no result" in outbox.get(ids[1]).last_error


def test_drain_reports_its_progress_after_each_request(outbox):
    fill(outbox, 12)
    seen = []
    make_relay(outbox, ScriptedCentral(), batch_size=5).drain(progress=lambda t: seen.append((t.sent, t.acked)))
    assert seen == [(5, 5), (10, 10), (12, 12)]
