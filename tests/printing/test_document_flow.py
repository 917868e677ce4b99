"""DocumentPrintFlow as a state machine: the ID card, the platform, preview, payment, printing progress,
and every failure a citizen can meet (platform offline, printer down, paper out mid-job, unknown payment)."""
from __future__ import annotations

import json

from kiosk.core import privacy
from kiosk.core.printing.documents import DocState, Printable
from kiosk.core.payment.flow import PayState
from kiosk.hardware.device import State, Status
from kiosk.sim.idcard import demo_resident, expired_resident

from tests.printing.conftest import HASH_KEY, SAMPLE_FORMS, of_kind


def to_list(p) -> None:
    flow, held = p["flow"], p["held"]
    assert flow.released() and flow.state is DocState.READ_CARD
    held.release()
    assert flow.state is DocState.LIST, flow.problem


def to_preview(p, title="不动产登记信息查询结果") -> None:
    to_list(p)
    flow = p["flow"]
    doc = next(d for d in flow.documents if d.title == title)
    assert flow.choose(doc) and flow.state is DocState.FETCHING
    p["held"].release()
    assert flow.state is DocState.PREVIEW, flow.problem


def test_the_card_holder_is_looked_up_by_keyed_hash_with_the_short_timeout(parts):
    to_list(parts)
    flow, platform = parts["flow"], parts["platform"]
    card = demo_resident()
    assert platform.asked == [(privacy.holder_hash(HASH_KEY, card.id_number), 3)]
    assert [d.title for d in flow.documents] == ["个人社会保险参保缴费证明", "不动产登记信息查询结果"]
    assert flow.greeting_name == "张**" and flow.holder != card.id_number


def test_preview_shows_page_one_the_page_count_and_the_price(parts):
    to_preview(parts)
    flow = parts["flow"]
    assert flow.pages == 2 and flow.price_fen == 100 and flow.page == 1
    page = flow.page_image
    assert page is not None and page.read_bytes().startswith(b"\x89PNG")


def test_a_paid_document_prints_with_progress_and_records_print_and_payment(parts, outbox):
    to_preview(parts)
    flow, held, payment, queue = parts["flow"], parts["held"], parts["payment"], parts["queue"]
    flow.confirm()
    held.release()
    assert flow.state is DocState.PAYING and payment.state is PayState.CHOOSE and payment.amount_fen == 100
    payment.pay_by_card()
    held.release(1)                  # the sale
    assert flow.state is DocState.PRINTING
    held.release(1)                  # submitted
    held.release(1)                  # first poll: queued
    assert flow.job_id == 41 and flow.job_word == "queued"
    held.release(1)                  # second poll: printing page 1
    assert flow.job_word == "printing" and flow.pages_done == 1
    held.release()
    assert flow.state is DocState.DONE and flow.pages_done == 2
    [printed] = of_kind(outbox, "print")
    assert printed["source"] == "released" and printed["pages"] == 2 and printed["amount_fen"] == 100
    assert printed["printer"] == "a4" and printed["job_state"] == "completed"
    assert printed["payment_reference"] == payment.reference
    assert parts["ledger"].get(payment.reference).service_state == "delivered"
    text = json.dumps(of_kind(outbox, "print") + of_kind(outbox, "payment"), ensure_ascii=False)
    assert demo_resident().id_number not in text and "张示例" not in text
    assert flow.print_transaction_id is not None and len(queue.submitted) == 1


def test_the_platform_offline_is_said_plainly(parts):
    parts["platform"].offline = True
    flow = parts["flow"]
    flow.released()
    parts["held"].release()
    assert (flow.state, flow.problem) == (DocState.OFFLINE, "central_offline")


def test_an_expired_card_is_refused_before_asking_the_platform(parts, sims):
    sims["idcard"].insert_card(expired_resident())
    flow = parts["flow"]
    flow.released()
    parts["held"].release()
    assert (flow.state, flow.problem) == (DocState.CARD_PROBLEM, "card_expired")
    assert parts["platform"].asked == []


def test_a_printer_that_is_down_is_found_before_anyone_pays(parts, outbox, sims):
    to_preview(parts)
    flow, queue = parts["flow"], parts["queue"]
    queue.before = Status(State.OFFLINE, "paper_out")
    flow.confirm()
    parts["held"].release()
    assert (flow.state, flow.problem) == (DocState.PRINTER_DOWN, "paper_out")
    assert sims["payment"].requests == [] and queue.submitted == []
    assert [a["code"] for a in of_kind(outbox, "alarm")] == ["paper_out"]


def test_paper_out_mid_job_stops_the_job_alarms_staff_and_refunds(parts, outbox):
    to_preview(parts)
    flow, held, payment, queue = parts["flow"], parts["held"], parts["payment"], parts["queue"]
    queue.script = [(5, 1, Status(State.BUSY)), (5, 1, Status(State.OFFLINE, "paper_out"))]
    flow.confirm()
    held.release()
    payment.pay_by_card()
    held.release()
    assert (flow.state, flow.problem) == (DocState.FAILED, "paper_out") and flow.paper_problem
    assert queue.canceled == [41]
    assert payment.state is PayState.REFUNDED
    assert of_kind(outbox, "print") == []
    assert [r["payment_reference"] for r in of_kind(outbox, "refund")] == [payment.reference]
    assert "paper_out" in [a["code"] for a in of_kind(outbox, "alarm")]


