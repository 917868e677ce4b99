"""Paying a fee notice end to end: the kiosk's FeeFlow with the Concert terminal and the receipt printer
simulators on the wire (the real drivers), the central client, the outbox, against the reference platform
as a subprocess (seeded with the demo notices). Nothing here imitates the platform."""
from __future__ import annotations

import json
import uuid

import pytest
import requests

from kiosk import store
from kiosk.central.fee_issuer import COMPANY, EXPIRED, OTHER, PAID, SECOND, UNPAID
from kiosk.core.background import Inline
from kiosk.core.fees import RECEIPT_PENDING, FeeFlow, FeeState
from kiosk.core.payment.flow import PaymentFlow, PayState
from kiosk.core.payment.ledger import PaymentLedger
from kiosk.hardware.device import VirtualClock
from kiosk.hardware.payment import ConcertTerminal
from kiosk.hardware.receipt import ReceiptPrinter
from kiosk.i18n import _
from kiosk.sim import registry as sim_registry
from kiosk.sync import outbox as outbox_module
from kiosk.sync.client import CentralClient, CentralTimeout
from kiosk.sync.fee_notices import CentralFeeNotices
from kiosk.sync.outbox import Outbox
from tests.central.conftest import platform_key_env, provision
from tests.conftest import ENGINES, run_kiosk
from tests.sync.centralproc import Central, free_port

SECRET_A = "fees-e2e-kiosk-a-0123456789abcdef"
SECRET_B = "fees-e2e-kiosk-b-0123456789abcdef"


def _seeded_platform(tmp, db):
    c = Central(tmp, db=db, kiosk_id="fee-a", secret=SECRET_A, seed_hash_key="fees-e2e-hash-key-000000")
    for kiosk, secret in (("fee-a", SECRET_A), ("fee-b", SECRET_B)):
        r = run_kiosk("central", "add-kiosk", kiosk, "--secret", secret, "--group", "demo-hall", "--db", str(c.db))
        assert r.returncode == 0, r.stderr
    c.operator = provision(c.db, "add-operator", "ops")["secret"]
    c.start()
    return c


@pytest.fixture(scope="module", params=ENGINES)
def platform(request, tmp_path_factory):
    """The platform seeded with the demo notices, on each engine (a SQLite file, a PostgreSQL database)."""
    tmp = tmp_path_factory.mktemp("fees-e2e")
    if request.param == "sqlite":
        c = _seeded_platform(tmp, None)
        yield c
        c.stop()
        return
    with platform_key_env(tmp / "central.key"):
        c = _seeded_platform(tmp, request.getfixturevalue("pg_cluster").fresh())
        yield c
        c.stop()


class TimesOutAfterStoring(CentralClient):
    """The platform stores the payment and its answer never arrives."""

    def report_fee_payment(self, item, timeout=None):
        super().report_fee_payment(item, timeout)
        raise CentralTimeout("POST /api/v1/kiosks/fee-a/fee-payments: no answer within 6 s ([central] timeout_s)")


@pytest.fixture
def kiosk(platform, tmp_path):
    clock = VirtualClock()
    sim_registry.reset_simulators()
    terminal_sim = sim_registry.simulator("payment", clock)
    receipt_sim = sim_registry.simulator("receipt")
    terminal = ConcertTerminal("payment", "sim://payment", clock=clock, result_timeout_s=120)
    printer = ReceiptPrinter("receipt_printer", "sim://receipt")
    kiosk_store = store.Store(tmp_path / "kiosk", "fee-a")
    ledger = PaymentLedger(kiosk_store, outbox_module)
    ledger.recovered.set()
    payment = PaymentFlow(ledger, executor=Inline(), terminal=terminal, clock=clock.monotonic, sleep=clock.sleep)

    def flow_over(client: CentralClient) -> FeeFlow:
        return FeeFlow(notices=CentralFeeNotices(client, kiosk_store), payment=payment, executor=Inline(),
                       hall="示例市政务服务中心 24小时自助服务区", kiosk_id="fee-a", hotline="12345", printer=printer,
                       lookup_timeout_s=5, report_timeout_s=10)

    client = CentralClient(platform.url, "fee-a", SECRET_A)
    conn = kiosk_store.connect()
    k = {"flow": flow_over(client), "flow_over": flow_over, "client": client, "payment": payment, "ledger": ledger,
         "terminal_sim": terminal_sim, "receipt_sim": receipt_sim, "outbox": Outbox(conn)}
    yield k
    conn.close()
    terminal.close()
    printer.close()
    sim_registry.reset_simulators()


def enter(flow: FeeFlow, number: str) -> None:
    flow.begin()
    for digit in number:
        flow.press(digit)
    flow.submit()


def payments(platform) -> dict[str, dict]:
    from kiosk.wire import auth

    path = "/api/v1/fee-payments"
    r = requests.get(platform.url + path, headers=auth.sign(platform.operator, "GET", path, "ops", operator=True),
                     timeout=5)
    return {p["reference"]: p for p in r.json()["payments"]}


