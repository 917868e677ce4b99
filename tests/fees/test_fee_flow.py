"""FeeFlow as a state machine (kiosk/core/fees.py): the number typed or scanned, the notice, every refusal, the
platform offline, paying on the terminal and with a code, telling the platform, the receipt, and every way
money can go wrong: an unknown outcome, a platform that times out after storing, a platform that refuses
the payment afterwards. Nothing is ever charged twice for one notice at this kiosk."""
from __future__ import annotations

import json

import pytest

from kiosk.core.fees import RECEIPT_PENDING, FeeState, subject_of
from kiosk.core.flow import Leave
from kiosk.core.payment.flow import PayState
from kiosk.core.payment.recovery import PaymentRecovery
from kiosk.hardware.scanner import classify
from kiosk.i18n import _
from kiosk.wire.fees import FeeRefusal, receipt_token_digest

from tests.fees.conftest import COMPANY, NUMBER, WALL, of_kind, type_number

WECHAT_OK = "134567890123456780"     # the demo acquirer approves a code ending in 0
ALIPAY_OK = "281234567890123450"


def to_notice(p, number: str = NUMBER) -> None:
    flow, held = p["flow"], p["held"]
    flow.begin()
    assert flow.state is FeeState.ENTER
    type_number(flow, number)
    assert flow.can_submit and flow.submit()
    assert flow.state is FeeState.LOOKING
    held.release()
    assert flow.state is FeeState.NOTICE, (flow.problem, flow.problem_detail)


def pay_by_card(p) -> None:
    flow, payment = p["flow"], p["payment"]
    assert flow.pay() and flow.state is FeeState.PAYING
    assert payment.state is PayState.CHOOSE and payment.amount_fen == flow.notice.total_fen
    assert payment.pay_by_card()


def nothing_charged(p, outbox) -> None:
    assert p["terminal"] is not None and p["payment"].ledger.rows() == []
    assert of_kind(outbox, "payment") == [] and p["central"].reports == []


# --- the happy path -------------------------------------------------------------------------------------

def test_a_typed_notice_is_shown_paid_by_card_told_to_the_platform_and_its_receipt_printed(parts, outbox, sims):
    flow, held, central, printer, ledger = parts["flow"], parts["held"], parts["central"], parts["printer"], parts["ledger"]
    to_notice(parts)
    assert central.asked == [(NUMBER, 3)]
    assert flow.notice.payer_masked == "张**" and flow.notice.total_fen == 9000
    pay_by_card(parts)
    assert parts["payment"].state is PayState.APPROVED and flow.state is FeeState.CONFIRMING
    held.release(1)
    assert flow.state is FeeState.PRINTING and flow.confirmed == "paid"
    held.release()
    assert flow.state is FeeState.DONE and flow.printed is True
    # one sale, on the terminal, with the notice as its subject; delivered by its own payment transaction
    assert len(sims["payment"].requests) == 1
    [sale] = ledger.sales_for(subject_of(NUMBER))
    assert sale.state == "approved" and sale.service_state == "delivered" and sale.amount_fen == 9000
    [paid] = of_kind(outbox, "payment")
    assert paid["fee_notice"] == NUMBER and paid["service"] == "fees" and paid["amount_fen"] == 9000
    assert paid["receipt_token_sha256"] == receipt_token_digest(flow.receipt_url.rsplit("/", 1)[1])
    # the platform got the very item the outbox holds (the relay sends the same one later)
    [item] = central.reports
    assert item["id"] == flow.transaction_id == sale.outbox_id and item["data"] == paid
    # the receipt: the notice, the payer masked, the items, the total, the reference and the e-receipt's QR
    text = printer.text()
    for expected in (NUMBER, "示例市不动产登记中心", "张**", "不动产登记费（住宅）", "¥80.00", "¥90.00",
                     flow.shown_reference, "12345", f"[QR https://hall.example.gov.cn/r/", WALL.strftime("%Y-%m-%d %H:%M")):
        assert expected in text, expected
    assert _(RECEIPT_PENDING)[:12] not in text
    assert flow.leaving(idle=False).free


def test_the_notice_scanned_from_its_qr_code_is_looked_up(parts):
    flow, held = parts["flow"], parts["held"]
    flow.begin()
    flow.scanned(classify(f"https://fees.example.gov.cn/pay?code={NUMBER}&v=1"))
    assert flow.state is FeeState.LOOKING and flow.number == NUMBER
    held.release()
    assert flow.state is FeeState.NOTICE


