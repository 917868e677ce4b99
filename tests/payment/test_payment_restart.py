"""After a crash or power cut: a payment whose outcome was not known is queried before anything else."""
from __future__ import annotations

from kiosk.core.background import Inline
from kiosk.core.payment.flow import PaymentFlow, PayState
from kiosk.core.payment.ledger import PaymentLedger
from kiosk.core.payment.money import new_reference
from kiosk.core.payment.recovery import PaymentRecovery
from kiosk.sync import outbox as outbox_module

from tests.payment.conftest import KIOSK, of_kind


def crashed_card_sale(kiosk_store, terminal, amount=150):
    """What a kiosk leaves when it dies after persisting and sending a sale, before reading the answer."""
    before = PaymentLedger(kiosk_store, outbox_module)
    pending = terminal.prepare_sale(amount, reference=new_reference())
    before.prepare(pending.reference, "sale", "card", "card", amount, "documents", pending=pending.as_dict())
    return pending


def test_a_restart_queries_the_in_flight_card_payment_before_taking_a_new_one(kiosk_store, terminal, scanner,
                                                                                acquirer, clock, sims, outbox):
    pending = crashed_card_sale(kiosk_store, terminal)
    sims["payment"].set_outcome("no_answer")   # the terminal has nothing more to say about it
    after = PaymentLedger(kiosk_store, outbox_module)
    flow = PaymentFlow(after, executor=Inline(), terminal=terminal, scanner=scanner, gateway=acquirer,
                       clock=clock.monotonic, sleep=clock.sleep)
    assert not flow.start("documents", 100)       # nothing new before the old one is looked at
    assert sims["payment"].requests == []

    order = []
    real = terminal.reconcile
    terminal.reconcile = lambda p, listen=None: (order.append(("reconcile", p.reference)), real(p, listen))[1]
    report = PaymentRecovery(after, terminal=terminal, gateway=acquirer).run()
    assert order == [("reconcile", pending.reference)]
    assert after.get(pending.reference).state == "unknown"
    assert report[0][0] == pending.reference
    assert f"outcome_unknown_{pending.reference}" in [a["code"] for a in of_kind(outbox, "alarm")]

    sims["payment"].set_outcome("approve")
    assert flow.start("documents", 100) and flow.pay_by_card() and flow.state is PayState.APPROVED
    assert [r.reference for r in sims["payment"].requests] == [flow.reference]   # the old one is never resent


def test_a_code_payment_approved_while_the_kiosk_was_down_is_found_and_refunded(kiosk_store, acquirer, outbox):
    ref = new_reference()
    before = PaymentLedger(kiosk_store, outbox_module)
    before.prepare(ref, "sale", "code", "wechat_pay", 200, "documents")
    try:  # the request reached the acquirer; the answer did not reach the kiosk
        acquirer.pay(ref, 200, "134567890123456783", "wechat_pay", "documents")
    except Exception:
        pass
    after = PaymentLedger(kiosk_store, outbox_module)
    PaymentRecovery(after, gateway=acquirer).run()
    assert after.recovered.is_set()
    assert after.get(ref).state == "approved" and after.get(ref).service_state == "refunded"
    assert acquirer.calls == ["pay", "query", "refund"] and acquirer.charged() == 0
    assert [p["reference"] for p in of_kind(outbox, "payment")] == [ref]
    assert [r["payment_reference"] for r in of_kind(outbox, "refund")] == [ref]


def test_a_code_payment_that_never_reached_the_acquirer_is_settled_as_canceled(kiosk_store, acquirer, outbox):
    ref = new_reference()
    PaymentLedger(kiosk_store, outbox_module).prepare(ref, "sale", "code", "alipay", 200, "documents")
    after = PaymentLedger(kiosk_store, outbox_module)
    PaymentRecovery(after, gateway=acquirer).run()
    assert after.get(ref).state == "canceled"
    assert of_kind(outbox, "payment") == [] and of_kind(outbox, "alarm") == []


def test_an_approved_sale_whose_print_was_cut_by_a_crash_goes_to_staff(kiosk_store, terminal, outbox):
    ledger = PaymentLedger(kiosk_store, outbox_module)
    ref = new_reference()
    ledger.prepare(ref, "sale", "card", "card", 150, "documents", pending=terminal.prepare_sale(150, ref).as_dict())
    ledger.settle(ref, "approved", "approved")
    PaymentRecovery(PaymentLedger(kiosk_store, outbox_module), terminal=terminal).run()
    assert ledger.get(ref).service_state == "refund_owed"
    assert f"refund_owed_{ref}" in [a["code"] for a in of_kind(outbox, "alarm")]
