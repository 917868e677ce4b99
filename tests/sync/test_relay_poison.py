"""Issue 24 item 7 (the kiosk's half): one item that makes the platform answer 5xx never blocks the queue.

A batch that keeps failing with 5xx is narrowed by halves, as a refused one
is; an item that fails alone with 5xx three times, in steps where the platform
accepted other items, goes dead with its reason, and the rest flow. A platform
that answers 5xx to everything kills no item and costs a bounded number of
requests per step.
"""
import math

from kiosk.sync.client import CentralServerError
from tests.sync.test_relay import ScriptedCentral, fill, make_relay, outbox  # noqa: F401 (fixture)


class Poisoned(ScriptedCentral):
    """A platform that answers 500 to any batch carrying one of `poison_ids` (a server-side bug)."""

    def __init__(self, poison_ids=(), down=False):
        super().__init__()
        self.poison_ids, self.down = set(poison_ids), down

    def post_transactions(self, items):
        ids = {i["id"] for i in items}
        if self.down or self.poison_ids & ids:
            self.batches.append([i["id"] for i in items])
            raise CentralServerError("the platform answered 500", 500)
        return super().post_transactions(items)


def run_steps(relay, outbox, n, traffic=False):
    results = []
    for i in range(n):
        if traffic:  # the hall goes on: a new transaction now and then
            outbox.record("probe", {"n": 1000 + i})
        r = relay.step()
        results.append(r)
        outbox.now.t += max(r.wait_s, 0.001)
    return results


def test_a_batch_that_keeps_failing_5xx_is_narrowed_and_the_poisoned_item_goes_dead(outbox):
    ids = fill(outbox, 40)
    poison = ids[3]
    central = Poisoned([poison])
    relay = make_relay(outbox, central, batch_size=16)
    run_steps(relay, outbox, 30, traffic=True)
    assert set(ids) - {poison} <= set(central.stored)
    dead = outbox.items("dead")
    assert [d.id for d in dead] == [poison]
    assert "5xx" in dead[0].last_error and "3 times" in dead[0].last_error
    assert outbox.pending_count() <= 1


def test_a_poisoned_item_left_alone_in_the_queue_is_judged_by_the_answers_since_it_last_failed(outbox):
    ids = fill(outbox, 8)
    central = Poisoned([ids[0]])
    relay = make_relay(outbox, central, batch_size=8)
    run_steps(relay, outbox, 40)
    # the others went through in the step it was isolated (counted once); after that nothing else
    # reached the platform, so its failures alone blame nobody (the platform might be down)
    assert set(central.stored) == set(ids[1:])
    assert outbox.get(ids[0]).state == "pending" and outbox.get(ids[0]).isolated_failures == 1
    run_steps(relay, outbox, 40, traffic=True)  # new transactions go through: evidence the platform works
    assert outbox.get(ids[0]).state == "dead"
    assert outbox.pending_count() <= 1


def test_rows_behind_a_poisoned_item_are_not_held_back_while_it_is_being_isolated(outbox):
    ids = fill(outbox, 16)
    central = Poisoned([ids[0]])
    relay = make_relay(outbox, central, batch_size=16)
    run_steps(relay, outbox, 2)   # whole batch fails once; then it is narrowed
    assert set(central.stored) == set(ids[1:])
    assert outbox.get(ids[0]).state == "pending"


def test_a_platform_answering_5xx_to_everything_kills_no_item_and_bisects_at_bounded_cost(outbox):
    fill(outbox, 64)
    central = Poisoned(down=True)
    relay = make_relay(outbox, central, batch_size=64)
    results = run_steps(relay, outbox, 12)
    assert outbox.summary().counts["dead"] == 0 and outbox.pending_count() == 64
    assert all(r.error for r in results)
    assert max(r.requests for r in results) <= math.log2(64) + 3


def test_a_single_5xx_is_retried_whole_without_narrowing(outbox):
    ids = fill(outbox, 8)
    central = ScriptedCentral(failures=[CentralServerError("the platform answered 503", 503)])
    relay = make_relay(outbox, central, batch_size=8)
    run_steps(relay, outbox, 2)
    assert [len(b) for b in central.batches] == [8, 8] and set(central.stored) == set(ids)


def test_429_is_never_narrowed(outbox):
    fill(outbox, 8)
    central = ScriptedCentral(failures=[CentralServerError("busy", 429, retry_after=1)] * 3)
    relay = make_relay(outbox, central, batch_size=8)
    run_steps(relay, outbox, 4)
    assert [len(b) for b in central.batches] == [8, 8, 8, 8]
