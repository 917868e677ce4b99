"""PaymentFlow against the real Concert driver and scanner driver on their simulators (virtual time) and
the central platform's demo acquirer: outcomes, cancel rules, never a guessed or double charge."""
from __future__ import annotations

import pytest

from kiosk.core.background import Held
from kiosk.core.payment.flow import PaymentFlow, PayState
from kiosk.core.payment.money import show_reference, yuan

from tests.payment.conftest import kinds, of_kind, show_code_when_asked


def wechat(last: str) -> str:
    return "13456789012345678" + last     # 18 digits, prefix 10-15


def alipay(last: str) -> str:
    return "28123456789012345" + last     # 18 digits, prefix 25-30


def test_card_payment_approved_records_one_payment_transaction_without_personal_data(flow, ledger, outbox, sims):
    assert flow.start("documents", 150)
    assert flow.state is PayState.CHOOSE and flow.methods == ["card", "code"]
    assert flow.pay_by_card()
    assert flow.state is PayState.APPROVED
    row = ledger.get(flow.reference)
    assert (row.state, row.kind, row.method, row.amount_fen, row.service_state) == ("approved", "sale", "card", 150, "open")
    [payment] = of_kind(outbox, "payment")
    assert payment == {"reference": flow.reference, "method": "card", "channel": "card", "amount_fen": 150,
                       "currency": "CNY", "service": "documents", "result": "approved"}
    assert [r.reference for r in sims["payment"].requests] == [flow.reference]


def test_the_payment_is_recorded_before_the_request_reaches_the_terminal(flow, ledger, terminal):
    seen = []
    real_send = terminal.send

    def send(pending, cancel=None):
        seen.append(ledger.store.connect().execute("SELECT state FROM payments WHERE reference=?",
                                                   (pending.reference,)).fetchone()[0])
        return real_send(pending, cancel)

    terminal.send = send
    flow.start("documents", 100)
    flow.pay_by_card()
    assert seen == ["in_flight"]


def test_a_declined_card_charges_nothing_and_the_citizen_may_retry_or_cancel(flow, outbox, sims):
    sims["payment"].set_outcome("decline")
    flow.start("documents", 100)
    flow.pay_by_card()
    assert flow.state is PayState.DECLINED and flow.detail == "rejected"
    first = flow.reference
    assert "payment" not in kinds(outbox)
    assert flow.retry() and flow.state is PayState.CHOOSE
    sims["payment"].set_outcome("approve")
    flow.pay_by_card()
    assert flow.state is PayState.APPROVED and flow.reference != first
    assert len(of_kind(outbox, "payment")) == 1


def test_no_answer_from_the_terminal_is_unknown_with_a_reference_and_a_staff_alarm_and_is_never_resent(
        flow, ledger, outbox, sims, clock):
    sims["payment"].set_outcome("no_answer")
    flow.start("documents", 300)
    start = clock.monotonic()
    flow.pay_by_card()
    assert flow.state is PayState.UNKNOWN
    assert clock.monotonic() - start == pytest.approx(120, abs=2)   # the whole wait for the cardholder
    assert len(sims["payment"].requests) == 1
    assert ledger.get(flow.reference).state == "unknown"
    assert "payment" not in kinds(outbox)
    [alarm] = of_kind(outbox, "alarm")
    assert alarm["code"] == f"outcome_unknown_{flow.reference}" and show_reference(flow.reference) in alarm["detail"]
    assert flow.shown_reference == show_reference(flow.reference)
    assert not flow.cancel() and not flow.retry()      # nothing more happens to this payment at the kiosk


def test_cancel_works_before_anything_is_sent_and_not_after(ledger, terminal, scanner, acquirer, clock, sims):
    held = Held()
    flow = PaymentFlow(ledger, executor=held, terminal=terminal, scanner=scanner, gateway=acquirer,
                       clock=clock.monotonic, sleep=clock.sleep)
    flow.start("documents", 100)
    assert flow.cancel() and flow.state is PayState.CANCELED
    flow.start("documents", 100)
    flow.pay_by_card()
    assert flow.state is PayState.WAIT_CARD and not flow.cancel()
    held.release()
    assert flow.state is PayState.APPROVED
    flow.start("documents", 100)
    flow.pay_by_code()
    assert flow.state is PayState.WAIT_CODE and flow.cancel()
    held.release()               # the scanner read ends canceled; nothing was sent
    assert flow.state is PayState.CANCELED and acquirer.calls == []


def test_a_payment_code_is_paid_once_and_never_stored(flow, ledger, outbox, sims, acquirer, tmp_path):
    code = wechat("0")
    show_code_when_asked(flow.scanner, sims["scanner"], code)
    flow.start("documents", 200)
    flow.pay_by_code()
    assert flow.state is PayState.APPROVED and flow.channel == "wechat_pay"
    assert acquirer.calls == ["pay"] and acquirer.charged() == 1
    assert of_kind(outbox, "payment")[0]["channel"] == "wechat_pay"
    for db in (tmp_path / "kiosk").glob("kiosk.db*"):
        assert code.encode() not in db.read_bytes()