def test_a_notice_paid_by_card_prints_its_receipt_and_the_e_receipt_opens(platform, kiosk):
    flow, payment = kiosk["flow"], kiosk["payment"]
    enter(flow, UNPAID)
    assert flow.state is FeeState.NOTICE and flow.notice.payer_masked == "张**" and flow.notice.total_fen == 9000
    assert flow.pay() and payment.pay_by_card()
    assert flow.state is FeeState.DONE and flow.confirmed == "paid" and flow.printed
    assert len(kiosk["terminal_sim"].requests) == 1
    [receipt] = kiosk["receipt_sim"].receipts()
    for text in (UNPAID, "张**", "¥90.00", flow.shown_reference, "示例市不动产登记中心"):
        assert text in receipt.text, text
    assert "张三丰" not in receipt.text and receipt.cut == "full"
    [url] = receipt.qr_codes
    assert url == flow.receipt_url and url.startswith(platform.url + "/r/")
    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and "缴费成功" in page.text and UNPAID in page.text
    assert payments(platform)[payment.reference]["state"] == "paid"
    # the outbox's item reaches the platform again through the relay's batch: stored once
    [entry] = [e for e in kiosk["outbox"].items("pending", 100) if e.kind == "payment"]
    assert kiosk["client"].post_transactions([entry.wire()]).results[0].status == "duplicate"
    # the notice again: refused here by this kiosk's ledger, and at another kiosk of the hall by the platform
    enter(flow, UNPAID)
    assert (flow.state, flow.problem) == (FeeState.REFUSED, "paid_here")
    other = CentralClient(platform.url, "fee-b", SECRET_B)
    assert other.find_fee_notice(UNPAID).reason == "notice_paid"


@pytest.mark.parametrize("number, reason", [(PAID, "notice_paid"), (EXPIRED, "notice_expired"),
                                            (OTHER, "notice_other_hall"), (UNPAID[:-1] + "9", "notice_malformed")])
def test_a_refused_notice_charges_nothing_and_stores_nothing(platform, kiosk, number, reason):
    flow = kiosk["flow"]
    before = platform.export()
    enter(flow, number)
    assert (flow.state, flow.problem) == (FeeState.REFUSED, reason)
    assert kiosk["terminal_sim"].requests == [] and kiosk["ledger"].rows() == []
    assert kiosk["outbox"].items("pending", 100) == [] and platform.export() == before


def test_the_platform_timing_out_after_storing_never_charges_twice(platform, kiosk):
    flow = kiosk["flow_over"](TimesOutAfterStoring(platform.url, "fee-a", SECRET_A))
    payment = kiosk["payment"]
    enter(flow, COMPANY)
    assert flow.pay() and payment.pay_by_card()
    assert flow.state is FeeState.DONE and flow.confirmed == "pending" and flow.printed
    assert _(RECEIPT_PENDING)[:12] in [r for r in kiosk["receipt_sim"].receipts() if r.lines][0].text
    assert payments(platform)[payment.reference]["state"] == "paid"      # it had stored it
    [entry] = [e for e in kiosk["outbox"].items("pending", 100) if e.kind == "payment"]
    assert kiosk["client"].post_transactions([entry.wire()]).results[0].status == "duplicate"
    enter(flow, COMPANY)
    assert (flow.state, flow.problem) == (FeeState.REFUSED, "paid_here")
    assert len(kiosk["terminal_sim"].requests) == 1 and payment.state is PayState.IDLE


def test_a_notice_paid_at_another_kiosk_meanwhile_is_refunded_here(platform, kiosk):
    """Kiosk A shows the notice; kiosk B's payment reaches the platform first; A's is refused afterwards and given
    back on the terminal; A's refund transaction settles the platform's flag."""
    flow, payment = kiosk["flow"], kiosk["payment"]
    enter(flow, SECOND)
    assert flow.state is FeeState.NOTICE
    b = CentralClient(platform.url, "fee-b", SECRET_B)
    item = {"id": str(uuid.uuid4()), "seq": 1, "kind": "payment", "occurred_at": "2026-12-06T21:00:00+08:00",
            "data": {"reference": "BBBBB00001", "method": "card", "channel": "card", "amount_fen": 2000,
                     "currency": "CNY", "service": "fees", "result": "approved", "fee_notice": SECOND,
                     "receipt_token_sha256": "0" * 64}}
    assert b.report_fee_payment(item).status == "paid"
    assert flow.pay() and payment.pay_by_card()
    assert (flow.state, flow.problem) == (FeeState.RETURNING, "notice_paid")
    assert payment.state is PayState.REFUNDED and kiosk["terminal_sim"].requests[-1].transaction_type == "2"
    assert payments(platform)[payment.reference]["state"] == "refund_due"
    entries = [e.wire() for e in kiosk["outbox"].items("pending", 100)]   # the payment, then its refund
    assert [e["kind"] for e in entries] == ["payment", "refund"]
    assert [r.status for r in kiosk["client"].post_transactions(entries).results] == ["duplicate", "accepted"]
    assert payments(platform)[payment.reference]["state"] == "refunded"
    assert payments(platform)["BBBBB00001"]["state"] == "paid"
    assert [r for r in kiosk["receipt_sim"].receipts() if r.lines] == []   # no receipt: nothing was paid


def test_a_platform_that_cannot_be_reached_is_said_plainly(platform, kiosk):
    flow = kiosk["flow_over"](CentralClient(f"http://127.0.0.1:{free_port()}", "fee-a", SECRET_A))
    enter(flow, UNPAID)
    assert (flow.state, flow.problem) == (FeeState.OFFLINE, "central_offline")
    assert kiosk["terminal_sim"].requests == []
    assert json.dumps([]) == json.dumps([e.data for e in kiosk["outbox"].items("pending", 100)])