def test_a_job_aborted_by_cups_is_a_failure_with_a_refund_owed_when_the_terminal_declines(parts, outbox, sims):
    to_preview(parts)
    flow, held, payment, queue = parts["flow"], parts["held"], parts["payment"], parts["queue"]
    queue.script = [(5, 0, Status(State.BUSY)), (8, 0, Status(State.ONLINE))]
    flow.confirm()
    held.release()
    payment.pay_by_card()
    held.release(3)                 # sale, submit, first poll
    sims["payment"].set_outcome("decline")
    held.release()
    assert (flow.state, flow.problem) == (DocState.FAILED, "job_aborted")
    assert payment.state is PayState.REFUND_OWED and payment.shown_reference
    assert f"refund_owed_{payment.reference}" in [a["code"] for a in of_kind(outbox, "alarm")]


def test_an_unknown_payment_never_prints(parts, sims, outbox):
    to_preview(parts)
    flow, held, payment, queue = parts["flow"], parts["held"], parts["payment"], parts["queue"]
    sims["payment"].set_outcome("no_answer")
    flow.confirm()
    held.release()
    payment.pay_by_card()
    held.release()
    assert flow.state is DocState.PAYMENT_UNKNOWN and payment.state is PayState.UNKNOWN
    assert queue.submitted == [] and of_kind(outbox, "print") == []


def test_a_job_that_never_finishes_is_canceled_after_the_print_timeout(parts, clock):
    to_preview(parts)
    flow, held, payment, queue = parts["flow"], parts["held"], parts["payment"], parts["queue"]
    queue.script = [(3, 0, Status(State.ONLINE))]
    flow.confirm()
    held.release()
    payment.pay_by_card()
    start = clock.monotonic()
    held.release()
    assert (flow.state, flow.problem) == (DocState.FAILED, "job_timeout")
    assert 60 <= clock.monotonic() - start < 70 and queue.canceled == [41]


def test_a_free_blank_form_prints_without_payment(parts, outbox, tmp_path):
    from kiosk.core.printing.documents import FormLibrary

    class OneItemCatalog:
        def stamp(self):
            return "s1"

        def items(self):
            from kiosk.core.guides.catalog import ItemSummary
            return [ItemSummary("11010001", "居民身份证换领", "示例市公安局", "person")]

        def get(self, code):
            from types import SimpleNamespace
            return SimpleNamespace(code=code, name="居民身份证换领", materials=[SimpleNamespace(
                name="居民身份证申领登记表", blank_form_url="https://zwfw.example.org/forms/11010001-3.pdf")])

    flow, held = parts["flow"], parts["held"]
    flow.forms_library = FormLibrary(OneItemCatalog(), tmp_path / "forms", sample_forms=SAMPLE_FORMS)
    assert flow.blank_forms()
    held.release()
    assert flow.state is DocState.FORMS and [f.title for f in flow.forms] == ["居民身份证申领登记表"]
    flow.choose(flow.forms[0])
    held.release()
    assert flow.state is DocState.PREVIEW and flow.pages == 1 and flow.price_fen == 0
    flow.confirm()
    held.release()
    assert flow.state is DocState.DONE and parts["payment"].state is PayState.IDLE
    [printed] = of_kind(outbox, "print")
    assert printed["source"] == "blank_form" and printed["amount_fen"] == 0 and printed["payment_reference"] is None


def test_a_form_missing_from_the_cache_is_said_to_be_unavailable_here(parts, tmp_path):
    from kiosk.core.printing.documents import FormLibrary

    flow, held = parts["flow"], parts["held"]
    flow.forms_library = FormLibrary(None, tmp_path / "forms", sample_forms="")
    flow.choose(Printable("blank_form", "https://zwfw.example.org/forms/x.pdf", "表", 1))
    held.release()
    assert (flow.state, flow.problem) == (DocState.FETCH_FAILED, "form_not_here")


def test_the_end_of_the_visit_forgets_the_holder_and_the_spooled_pdf(parts, tmp_path):
    to_preview(parts)
    flow = parts["flow"]
    pdf = flow.preview.pdf
    assert pdf.exists()
    flow.reset()
    assert flow.holder is None and flow.greeting_name == "" and flow.documents == []
    assert not pdf.exists()


def test_a_document_the_platform_cannot_give_now_is_a_platform_problem_and_a_refused_one_is_not(parts):
    """The domain tells the two apart by the wire's PlatformUnavailable, which every 'try later'
    error of the central client is, and nothing else is."""
    from kiosk.sync.client import CentralNotFound, CentralServerError, CentralTimeout

    flow, held, platform = parts["flow"], parts["held"], parts["platform"]
    to_list(parts)
    doc = flow.documents[0]
    for error, problem in ((CentralTimeout("GET document: no answer in 10 s"), "central_offline"),
                           (CentralServerError("GET document: 503", 503), "central_offline"),
                           (CentralNotFound("GET document: 404"), "document_unreadable")):
        def refuse(*_a, _error=error, **_k):
            raise _error
        platform.get_document = refuse
        assert flow.choose(doc)
        held.release()
        assert (flow.state, flow.problem) == (DocState.FETCH_FAILED, problem)
        flow.back_to_list()
        assert flow.state is DocState.LIST
