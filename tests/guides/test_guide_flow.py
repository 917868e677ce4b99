"""The guides service as a state machine: browsing, search as you type, the detail, printing with its
device gating, the outbox and the alarms. No display; the receipt printer is its simulator and the A4
printer a private CUPS printing to cups-pdf."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from kiosk import i18n
from kiosk.alarms import Alarms
from kiosk.core.background import Held
from kiosk.core.guides.flow import (A4, FAILED_PAPER_OUT, RECEIPT, REASON_PAPER_OUT, SEARCH_DEBOUNCE_S, PrintPhase,
                               View)
from kiosk.hardware.escpos_stream import decode_receipts
from kiosk.sync.outbox import Outbox

from tests.guides.conftest import a4_printer, make_flow, needs_cupsd
from tests.test_form_render import cups_pdf_output, text_of

DISABLED = "11010009"   # 工伤认定申请: kiosk_enabled false in the demo catalog


def prints(store):
    conn = store.connect()
    try:
        return [e.data for e in Outbox(conn).items("pending", 1000) if e.kind == "print"]
    finally:
        conn.close()


def guide_print(code, pages, printer):
    """The `print` record of a guide (kiosk/core/printing/record.py): what was printed, on which printer."""
    return {"service": "guides", "source": "guide", "item_code": code, "document": None, "form_url": None,
            "pages": pages, "copies": 1, "printer": printer, "amount_fen": 0, "payment_reference": None,
            "job_state": "completed" if printer == "a4" else None}


def active_alarms(store):
    conn = store.connect()
    try:
        return {a.key for a in Alarms(conn, Outbox(conn)).active()}
    finally:
        conn.close()


def type_and_wait(flow, clock, keys):
    for k in keys:
        flow.press(k)
    clock.advance(SEARCH_DEBOUNCE_S + 0.01)
    flow.tick()


# -- finding a guide -----------------------------------------------------------------------------

def test_browsing_by_theme_and_department_lists_only_enabled_items(store, catalog, clock):
    flow = make_flow(store, catalog, clock, printers={})
    flow.enter()
    themes = [t.name for t in flow.browser.themes]
    assert "社会保障" in themes and flow.view is View.HOME
    flow.open_theme("社会保障")
    assert flow.view is View.LIST and flow.browser.list_title == "社会保障"
    codes = [r.code for r in flow.browser.rows]
    assert "11010001" in codes and DISABLED not in codes
    dept = catalog.get(DISABLED, include_disabled=True).department
    flow.back()
    flow.open_department(dept)
    assert flow.browser.rows and DISABLED not in [r.code for r in flow.browser.rows]
    assert all(r.department == dept for r in flow.browser.rows)


def test_a_disabled_item_never_appears_in_search_and_cannot_be_opened(store, catalog, clock):
    flow = make_flow(store, catalog, clock, printers={})
    flow.enter()
    flow.open_search()
    flow.browser.type_text("工伤认定")
    clock.advance(SEARCH_DEBOUNCE_S)
    flow.tick()
    assert DISABLED not in [r.code for r in flow.browser.rows]
    assert flow.open_item(DISABLED) is False and flow.item is None and flow.view is View.SEARCH


def test_typing_sb_finds_social_security_items_after_the_keyboard_is_quiet(store, catalog, clock):
    flow = make_flow(store, catalog, clock, printers={})
    flow.enter()
    flow.open_search()
    flow.press("s")
    flow.press("b")
    flow.tick()
    assert flow.browser.query == "sb" and flow.browser.searching and flow.browser.rows == []
    clock.advance(SEARCH_DEBOUNCE_S)
    flow.tick()
    assert not flow.browser.searching
    names = [r.name for r in flow.browser.rows]
    assert names and "社会保障卡申领" in names[:5]


def test_a_burst_of_key_presses_costs_one_search(store, catalog, clock):
    flow = make_flow(store, catalog, clock, printers={})
    asked = []
    real = flow.search.search
    flow.search.search = lambda q, limit=20: (asked.append(q), real(q, limit))[1]
    flow.enter()
    flow.open_search()
    asked.clear()    # the popular words under the search box were looked up on entering
    for k in "shebao":
        flow.press(k)
        clock.advance(SEARCH_DEBOUNCE_S / 3)
        flow.tick()
    clock.advance(SEARCH_DEBOUNCE_S)
    flow.tick()
    flow.tick()
    assert asked == ["shebao"]


def test_an_answer_to_an_older_query_does_not_overwrite_the_newer_one(store, catalog, clock):
    worker = Held()
    flow = make_flow(store, catalog, clock, printers={}, worker=worker)
    flow.enter()
    flow.open_search()
    type_and_wait(flow, clock, "hk")          # its search is still running...
    flow.browser.type_text("公积金")          # ...when the citizen types on
    clock.advance(SEARCH_DEBOUNCE_S)
    flow.tick()
    worker.release()
    assert flow.browser.rows and all("公积金" in r.name or "公积金" in r.department for r in flow.browser.rows[:3])


def test_popular_words_are_offered_only_when_they_find_guides_and_search_at_a_tap(store, catalog, clock):
    flow = make_flow(store, catalog, clock, printers={})
    flow.enter()
    assert "社保" in flow.browser.popular and "公积金" in flow.browser.popular
    assert "护照" in flow.browser.popular
    flow.open_search()
    flow.search_word("社保")
    clock.advance(SEARCH_DEBOUNCE_S)
    flow.tick()
    assert flow.browser.query == "社保" and flow.browser.rows[0].name.startswith("社会保障卡")


def test_backspace_and_clear_edit_the_query_and_an_empty_box_shows_nothing(store, catalog, clock):
    flow = make_flow(store, catalog, clock, printers={})
    flow.enter()
    flow.open_search()
    type_and_wait(flow, clock, "sbx")
    flow.backspace()
    clock.advance(SEARCH_DEBOUNCE_S)
    flow.tick()
    assert flow.browser.query == "sb" and flow.browser.rows
    flow.press("#")   # not a key of the keyboard
    assert flow.browser.query == "sb"
    flow.clear()
    assert flow.browser.query == "" and flow.browser.rows == [] and not flow.browser.searching


def test_back_goes_one_step_up_and_a_wipe_forgets_the_visit(store, catalog, clock, session):
    flow = make_flow(store, catalog, clock, printers={}, session=session)
    flow.enter()
    flow.open_search()
    type_and_wait(flow, clock, "sb")
    assert flow.open_item(flow.browser.rows[0].code)
    assert flow.view is View.DETAIL and flow.item is not None
    flow.back()
    assert flow.view is View.SEARCH and flow.browser.query == "sb"
    flow.back()
    assert flow.view is View.HOME
    flow.open_item("11010001")
    session.touch()
    session.end("idle")
    assert (flow.view, flow.item, flow.browser.query, flow.browser.rows) == (View.HOME, None, "", [])


# -- printing: receipt ---------------------------------------------------------------------------

def test_a_receipt_guide_prints_its_name_and_checklist_and_records_one_print(store, catalog, clock, receipt_printer,
                                                                           receipt_sim):
    flow = make_flow(store, catalog, clock, printers={"receipt_printer": receipt_printer})
    flow.enter()
    flow.open_item("11010003")
    assert flow.options[RECEIPT].available and A4 not in flow.options
    assert flow.print(RECEIPT)
    assert flow.view is View.PRINT and flow.printing.phase is PrintPhase.DONE
    [receipt] = decode_receipts(receipt_sim.printed(), "gb18030")
    text = [line.text for line in receipt.lines]
    assert "社会保障卡申领" in text
    item = catalog.get("11010003")
    for m in item.materials:
        assert any(m.name in line for line in text), m.name
    assert receipt.qr_codes == [item.online_url] and receipt.cut == "full"
    assert prints(store) == [guide_print("11010003", 1, "receipt")]


def test_a_receipt_printer_out_of_paper_shows_as_unavailable_with_the_reason(store, catalog, clock, receipt_printer,
                                                                            receipt_sim):
    receipt_sim.set_paper("out")
    flow = make_flow(store, catalog, clock, printers={"receipt_printer": receipt_printer})
    flow.enter()
    flow.open_item("11010001")
    opt = flow.options[RECEIPT]
    assert (opt.available, opt.reason, opt.detail) == (False, REASON_PAPER_OUT, "paper_out")
    assert flow.print(RECEIPT) is False and flow.view is View.DETAIL
    assert flow.problems == {"receipt_printer": "paper_out"}
    assert prints(store) == []


def test_paper_running_out_when_printing_gives_a_calm_message_an_alarm_and_no_print_record(
        store, catalog, clock, receipt_printer, receipt_sim, session):
    flow = make_flow(store, catalog, clock, printers={"receipt_printer": receipt_printer}, session=session)
    flow.enter()
    flow.open_item("11010001")
    assert flow.options[RECEIPT].available
    receipt_sim.set_paper("out")         # after the check said the printer was fine
    assert flow.print(RECEIPT)
    state = flow.printing
    assert (state.phase, state.message, state.detail) == (PrintPhase.FAILED, FAILED_PAPER_OUT, "paper_out")
    assert "guide_print:receipt_printer:paper_out" in active_alarms(store)
    assert prints(store) == [] and not session.held
    assert not flow.options[RECEIPT].available
    # staff load paper: the next print goes through and the alarm clears
    receipt_sim.set_paper("ok")
    flow.back()
    flow.check_printers()
    assert flow.options[RECEIPT].available and flow.print(RECEIPT)
    assert flow.printing.phase is PrintPhase.DONE
    assert "guide_print:receipt_printer:paper_out" not in active_alarms(store)
    assert flow.problems == {"receipt_printer": None}


def test_the_visit_is_held_while_the_paper_moves(store, catalog, clock, receipt_printer, session):
    worker = Held()
    flow = make_flow(store, catalog, clock, printers={"receipt_printer": receipt_printer}, worker=worker,
                     session=session)
    flow.enter()
    flow.open_item("11010001")
    worker.release()
    flow.print(RECEIPT)
    assert session.held and flow.printing.phase is PrintPhase.PRINTING
    flow.back()
    assert flow.view is View.PRINT      # no way out while printing
    assert flow.print(RECEIPT) is False  # and no second job
    worker.release()
    assert not session.held and flow.printing.phase is PrintPhase.DONE


# -- printing: A4 through CUPS -----------------------------------------------------------------------

@needs_cupsd
def test_an_a4_guide_goes_through_cups_to_completed_with_its_pages_reported(store, catalog, clock, cupsd, font_path,
                                                                          tmp_path):
    printer = a4_printer(cupsd)
    seen = []
    flow = make_flow(store, catalog, clock, printers={"document_printer": printer}, font_path=font_path,
                     spool=tmp_path / "spool")
    flow.on_change(lambda f: f.aspect == "print" and seen.append(f.printing))
    flow.enter()
    flow.open_item("13010001")
    assert flow.options[A4].available
    assert flow.print(A4)
    done = flow.printing
    assert done.phase is PrintPhase.DONE and done.job_state == "completed" and done.pages >= 2
    states = [s.job_state for s in seen]
    assert states[0] == "" and "preparing" in states and states[-1] == "completed"
    assert prints(store) == [guide_print("13010001", done.pages, "a4")]
    assert not list((tmp_path / "spool").iterdir())     # the PDF does not stay behind
    printer.close()


@needs_cupsd
def test_an_a4_guide_printed_to_cups_pdf_still_reads_as_its_chinese(store, catalog, clock, cupsd, font_path,
                                                                    tmp_path):
    """CUPS prints through PostScript (pdftops, then cups-pdf's ghostscript), where only the fonts' glyph
    names say what the characters are (kiosk/core/printing/glyph_names.py): the paper's text is read back."""
    printer = a4_printer(cupsd)
    before = set(cupsd.out_dir.glob("*.pdf"))
    flow = make_flow(store, catalog, clock, printers={"document_printer": printer}, font_path=font_path,
                     spool=tmp_path / "spool")
    flow.enter()
    flow.open_item("13010001")
    assert flow.print(A4)
    assert flow.printing.phase is PrintPhase.DONE
    printer.close()
    text = text_of(cups_pdf_output(cupsd, before))
    flat = re.sub(r"\s", "", text)
    item = catalog.get("13010001")
    assert item.name in flat, text[:500]
    for piece in (item.materials[1].name, item.materials[3].name, item.steps[0].name, item.phone,
                  i18n._("Materials"), "示例政务服务中心"):
        assert re.sub(r"\s", "", piece) in flat, (piece, text[:500])


@needs_cupsd
def test_a_printer_fault_mid_job_on_a4_gives_a_calm_message_and_an_alarm(store, catalog, clock, cupsd, font_path,
                                                                        tmp_path):
    printer = a4_printer(cupsd, "broken")
    flow = make_flow(store, catalog, clock, printers={"document_printer": printer}, font_path=font_path,
                     spool=tmp_path / "spool")
    flow.enter()
    flow.open_item("13010001")
    assert flow.print(A4)
    state = flow.printing
    assert state.phase is PrintPhase.FAILED and state.detail == "job_aborted" and state.message
    assert "guide_print:document_printer:job_aborted" in active_alarms(store)
    assert prints(store) == []
    printer.close()


# -- the A4 document -------------------------------------------------------------------------------------

def test_the_a4_guide_embeds_its_font_and_carries_every_section(catalog, font_path, tmp_path):
    from kiosk.core.guides.printout import a4_pdf

    item = catalog.get("11010001")
    pdf = tmp_path / "guide.pdf"
    pages = a4_pdf(item, pdf, font_path=font_path, hall="示例政务服务中心")
    assert pages >= 1
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts   # the "emb" column
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(rf"(?m)^Pages:\s+{pages}$", info), info
    flat = text.replace(" ", "").replace("\n", "")
    for piece in (item.name, item.conditions[:20], item.materials[2].name, item.steps[0].description[:15],
                  item.legal_basis[0][:15], item.phone, item.complaint_phone, item.online_url,
                  item.faq[0].q, item.faq[0].a[:15], i18n._("Free of charge")):
        assert piece.replace(" ", "") in flat, piece
    for heading in ("Conditions", "Materials", "Steps", "Time limits", "Fees", "Legal basis", "Where and when",
                    "Phones", "Visits", "Online", "Questions and answers"):
        assert i18n._(heading) in text, heading
    assert json.dumps(item.name, ensure_ascii=False).strip('"') in text


def test_the_a4_guide_is_rendered_in_a_child_in_the_citizens_language(catalog, font_path, tmp_path):
    from kiosk.core.apart import ApartError
    from kiosk.core.guides.printout import a4_pdf_apart

    item = catalog.get("11010001")
    before = set(sys.modules)
    for lang, heading in (("en", "Materials"), ("zh_CN", "申请材料")):
        i18n.set_language(lang)
        pdf = tmp_path / f"guide-{lang}.pdf"
        try:
            pages = a4_pdf_apart(item, pdf, font_path=font_path, hall="示例政务服务中心")
        finally:
            i18n.set_language("zh_CN")
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert pages >= 1 and item.name in text and heading in text, (lang, text[:300])
    assert not any(m.startswith("reportlab") for m in set(sys.modules) - before)  # the child loaded it
    with pytest.raises(ApartError, match=r"a4_pdf_job failed: .*No such file or directory"):
        a4_pdf_apart(item, tmp_path / "no-such-folder" / "guide.pdf", font_path=font_path)