def test_a_payment_code_or_another_code_at_the_scanner_is_not_taken_for_a_notice(parts):
    flow = parts["flow"]
    flow.begin()
    flow.scanned(classify(WECHAT_OK))
    assert (flow.state, flow.hint) == (FeeState.ENTER, "payment_code_too_early")
    flow.scanned(classify("KIOSK-PICKUP:123456"))
    assert (flow.state, flow.hint) == (FeeState.ENTER, "not_a_notice_number")
    assert parts["central"].asked == []


def test_a_number_short_of_20_digits_is_not_sent(parts):
    flow = parts["flow"]
    flow.begin()
    type_number(flow, NUMBER[:19])
    assert not flow.can_submit and not flow.submit()
    assert (flow.state, flow.hint) == (FeeState.ENTER, "number_incomplete")
    flow.backspace()
    assert flow.typed == NUMBER[:18]
    flow.clear()
    assert flow.typed == "" and flow.hint == "" and parts["central"].asked == []


# --- refused before any money moves ---------------------------------------------------------------------

@pytest.mark.parametrize("reason, details", [
    ("notice_unknown", []), ("notice_malformed", []), ("notice_paid", [{"paid_on": "2026-12-03"}]),
    ("notice_expired", [{"due_date": "2026-11-21"}]), ("notice_other_hall", [{"hall_name": "示例县政务服务中心"}]),
])
def test_a_notice_the_platform_refuses_is_said_plainly_and_nothing_is_charged_or_stored(parts, outbox, reason,
                                                                                         details):
    flow, held = parts["flow"], parts["held"]
    parts["central"].notices[NUMBER] = FeeRefusal(reason, "refused", details)
    flow.begin()
    type_number(flow, NUMBER)
    flow.submit()
    held.release()
    assert (flow.state, flow.problem) == (FeeState.REFUSED, reason)
    assert flow.problem_detail == (details[0] if details else {})
    assert not flow.pay() and parts["payment"].state is PayState.IDLE
    nothing_charged(parts, outbox)
    flow.again()
    assert flow.state is FeeState.ENTER and flow.typed == ""


def test_the_platform_offline_is_a_calm_sentence_and_trying_again_works(parts, outbox):
    flow, held, central = parts["flow"], parts["held"], parts["central"]
    central.offline = True
    flow.begin()
    type_number(flow, NUMBER)
    flow.submit()
    held.release()
    assert (flow.state, flow.problem) == (FeeState.OFFLINE, "central_offline")
    nothing_charged(parts, outbox)
    central.offline = False
    flow.retry()
    held.release()
    assert flow.state is FeeState.NOTICE


def test_an_answer_that_does_not_add_up_is_not_paid(parts, outbox):
    flow, held = parts["flow"], parts["held"]
    bad = parts["central"].notices[NUMBER].model_copy(update={"total_fen": 1})
    parts["central"].notices[NUMBER] = bad
    flow.begin()
    type_number(flow, NUMBER)
    flow.submit()
    held.release()
    assert (flow.state, flow.problem) == (FeeState.OFFLINE, "answer_unusable")
    nothing_charged(parts, outbox)


def test_without_a_way_to_pay_nothing_starts(parts, outbox):
    parts["payment"].terminal = parts["payment"].scanner = None
    to_notice(parts)
    assert not parts["flow"].pay()
    assert (parts["flow"].state, parts["flow"].problem) == (FeeState.REFUSED, "payment_unavailable")
    nothing_charged(parts, outbox)


def test_a_canceled_payment_goes_back_to_the_notice_with_nothing_charged(parts, outbox):
    flow, payment = parts["flow"], parts["payment"]
    to_notice(parts)
    flow.pay()
    assert payment.cancel()
    assert flow.state is FeeState.NOTICE and payment.state is PayState.CANCELED
    nothing_charged(parts, outbox)


def test_a_late_answer_of_an_ended_visit_is_dropped(parts):
    flow, held = parts["flow"], parts["held"]
    flow.begin()
    type_number(flow, NUMBER)
    flow.submit()
    flow.reset()
    held.release()
    assert flow.state is FeeState.IDLE and flow.notice is None


# --- the double-payment guard ---------------------------------------------------------------------------