def test_a_declined_code_charges_nothing(flow, outbox, sims):
    show_code_when_asked(flow.scanner, sims["scanner"], alipay("1"))
    flow.start("documents", 200)
    flow.pay_by_code()
    assert flow.state is PayState.DECLINED and flow.detail == "insufficient_balance"
    assert "payment" not in kinds(outbox)


def test_a_lost_answer_to_pay_is_queried_never_paid_again(flow, sims, acquirer):
    show_code_when_asked(flow.scanner, sims["scanner"], wechat("3"))
    flow.start("documents", 200)
    flow.pay_by_code()
    assert flow.state is PayState.APPROVED
    assert acquirer.calls == ["pay", "query"] and acquirer.charged() == 1


def test_a_payer_confirming_on_the_phone_is_followed_until_approved(flow, sims, acquirer, clock):
    show_code_when_asked(flow.scanner, sims["scanner"], wechat("2"))
    flow.start("documents", 200)
    flow.pay_by_code()
    assert flow.state is PayState.APPROVED
    assert acquirer.calls == ["pay", "query", "query"]


def test_a_payment_never_confirmed_is_called_back_after_45_s_and_charges_nothing(flow, sims, acquirer, clock, outbox):
    show_code_when_asked(flow.scanner, sims["scanner"], wechat("4"))
    flow.start("documents", 200)
    start = clock.monotonic()
    flow.pay_by_code()
    assert flow.state is PayState.DECLINED and flow.detail == "not_confirmed_in_time"
    assert clock.monotonic() - start >= 45
    assert acquirer.calls[-1] == "reverse" and acquirer.charged() == 0
    assert "payment" not in kinds(outbox)


def test_a_payment_that_cannot_be_called_back_is_unknown_with_an_alarm(flow, sims, outbox):
    show_code_when_asked(flow.scanner, sims["scanner"], wechat("5"))
    flow.start("documents", 200)
    flow.pay_by_code()
    assert flow.state is PayState.UNKNOWN
    assert [a["code"] for a in of_kind(outbox, "alarm")] == [f"outcome_unknown_{flow.reference}"]


def test_a_pickup_code_at_the_scanner_is_not_taken_for_a_payment(ledger, terminal, scanner, acquirer, clock, sims):
    held = Held()
    flow = PaymentFlow(ledger, executor=held, terminal=terminal, scanner=scanner, gateway=acquirer,
                       clock=clock.monotonic, sleep=clock.sleep)
    show_code_when_asked(scanner, sims["scanner"], "123456", wechat("0"))
    flow.start("documents", 100)
    flow.pay_by_code()
    held.release(1)
    assert flow.state is PayState.WAIT_CODE and flow.notice == "not_a_payment_code"
    held.release()
    assert flow.state is PayState.APPROVED and acquirer.calls == ["pay"]


def test_no_code_shown_in_time_goes_back_to_the_choice(flow, clock):
    flow.start("documents", 100)
    flow.pay_by_code()
    assert flow.state is PayState.CHOOSE and flow.notice == "no_code"


def test_a_failed_service_refunds_a_card_payment_and_records_the_refund(flow, outbox, sims, ledger):
    flow.start("documents", 150)
    flow.pay_by_card()
    sale = flow.reference
    assert flow.refund("print failed: paper_out")
    assert flow.state is PayState.REFUNDED
    [refund] = of_kind(outbox, "refund")
    assert refund["payment_reference"] == sale and refund["amount_fen"] == 150
    assert sims["payment"].requests[-1].transaction_type == "2"
    assert ledger.get(sale).service_state == "refunded"


def test_a_refund_that_cannot_be_done_here_is_owed_with_an_alarm_and_the_reference(flow, outbox, sims, ledger):
    flow.start("documents", 150)
    flow.pay_by_card()
    sale = flow.reference
    sims["payment"].set_outcome("decline")
    flow.refund("print failed: paper_out")
    assert flow.state is PayState.REFUND_OWED and flow.shown_reference == show_reference(sale)
    assert ledger.get(sale).service_state == "refund_owed"
    assert f"refund_owed_{sale}" in [a["code"] for a in of_kind(outbox, "alarm")]
    assert "refund" not in kinds(outbox)


def test_a_code_payment_is_refunded_through_the_acquirer(flow, sims, outbox, acquirer):
    show_code_when_asked(flow.scanner, sims["scanner"], alipay("0"))
    flow.start("documents", 100)
    flow.pay_by_code()
    flow.refund("print failed: job_aborted")
    assert flow.state is PayState.REFUNDED and acquirer.calls[-1] == "refund"
    assert len(of_kind(outbox, "refund")) == 1


def test_amounts_show_as_yuan():
    assert (yuan(5), yuan(150), yuan(10000)) == ("¥0.05", "¥1.50", "¥100.00")
