"""The outbox: same-commit recording, monotonic never-reused seq, recovery, pruning, privacy, a full disk."""

import pytest

from kiosk import store
from kiosk.store import StoreError, transaction
from kiosk.sync.outbox import Outbox, OutboxError, enqueue
from tests.clocks import ManualClock


@pytest.fixture
def conn(tmp_path):
    c = store.connect(tmp_path / "kiosk.db")
    store.migrate(c)
    c.execute("CREATE TABLE doors (door INTEGER PRIMARY KEY, item TEXT)")
    c.execute("INSERT INTO doors VALUES (7, 'certificate')")
    yield c
    c.close()


def test_enqueue_commits_with_the_business_change(conn):
    with transaction(conn):
        conn.execute("UPDATE doors SET item=NULL WHERE door=7")
        entry = enqueue(conn, "pickup", {"door": 7})
    assert conn.execute("SELECT item FROM doors").fetchone()[0] is None
    assert Outbox(conn).get(entry.id).data == {"door": 7}


def test_enqueue_rolls_back_with_the_business_change(conn):
    with pytest.raises(RuntimeError):
        with transaction(conn):
            conn.execute("UPDATE doors SET item=NULL WHERE door=7")
            enqueue(conn, "pickup", {"door": 7})
            raise RuntimeError("the door did not open")
    assert conn.execute("SELECT item FROM doors").fetchone()[0] == "certificate"
    assert Outbox(conn).summary().counts["pending"] == 0


def test_enqueue_outside_a_transaction_is_refused(conn):
    with pytest.raises(OutboxError, match="open transaction"):
        enqueue(conn, "pickup", {"door": 7})


def test_a_row_carries_uuid_local_time_with_offset_boot_id_and_uptime(conn):
    e = Outbox(conn).record("probe", {"n": 1})
    assert len(e.id) == 36 and e.id.count("-") == 4
    assert e.occurred_at[-6] in "+-" and e.occurred_at[-3] == ":"  # RFC 3339 offset, e.g. +08:00
    assert e.boot_id and e.uptime_s and e.uptime_s > 0
    stored = conn.execute("SELECT body FROM outbox WHERE id=?", (e.id,)).fetchone()[0]
    assert stored == '{"n":1}'  # JSON text, nothing else


def test_seq_is_monotonic_and_never_reused_after_pruning(conn):
    clock = ManualClock(1_800_000_000.0)
    ob = Outbox(conn, now=clock)
    first = [ob.record("probe", {"n": i}).seq for i in range(5)]
    assert first == sorted(first) and len(set(first)) == 5
    ob.settle(first, {}, {}, 0)
    clock.t += 31 * 86400
    assert ob.prune(30) == 5
    assert ob.record("probe", {"n": 6}).seq == first[-1] + 1


def test_prune_keeps_recent_acked_and_everything_not_acked(conn):
    clock = ManualClock(1_800_000_000.0)
    ob = Outbox(conn, now=clock)
    a, b, c = (ob.record("probe", {"n": i}).seq for i in range(3))
    ob.claim(10)
    ob.settle([a], {b: "rejected"}, {c: "offline"}, clock.t)
    clock.t += 29 * 86400
    assert ob.prune(30) == 0
    clock.t += 2 * 86400
    assert ob.prune(30) == 1
    assert ob.summary().counts == {"pending": 1, "inflight": 0, "acked": 0, "dead": 1}


def test_inflight_rows_go_back_to_pending_on_start(conn):
    ob = Outbox(conn)
    for i in range(3):
        ob.record("probe", {"n": i})
    assert len(ob.claim(2)) == 2
    assert ob.summary().counts["inflight"] == 2
    assert Outbox(conn).recover() == 2
    assert ob.summary().counts == {"pending": 3, "inflight": 0, "acked": 0, "dead": 0}


def test_claim_skips_rows_not_yet_due_unless_forced(conn):
    clock = ManualClock(1_800_000_000.0)
    ob = Outbox(conn, now=clock)
    s = ob.record("probe", {}).seq
    ob.claim(1)
    ob.release([s], "offline", clock.t + 60)
    assert ob.claim(10) == []
    assert [e.seq for e in ob.claim(10, due_only=False)] == [s]


def test_a_next_try_far_in_the_future_is_treated_as_due_after_a_clock_jump(conn):
    clock = ManualClock(1_800_000_000.0)
    ob = Outbox(conn, now=clock)
    s = ob.record("probe", {}).seq
    ob.claim(1)
    ob.release([s], "offline", clock.t + 60)
    clock.t -= 3 * 86400  # the wall clock was set back by days
    assert [e.seq for e in ob.claim(10)] == [s]


@pytest.mark.parametrize("data, words", [
    ({"name": "张三"}, "personal data"),
    ({"holder": {"id_number": "x"}}, "personal data"),
    ({"note": "card 11010519491231002X read"}, "full ID number"),
    ({"codes": [110105194912310021]}, "full ID number"),
    ({"probe": {"11010519491231002X": 1}}, "a key looks like a full ID number"),
    ({"when": float("nan")}, "not a JSON number"),
    ({"blob": b"\x00"}, "not JSON"),
])
def test_personal_data_and_non_json_are_refused(conn, data, words):
    with pytest.raises(OutboxError, match=words) as refused:
        Outbox(conn).record("pickup", data)
    assert "11010519491231002" not in str(refused.value)   # the refusal never repeats the number
    assert Outbox(conn).summary().counts["pending"] == 0


def test_masked_values_and_keyed_hashes_are_accepted(conn):
    e = Outbox(conn).record("pickup", {"holder": "110***********002X", "holder_hash": "ab12" * 16,
                                        "amount_fen": 2500})
    assert e.data["holder"] == "110***********002X"


def test_unknown_kind_is_refused(conn):
    with pytest.raises(OutboxError, match="unknown transaction kind 'coffee'"):
        Outbox(conn).record("coffee", {})


def test_a_full_disk_is_a_clear_store_error_and_keeps_what_was_committed(conn):
    ob = Outbox(conn)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 4}").fetchone()  # a disk with four pages left
    committed = []
    with pytest.raises(StoreError, match="disk is full") as err:
        for i in range(1000):
            committed.append(ob.record("probe", {"n": i, "pad": "x" * 800}).id)
    assert "nothing was lost" in str(err.value)
    assert committed and not conn.in_transaction
    assert all(ob.get(i) is not None for i in committed)
    assert ob.summary().counts["pending"] == len(committed)


def test_a_damaged_body_goes_dead_with_its_reason_instead_of_being_sent(conn):
    ob = Outbox(conn)
    s = ob.record("probe", {"n": 1}).seq
    conn.execute("UPDATE outbox SET body='{not json' WHERE seq=?", (s,))
    assert ob.claim(10) == []
    dead = ob.items("dead")
    assert dead[0].seq == s and "unreadable body" in dead[0].last_error


def test_retry_dead_puts_items_back_to_pending(conn):
    ob = Outbox(conn)
    s = ob.record("probe", {}).seq
    ob.claim(1)
    ob.settle([], {s: "rejected by the platform: bad"}, {}, 0)
    assert ob.retry_dead() == 1
    assert ob.summary().counts["pending"] == 1