def test_an_unknown_terminal_outcome_shows_a_reference_and_the_notice_is_never_paid_again_here(parts, outbox, sims):
    flow, held, payment, central = parts["flow"], parts["held"], parts["payment"], parts["central"]
    to_notice(parts)
    sims["payment"].set_outcome("no_answer")
    pay_by_card(parts)
    assert flow.state is FeeState.PAYMENT_UNKNOWN and payment.state is PayState.UNKNOWN
    unknown = payment.reference
    # the slip printed: the reference stays on screen until Finish, unless nobody is there (the idle timeout)
    assert payment.leaving(idle=False).rule is Leave.CONFIRM and payment.leaving(idle=True).free
    assert parts["slips"].printed == [("unknown", payment.shown_reference, "¥90.00")]
    assert of_kind(outbox, "payment") == [] and central.reports == []
    # a new visit, the same notice: refused here with the reference to quote; the platform is not even asked
    sims["payment"].set_outcome("approve")
    flow.reset()
    flow.begin()
    type_number(flow, NUMBER)
    flow.submit()
    held.release()
    assert (flow.state, flow.problem) == (FeeState.REFUSED, "in_doubt")
    assert flow.quoted_reference == unknown and flow.shown_reference == payment_ref(unknown)
    assert central.asked == [(NUMBER, 3)]
    assert len(sims["payment"].requests) == 1
    # another notice is not held up by it
    flow.again()
    type_number(flow, COMPANY)
    flow.submit()
    held.release()
    assert flow.state is FeeState.NOTICE


def payment_ref(reference: str) -> str:
    return f"{reference[:5]}-{reference[5:]}"


def test_an_unknown_sale_found_approved_after_a_restart_pays_the_notice_and_is_not_given_back(parts, outbox, sims):
    """The terminal's late answer (PaymentRecovery): the sale was for a notice, so its payment transaction tells
    the platform, and the notice stays refused here as paid."""
    flow, held, payment, ledger = parts["flow"], parts["held"], parts["payment"], parts["ledger"]
    to_notice(parts)
    sims["payment"].set_outcome("no_answer")
    pay_by_card(parts)
    sale = payment.reference
    ledger.settle(sale, "approved", "found approved in the terminal's journal")
    assert PaymentRecovery(ledger, terminal=parts["terminal"]).run() == []
    row = ledger.get(sale)
    assert row.service_state == "delivered"
    [paid] = of_kind(outbox, "payment")
    assert paid["fee_notice"] == NUMBER and paid["reference"] == sale
    flow.reset()
    flow.begin()
    type_number(flow, NUMBER)
    flow.submit()
    held.release()
    assert (flow.state, flow.problem, flow.quoted_reference) == (FeeState.REFUSED, "paid_here", sale)


def test_a_platform_that_times_out_after_storing_never_leads_to_a_second_charge(parts, outbox, sims):
    flow, held, central, printer, ledger = parts["flow"], parts["held"], parts["central"], parts["printer"], parts["ledger"]
    central.report = "timeout_after_storing"
    to_notice(parts)
    pay_by_card(parts)
    held.release()
    # not a refusal: the money is kept, the receipt prints and says the notice is being registered
    assert flow.state is FeeState.DONE and flow.confirmed == "pending" and flow.printed
    assert parts["payment"].state is PayState.APPROVED and of_kind(outbox, "refund") == []
    assert _(RECEIPT_PENDING)[:12] in printer.text()      # the receipt says the notice is being registered
    assert len(central.stored) == 1
    # the relay sends the outbox's item later: the platform has it once already
    [entry] = [e for e in outbox.items("pending", 100) if e.kind == "payment"]
    central.report = "paid"
    assert central.report_fee_payment(entry.wire()).transaction == "duplicate"
    assert len(central.stored) == 1 and entry.id in central.stored
    # the same notice again at this kiosk, though the platform has not said it is paid: refused, no sale
    flow.reset()
    flow.begin()
    type_number(flow, NUMBER)
    flow.submit()
    held.release()
    assert (flow.state, flow.problem) == (FeeState.REFUSED, "paid_here")
    assert len(sims["payment"].requests) == 1 and len(ledger.sales_for(subject_of(NUMBER))) == 1


def test_a_platform_offline_after_the_payment_is_not_a_refusal(parts, outbox):
    flow, held, central = parts["flow"], parts["held"], parts["central"]
    central.report = "offline"
    to_notice(parts)
    pay_by_card(parts)
    held.release()
    assert flow.state is FeeState.DONE and flow.confirmed == "pending"
    assert central.stored == {} and len(of_kind(outbox, "payment")) == 1 and of_kind(outbox, "refund") == []


# --- the platform refuses the payment afterwards ------------------------------------------------------------

