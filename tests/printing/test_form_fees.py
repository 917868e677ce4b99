"""A filled form with a price (`[fees] forms`): drawn and counted and the printer asked before anyone pays,
paid through the shared payment flow on the Concert terminal simulator, then printed; a job that fails after
the payment is refunded, a payment canceled goes back to the review, an unknown one prints nothing, and a
form that is free never meets the payment. The A4 queue is the scripted one of these tests (the window's
test prints a form through a real CUPS); the form is drawn by the real renderer."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from kiosk import config
from kiosk.core.forms.flow import FormFlow, FormRecorder, FormState
from kiosk.core.forms.render import render_apart
from kiosk.core.forms.template import fillable_forms
from kiosk.core.payment.flow import PayState
from kiosk.hardware.device import State, Status
from kiosk.sync.outbox import Outbox
from kiosk.wire.catalog import Catalog

from tests.printing.conftest import TODAY, of_kind

ROOT = Path(__file__).resolve().parents[2]
ANSWERS = ("李娜", "女", "汉族", "1992-02-29", "110105199202290020", "北京市东城区", "北京市朝阳区", "2020-01-01",
           "13800138000", "", "合法稳定就业", True)


@pytest.fixture(scope="module")
def catalog():
    return Catalog.model_validate(json.loads((ROOT / "config" / "demo-catalog.json").read_text("utf-8")))


def make_flow(parts, catalog, clock, kiosk_store, tmp_path, fee):
    items = {i.code: i for i in catalog.items}
    queue = parts["queue"]
    queue.clock, queue.timeouts = clock, SimpleNamespace(job=60, poll_interval=1.0)   # what A4Job follows by
    flow = FormFlow(lambda code: [f for c, item in items.items() if code in (None, c) for f in fillable_forms(item)],
                    executor=parts["held"], clock=clock.monotonic, today=lambda: TODAY, printer=queue,
                    recorder=FormRecorder(kiosk_store, Outbox), spool_dir=tmp_path / "forms-spool",
                    render=render_apart, payment=parts["payment"], fee=fee)
    flow.enter()
    parts["held"].release()
    flow.choose(next(i for i, o in enumerate(flow.offered) if o.template.id == "residence-permit-application"))
    flow.type_it()
    for value in ANSWERS:
        flow.set_value(value)
        assert flow.next(), (flow.field.key, flow.problem)
    assert flow.state is FormState.REVIEW
    return flow


@pytest.fixture
def priced(parts, catalog, clock, kiosk_store, tmp_path):
    return make_flow(parts, catalog, clock, kiosk_store, tmp_path,
                     config.FeeRule(per_document_fen=100, per_page_fen=50))


def spooled(flow) -> list[Path]:
    return sorted(Path(flow.spool_dir).glob("*.pdf")) if Path(flow.spool_dir).exists() else []


def test_a_priced_form_is_drawn_then_paid_then_printed_and_recorded_with_its_payment(priced, parts, outbox):
    flow, held, payment, queue = priced, parts["held"], parts["payment"], parts["queue"]
    assert flow.charges and flow.print() and flow.state is FormState.PREPARING
    held.release(1)                                  # drawn, one page, the printer asked
    assert flow.state is FormState.PAYING and flow.pages == 1 and queue.submitted == []
    assert payment.state is PayState.CHOOSE and payment.service == "forms" and payment.amount_fen == 150
    assert len(spooled(flow)) == 1                   # the drawn form waits for the payment
    payment.pay_by_card()
    held.release(1)                                  # the sale
    assert flow.state is FormState.PRINTING and payment.state is PayState.APPROVED
    held.release()
    assert flow.state is FormState.DONE, flow.problem
    assert len(queue.submitted) == 1 and spooled(flow) == []
    [printed] = of_kind(outbox, "print")
    assert printed["service"] == "forms" and printed["source"] == "filled_form" and printed["amount_fen"] == 150
    assert printed["payment_reference"] == payment.reference
    assert parts["ledger"].get(payment.reference).service_state == "delivered"
    [form] = of_kind(outbox, "form")
    assert form["template"] == "residence-permit-application" and form["pages"] == 1
    text = json.dumps(of_kind(outbox, "print") + of_kind(outbox, "payment") + [form], ensure_ascii=False)
    assert "李娜" not in text and "110105199202290020" not in text and "13800138000" not in text


def test_a_printer_found_down_stops_before_anyone_pays(priced, parts, outbox):
    flow, held, payment, queue = priced, parts["held"], parts["payment"], parts["queue"]
    queue.before = Status(State.OFFLINE, "paper_out")
    flow.print()
    held.release()
    assert (flow.state, flow.problem) == (FormState.FAILED, "paper_out")
    assert payment.state is PayState.IDLE and queue.submitted == [] and spooled(flow) == []
    assert of_kind(outbox, "payment") == []


def test_a_canceled_payment_goes_back_to_the_review_and_deletes_the_drawn_form(priced, parts, outbox):
    flow, held, payment = priced, parts["held"], parts["payment"]
    flow.print()
    held.release()
    assert flow.state is FormState.PAYING
    assert payment.cancel()
    assert flow.state is FormState.REVIEW and spooled(flow) == [] and flow.values["name"] == "李娜"
    assert parts["queue"].submitted == [] and of_kind(outbox, "print") == []


def test_paper_out_after_the_payment_fails_the_form_and_refunds(priced, parts, outbox):
    flow, held, payment, queue = priced, parts["held"], parts["payment"], parts["queue"]
    queue.script = [(5, 0, Status(State.BUSY)), (5, 0, Status(State.OFFLINE, "paper_out"))]
    flow.print()
    held.release()
    payment.pay_by_card()
    held.release()
    assert (flow.state, flow.problem) == (FormState.FAILED, "paper_out")
    assert payment.state is PayState.REFUNDED and queue.canceled == [41]
    assert of_kind(outbox, "print") == [] and of_kind(outbox, "form") == []
    assert [r["payment_reference"] for r in of_kind(outbox, "refund")] == [payment.reference]
    assert flow.paid_reference is None


def test_a_payment_whose_outcome_is_not_known_prints_nothing(priced, parts, sims, outbox):
    flow, held, payment, queue = priced, parts["held"], parts["payment"], parts["queue"]
    sims["payment"].set_outcome("no_answer")
    flow.print()
    held.release()
    payment.pay_by_card()
    held.release()
    assert flow.state is FormState.PAYMENT_UNKNOWN and payment.state is PayState.UNKNOWN
    assert queue.submitted == [] and spooled(flow) == [] and of_kind(outbox, "print") == []


def test_the_end_of_the_visit_while_paying_deletes_the_drawn_form_and_the_payment(priced, parts):
    flow, held, payment = priced, parts["held"], parts["payment"]
    flow.print()
    held.release()
    assert flow.state is FormState.PAYING and len(spooled(flow)) == 1
    flow.reset()
    assert flow.state is FormState.CHOOSE and spooled(flow) == [] and payment.state is PayState.IDLE


def test_a_free_form_never_meets_the_payment(parts, catalog, clock, kiosk_store, tmp_path, outbox):
    flow = make_flow(parts, catalog, clock, kiosk_store, tmp_path, config.FeeRule())
    held, payment = parts["held"], parts["payment"]
    assert not flow.charges and flow.print()
    held.release()
    assert flow.state is FormState.DONE and payment.state is PayState.IDLE
    [printed] = of_kind(outbox, "print")
    assert printed["amount_fen"] == 0 and printed["payment_reference"] is None
