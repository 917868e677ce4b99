"""PaymentFlow on the flow base (kiosk/core/flow.py): declared transitions, ledger writes only in the work
step (never where results are delivered: the UI thread), and a sale approved after its visit ended given
back instead of shown to the next citizen."""
from __future__ import annotations

import pytest

from kiosk.core.background import Held
from kiosk.core.flow import FlowError
from kiosk.core.payment.flow import PaymentFlow, PayState

from tests.payment.conftest import of_kind


class Marking:
    """Runs work then delivers at once, remembering which of the two is running."""

    def __init__(self):
        self.in_work = False

    def run(self, work, done=None):
        self.in_work = True
        try:
            result, error = work(), None
        except Exception as exc:
            result, error = None, exc
        finally:
            self.in_work = False
        if done is not None:
            done(result, error)

    def deliver(self, fn):
        fn()


def watch_writes(ledger, executor) -> list[tuple[str, bool]]:
    writes: list[tuple[str, bool]] = []
    for name in ("prepare", "settle", "refund_owed"):
        real = getattr(ledger, name)

        def wrapped(*args, _real=real, _name=name, **kwargs):
            writes.append((_name, executor.in_work))
            return _real(*args, **kwargs)
        setattr(ledger, name, wrapped)
    return writes


def test_every_ledger_write_runs_in_the_work_step(ledger, terminal, scanner, acquirer, clock, sims):
    executor = Marking()
    writes = watch_writes(ledger, executor)
    flow = PaymentFlow(ledger, executor=executor, terminal=terminal, scanner=scanner, gateway=acquirer,
                       clock=clock.monotonic, sleep=clock.sleep)
    assert flow.start("documents", 150) and flow.pay_by_card() and flow.state is PayState.APPROVED
    sims["payment"].set_outcome("decline")
    assert flow.refund("print failed: paper_out") and flow.state is PayState.REFUND_OWED
    terminal.send = lambda pending, cancel=None: 1 / 0    # a failure nobody foresaw: settled as unknown
    sims["payment"].set_outcome("approve")
    assert flow.start("documents", 150) and flow.pay_by_card() and flow.state is PayState.UNKNOWN
    assert [name for name, _ in writes] == ["prepare", "settle", "prepare", "settle", "refund_owed", "prepare",
                                            "settle"]
    assert all(in_work for _, in_work in writes), writes


def test_a_sale_approved_after_its_visit_ended_is_given_back_not_shown(ledger, terminal, outbox, clock, sims):
    held = Held()
    flow = PaymentFlow(ledger, executor=held, terminal=terminal, clock=clock.monotonic, sleep=clock.sleep)
    flow.start("documents", 150)
    flow.pay_by_card()
    sale = flow.reference
    flow.reset()                   # the visit ends while the terminal holds the sale (a forced reset)
    held.release()                 # the sale's answer, then the give-back it schedules
    assert flow.state is PayState.IDLE and flow.reference is None
    row = ledger.get(sale)
    assert (row.state, row.service_state) == ("approved", "refund_owed")   # a card refund needs the card
    assert f"refund_owed_{sale}" in [a["code"] for a in of_kind(outbox, "alarm")]


def test_the_flow_declares_its_transitions(flow):
    with pytest.raises(FlowError):
        flow.go(PayState.APPROVED)         # nothing is approved that was never asked for
    assert flow.start("documents", 100) and flow.allowed(PayState.WAIT_CARD) and not flow.allowed(PayState.REFUNDING)
