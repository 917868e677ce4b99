"""The Concert terminal driver against its simulator: outcomes, the long wait, never a guessed result."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.hardware.device import Completion, DeviceError, State, VirtualClock
from kiosk.hardware.payment import ConcertTerminal, PendingSale, Result
from kiosk.sim import registry as sim_registry


@pytest.fixture
def clock():
    return VirtualClock()


@pytest.fixture
def sim(clock):
    sim_registry.reset_simulators()
    yield sim_registry.simulator("payment", clock)
    sim_registry.reset_simulators()


@pytest.fixture
def terminal(sim, clock):
    t = ConcertTerminal("payment", "sim://payment", clock=clock, result_timeout_s=120)
    yield t
    t.close()


def test_default_simulator_approves_a_sale(terminal, sim):
    pending = terminal.prepare_sale(100)
    outcome = terminal.send(pending)
    assert (outcome.result, outcome.amount_fen, outcome.reference) == (Result.APPROVED, 100, pending.reference)
    req = sim.requests[-1]
    assert (req.amount_fen, req.transaction_type, req.currency, req.reference) == (100, "0", "156", pending.reference)


def test_prepare_gives_a_record_to_persist_that_round_trips(terminal):
    pending = terminal.prepare_sale(250)
    assert PendingSale.from_dict(pending.as_dict()) == pending
    assert len(pending.reference) == 10 and pending.kind == "sale"


def test_a_refund_is_sent_as_transaction_type_2(terminal, sim):
    outcome = terminal.send(terminal.prepare_refund(300))
    assert outcome.result is Result.APPROVED and outcome.kind == "refund"
    assert sim.requests[-1].transaction_type == "2"


def test_a_declined_sale_is_declined(terminal, sim):
    sim.set_outcome("decline")
    outcome = terminal.send(terminal.prepare_sale(100))
    assert (outcome.result, outcome.detail) == (Result.DECLINED, "rejected")


def test_an_answer_after_90_s_is_awaited_within_the_result_timeout(terminal, sim, clock):
    sim.set_outcome("approve", answer_delay=90)
    start = clock.monotonic()
    assert terminal.send(terminal.prepare_sale(100)).result is Result.APPROVED
    assert clock.monotonic() - start == pytest.approx(90, abs=1)


def test_no_answer_from_the_cardholder_is_unknown_never_declined(terminal, sim, clock):
    sim.set_outcome("no_answer")
    start = clock.monotonic()
    outcome = terminal.send(terminal.prepare_sale(100))
    assert (outcome.result, outcome.detail, outcome.sent) == (Result.UNKNOWN, "no_result", True)
    assert clock.monotonic() - start == pytest.approx(120, abs=1)
    sim.set_outcome("approve")
    assert terminal.send(terminal.prepare_sale(100)).result is Result.APPROVED


def test_a_garbled_answer_is_unknown(terminal, sim):
    sim.set_outcome("garbled")
    outcome = terminal.send(terminal.prepare_sale(100))
    assert (outcome.result, outcome.detail) == (Result.UNKNOWN, "garbled_answer")


def test_an_answer_for_another_transaction_is_unknown(terminal, sim):
    sim.set_outcome("wrong_reference")
    assert terminal.send(terminal.prepare_sale(100)).result is Result.UNKNOWN


def test_a_terminal_that_does_not_answer_enq_got_nothing_and_shows_offline(terminal, sim):
    sim.set_outcome("offline")
    outcome = terminal.send(terminal.prepare_sale(100))
    assert (outcome.result, outcome.sent, outcome.detail) == (Result.DECLINED, False, "no_answer")
    assert sim.requests == []
    assert (terminal.status().state, terminal.status().detail) == (State.OFFLINE, "no_answer")
    assert not terminal.self_test().ok
    sim.set_outcome("approve")
    assert terminal.status().state is State.ONLINE


def test_status_probe_does_not_start_a_transaction(terminal, sim):
    assert terminal.status().state is State.ONLINE
    assert sim.requests == []


def test_an_answer_later_than_the_result_timeout_is_unknown_and_reconcile_catches_it(sim, clock):
    sim.set_outcome("approve", answer_delay=90)
    first = ConcertTerminal("payment", "sim://payment", clock=clock, result_timeout_s=60)
    pending = first.prepare_sale(100)
    assert first.send(pending).result is Result.UNKNOWN
    first.close()                     # the kiosk restarts with the pending sale persisted
    second = ConcertTerminal("payment", "sim://payment", clock=clock)
    outcome = second.reconcile(PendingSale.from_dict(pending.as_dict()), listen_s=60)
    assert (outcome.result, outcome.reference) == (Result.APPROVED, pending.reference)
    second.close()


def test_reconcile_with_nothing_to_catch_stays_unknown_and_asks_for_a_manual_check(terminal):
    outcome = terminal.reconcile(terminal.prepare_sale(100), listen_s=5)
    assert (outcome.result, outcome.detail) == (Result.UNKNOWN, "needs_manual_check")


def test_abort_from_another_thread_stops_the_wait_and_leaves_the_outcome_unknown():
    import threading
    import time

    sim_registry.reset_simulators()
    sim = sim_registry.simulator("payment")          # real time: the abort comes from another thread
    sim.set_outcome("no_answer")
    term = ConcertTerminal("payment", "sim://payment", result_timeout_s=30, timeouts={"abort_grace": 0.2})
    done = {}
    worker = threading.Thread(target=lambda: done.setdefault("o", term.send(term.prepare_sale(100))))
    worker.start()
    for _ in range(200):
        if sim.requests:
            break
        time.sleep(0.01)
    term.abort()
    worker.join(10)
    term.close()
    sim_registry.reset_simulators()
    assert not worker.is_alive()
    assert (done["o"].result, done["o"].detail) == (Result.UNKNOWN, "canceled")


def test_abort_during_the_wait_gives_unknown_canceled(sim, clock):
    from kiosk.hardware.device import CancelToken

    sim.set_outcome("no_answer")
    term = ConcertTerminal("payment", "sim://payment", clock=clock)
    token = CancelToken()
    token.cancel()
    outcome = term.send(term.prepare_sale(100), cancel=token)
    assert (outcome.result, outcome.detail) == (Result.UNKNOWN, "canceled")
    term.close()


@pytest.mark.parametrize("amount", [0, -1, 100_000_000])
def test_an_impossible_amount_is_a_user_error(terminal, amount):
    with pytest.raises(DeviceError) as err:
        terminal.prepare_sale(amount)
    assert err.value.completion is Completion.USER_ERROR


class RandomPort:
    url = "fuzz://"

    def __init__(self, chunks, clock):
        self.chunks, self.clock = list(chunks), clock

    def write(self, data):
        pass

    def read(self, size, timeout):
        if self.chunks:
            return self.chunks.pop(0)[:max(1, size)]
        self.clock.advance(timeout)
        return b""

    def flush_input(self):
        pass

    def close(self):
        pass


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.binary(min_size=1, max_size=30) | st.sampled_from([b"\x06", b"\x05", b"\x15", b"\x02"]),
                max_size=40))
def test_a_terminal_answering_random_bytes_is_never_approved_and_never_hangs(chunks):
    clock = VirtualClock()
    term = ConcertTerminal("payment", "fuzz://", clock=clock, transport=RandomPort(chunks, clock))
    start = clock.monotonic()
    outcome = term.send(term.prepare_sale(100))
    assert outcome.result is not Result.APPROVED
    assert clock.monotonic() - start < 200


def test_a_request_whose_lrc_is_the_enq_byte_is_still_one_frame(terminal, sim):
    from kiosk.hardware.payment import ENQ, Request, encode_frame, encode_request

    import itertools
    import string

    refs = ("REF0000" + "".join(t) for t in itertools.product(string.digits + string.ascii_uppercase, repeat=3))
    reference = next(r for r in refs if encode_frame(encode_request(Request("01", 100, "0", "156", r)))[-1] == ENQ)
    outcome = terminal.send(terminal.prepare_sale(100, reference=reference))
    assert (outcome.result, outcome.reference) == (Result.APPROVED, reference)


@pytest.mark.parametrize("fault, result, detail", [
    ("decline", Result.DECLINED, "rejected"),
    ("not_verified", Result.DECLINED, "not_verified"),
    ("garbled", Result.UNKNOWN, "garbled_answer"),
    ("wrong_reference", Result.UNKNOWN, "mismatched_answer"),
    ("no_answer", Result.UNKNOWN, "no_result"),
    ("offline", Result.DECLINED, "no_answer"),
])
def test_after_each_fault_clears_the_next_sale_is_approved(terminal, sim, fault, result, detail):
    sim.set_outcome(fault)
    outcome = terminal.send(terminal.prepare_sale(100))
    assert (outcome.result, outcome.detail) == (result, detail)
    sim.set_outcome("approve")
    assert terminal.status().state is State.ONLINE
    assert terminal.send(terminal.prepare_sale(100)).result is Result.APPROVED