def test_a_notice_paid_elsewhere_meanwhile_is_refunded_on_the_terminal_with_a_slip(parts, outbox, sims):
    flow, held, central, payment, ledger = parts["flow"], parts["held"], parts["central"], parts["payment"], parts["ledger"]
    central.report = "refund_due:notice_paid"
    to_notice(parts)
    pay_by_card(parts)
    sale = payment.reference
    held.release()
    assert (flow.state, flow.problem) == (FeeState.RETURNING, "notice_paid")
    assert payment.state is PayState.REFUNDED
    assert sims["payment"].requests[-1].transaction_type == "2"    # the refund, on the terminal
    [refund] = of_kind(outbox, "refund")
    assert refund["payment_reference"] == sale and refund["amount_fen"] == 9000
    assert ledger.get(sale).service_state == "refunded"
    assert parts["slips"].printed[-1][0] == "refunded" and parts["printer"].receipts == []
    # given back: the platform decides about a new attempt (it will say the notice is paid)
    flow.reset()
    flow.begin()
    type_number(flow, NUMBER)
    flow.submit()
    held.release()
    assert flow.state is FeeState.NOTICE


def test_a_refund_the_terminal_declines_is_owed_with_an_alarm_and_the_slip_says_so(parts, outbox, sims):
    flow, held, central, payment = parts["flow"], parts["held"], parts["central"], parts["payment"]
    central.report = "refund_due:notice_expired"
    to_notice(parts)
    pay_by_card(parts)
    sale = payment.reference
    sims["payment"].set_outcome("decline")
    held.release()
    assert (flow.state, flow.problem) == (FeeState.RETURNING, "notice_expired")
    assert payment.state is PayState.REFUND_OWED
    assert f"refund_owed_{sale}" in [a["code"] for a in of_kind(outbox, "alarm")]
    assert parts["slips"].printed[-1] == ("refund_owed", payment_ref(sale), "¥90.00")
    assert payment.leaving(idle=False).rule is Leave.CONFIRM


def test_a_code_payment_refused_afterwards_is_refunded_at_the_acquirer(parts, outbox, sims):
    from tests.payment.conftest import show_code_when_asked

    flow, held, central, payment, acquirer = (parts["flow"], parts["held"], parts["central"], parts["payment"],
                                              parts["acquirer"])
    central.report = "refund_due:notice_paid"
    to_notice(parts, COMPANY)
    show_code_when_asked(parts["scanner"], sims["scanner"], ALIPAY_OK)
    assert flow.pay() and payment.pay_by_code()
    assert payment.state is PayState.APPROVED and payment.channel == "alipay"
    [paid] = of_kind(outbox, "payment")
    assert paid["fee_notice"] == COMPANY and paid["channel"] == "alipay" and paid["amount_fen"] == 36000
    held.release()
    assert flow.state is FeeState.RETURNING and payment.state is PayState.REFUNDED
    assert acquirer.calls == ["pay", "refund"] and acquirer.charged() == 0


def test_a_code_payment_is_told_to_the_platform_like_a_card(parts, outbox, sims):
    from tests.payment.conftest import show_code_when_asked

    flow, held, payment = parts["flow"], parts["held"], parts["payment"]
    to_notice(parts, COMPANY)
    show_code_when_asked(parts["scanner"], sims["scanner"], WECHAT_OK)
    flow.pay()
    payment.pay_by_code()
    held.release()
    assert flow.state is FeeState.DONE and flow.confirmed == "paid"
    assert "示例*****有限公司" in parts["printer"].text() and _("WeChat Pay") in parts["printer"].text()


# --- the receipt and leaving --------------------------------------------------------------------------------

def test_a_receipt_that_does_not_print_keeps_the_reference_on_screen_until_finish(parts):
    flow, held = parts["flow"], parts["held"]
    parts["printer"].fail = True
    to_notice(parts)
    pay_by_card(parts)
    assert flow.leaving(idle=False).rule is Leave.FINISH and flow.leaving(idle=False).why == "fee_confirming"
    held.release(1)
    assert flow.state is FeeState.PRINTING and flow.leaving(idle=False).why == "receipt_printing"
    held.release()
    assert flow.state is FeeState.DONE and flow.printed is False and flow.receipt_url
    assert flow.leaving(idle=False).rule is Leave.CONFIRM and flow.leaving(idle=False).why == "fee_receipt"
    assert flow.leaving(idle=True).free     # the payment is recorded; nobody is there to read it
    flow.receipt_noted()
    assert flow.leaving(idle=False).free


def test_nothing_of_the_citizen_but_the_masked_payer_reaches_the_outbox(parts, outbox):
    to_notice(parts)
    pay_by_card(parts)
    parts["held"].release()
    text = json.dumps([e.data for e in outbox.items("pending", 100)], ensure_ascii=False)
    assert "张" not in text and parts["flow"].receipt_url.rsplit("/", 1)[1] not in text
