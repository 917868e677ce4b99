"""Shared pieces of the fee tests: the flow over a platform stand-in (FakeCentral, spoken to through the real
kiosk/sync/fee_notices.py adapter and the kiosk's outbox), the payment flow on the payment tests' Concert and
scanner simulators (real drivers, virtual time) and demo acquirer in process, and a receipt printer that keeps
what it prints. The end-to-end tests (test_fees_e2e.py, test_fee_platform.py) use the real platform."""
from __future__ import annotations

import datetime as dt

import pytest

from kiosk.core.background import Held, Inline
from kiosk.core.fees import FeeFlow
from kiosk.core.payment.flow import PaymentFlow
from kiosk.sync.client import CentralOffline, CentralTimeout
from kiosk.sync.fee_notices import CentralFeeNotices
from kiosk.wire.fees import FeeNoticeView, FeePaymentAnswer, FeeRefusal
from tests.payment.conftest import (acquirer, clock, kiosk_store, ledger, outbox, scanner, sims,  # noqa: F401
                                    terminal)  # the payment tests' fixtures

KIOSK = "k-pay"   # the payment tests' kiosk_store
WALL = dt.datetime(2026, 12, 6, 21, 15)
NUMBER = "11010526003100000012"
COMPANY = "11010526004200000027"


def notice(number: str = NUMBER, items=(("不动产登记费（住宅）", 8000), ("不动产权证书工本费", 1000)),
           payer: str = "张**") -> FeeNoticeView:
    return FeeNoticeView(number=number, department="示例市不动产登记中心", hall="demo-hall", hall_name="示例市政务服务中心",
                         payer_masked=payer, items=[{"name": n, "amount_fen": a} for n, a in items],
                         total_fen=sum(a for _n, a in items), due_date="2027-01-05",
                         receipt_base_url="https://hall.example.gov.cn/r/")


class FakeCentral:
    """The platform's two fee calls as the central client makes them. `report` says what the platform does with a
    payment: paid | refund_due:<reason> | received | offline (nothing stored) | timeout_after_storing."""

    def __init__(self):
        self.notices: dict[str, FeeNoticeView | FeeRefusal] = {NUMBER: notice(),
                                                               COMPANY: notice(COMPANY, (("计量器具检定费", 36000),),
                                                                               "示例*****有限公司")}
        self.offline = False
        self.report = "paid"
        self.asked: list[tuple[str, float]] = []
        self.reports: list[dict] = []
        self.stored: dict[str, dict] = {}      # transaction id -> item, as the platform stores it once

    def find_fee_notice(self, number: str, timeout=None):
        self.asked.append((number, timeout))
        if self.offline:
            raise CentralOffline("GET /api/v1/kiosks/k/fee-notices/…: cannot reach http://127.0.0.1:1: refused")
        return self.notices.get(number, FeeRefusal("notice_unknown", "no such notice"))

    def report_fee_payment(self, item: dict, timeout=None) -> FeePaymentAnswer:
        self.reports.append(item)
        if self.report == "offline":
            raise CentralOffline("POST /api/v1/kiosks/k/fee-payments: cannot reach the platform")
        first = item["id"] not in self.stored
        self.stored.setdefault(item["id"], item)
        if self.report == "timeout_after_storing":
            raise CentralTimeout("POST /api/v1/kiosks/k/fee-payments: no answer within 6 s ([central] timeout_s)")
        status, _, reason = self.report.partition(":")
        return FeePaymentAnswer(reference=item["data"]["reference"], fee_notice=item["data"]["fee_notice"],
                                transaction="accepted" if first else "duplicate", status=status, reason=reason or None)


class Printer:
    """A receipt printer that keeps what it was asked to print; `fail` makes it raise as paper out does."""

    def __init__(self):
        self.receipts = []
        self.fail = False

    def print_receipt(self, receipt):
        if self.fail:
            raise RuntimeError("paper_out")
        self.receipts.append(receipt)

    def text(self) -> str:
        return "\n".join(r.plain_text() for r in self.receipts)


@pytest.fixture
def parts(ledger, terminal, scanner, acquirer, clock, kiosk_store):
    slips = SlipPrinter()
    payment = PaymentFlow(ledger, executor=Inline(), terminal=terminal, scanner=scanner, gateway=acquirer,
                          clock=clock.monotonic, sleep=clock.sleep, slips=slips)
    central, printer, held = FakeCentral(), Printer(), Held()
    flow = FeeFlow(notices=CentralFeeNotices(central, kiosk_store), payment=payment, executor=held,
                   hall="示例市政务服务中心 24小时自助服务区", kiosk_id=KIOSK, hotline="12345", printer=printer,
                   now=lambda: WALL, clock=clock.monotonic, lookup_timeout_s=3, report_timeout_s=6)
    return {"flow": flow, "held": held, "payment": payment, "ledger": ledger, "central": central, "printer": printer,
            "terminal": terminal, "scanner": scanner, "acquirer": acquirer, "slips": slips}


class SlipPrinter:
    """The money slips (kiosk/core/money_slip.py MoneySlips) as printed: (state, reference, amount)."""

    def __init__(self):
        self.printed: list[tuple[str, str, str]] = []

    def print(self, state, *, reference, amount, refund_reference=""):
        self.printed.append((state, reference, amount))
        return True


def of_kind(outbox, kind: str) -> list[dict]:
    return [e.data for e in outbox.items("pending", 1000) if e.kind == kind]


def type_number(flow, number: str = NUMBER) -> None:
    for digit in number:
        flow.press(digit)
