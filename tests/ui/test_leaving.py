"""A visit ends cleanly: every way out, at every step, in the real window with the simulators.

The header's Home and the idle timeout are tried at each step of document
printing (released documents and blank forms, payment by card and by code),
guides printing, pickup and staff deposit. After each, the same service is
started again: it starts at its first step and nothing of the earlier visit is
on screen (the whole widget tree is searched for its texts), and the ledger,
the outbox and the printer agree: nothing charged and nothing printed, or
charged, printed and recorded, or the unknown-outcome path with its slip.
Devices answer late on purpose (the simulators' delays): what arrives after a
visit ended is recorded and never shown.

The documents come from the real reference platform (a subprocess, seeded for
this kiosk); A4 jobs go through the private cupsd of conftest.py.
"""
from __future__ import annotations

import re
import time

import pytest

from kiosk.i18n import _
from tests.ui.conftest import open_deposit, pickup_service

pytestmark = pytest.mark.slow

HOLDER_NAME = "张**"          # the demo card's holder, as the list greets them
TITLES = ("个人社会保险参保缴费证明", "不动产登记信息查询结果")   # the demo documents released to that holder
PENDING_CODE = "134567890123456784"      # demo acquirer: the payer never confirms; a reverse succeeds
UNCLEAR_CODE = "134567890123456785"      # demo acquirer: never confirmed, and the reverse fails too
GOOD_CODE = "134567890123456782"         # demo acquirer: confirmed at the next query


# --- the hall around the shared app --------------------------------------------------------------------

@pytest.fixture(scope="module")
def platform(kiosk_ui, tmp_path_factory):
    """The reference platform, seeded for the UI's kiosk (its id, secret and hash key); the app's central
    client (documents and the demo code acquirer) points at it for this module."""
    from tests.sync.centralproc import Central

    s = kiosk_ui.app.settings
    central = Central(tmp_path_factory.mktemp("platform"), kiosk_id=s.kiosk.id, secret=s.central.secret,
                      seed_hash_key=s.privacy.hash_key).start()
    client = kiosk_ui.app.kiosk.parts.central
    saved, client.base = client.base, central.url
    yield central
    client.base = saved
    central.stop()


@pytest.fixture
def hall(ui, platform, ui_cupsd, guides_screen):
    """The app with the documents and guides screens (the catalog seeded), the printers up and old payments
    settled; simulators as a hall starts its day (card off the reader, the terminal approving, paper in the
    receipt printer)."""
    from kiosk.sim.registry import simulator

    if ui_cupsd is None:
        pytest.fail("these tests print through a private cupsd: install cups and printer-driver-cups-pdf")
    app = ui.app
    ui.wait_for(lambda: docs(ui).printer is not None and pay(ui).ledger.recovered.is_set()
                and "document_printer" not in app.device_problems
                and app.kiosk.parts.runtime.devices.get("receipt_printer"),
                60, "the printers and the payment recovery")
    sims = {name: simulator(name) for name in ("idcard", "payment", "scanner", "receipt")}
    sims["payment"].set_outcome("approve", answer_delay=0.3)
    sims["receipt"].set_paper("ok")
    sims["receipt"].clear()
    sims["idcard"].remove_card()
    ui.sims, ui.cupsd = sims, ui_cupsd
    yield ui
    sims["payment"].set_outcome("approve", answer_delay=0.3)
    sims["receipt"].set_paper("ok")
    sims["idcard"].insert_card()
    _settle_then_wipe(ui)


def _settle_then_wipe(ui) -> None:
    """Between tests: let whatever a test left under way finish (its results are recorded), then home."""
    app = ui.app
    try:
        ui.wait_for(lambda: app.session.rule().rule.name in ("FREE", "CONFIRM"), 60, "the visit's steps to end")
    finally:
        app.session.wipe_now("reset")
        ui.pump(3)


# --- what the hall records ------------------------------------------------------------------------------

class Records:
    """Payments in the ledger, `print` transactions in the outbox, PDFs out of the A4 printer, slips out of
    the receipt printer: counted before a step, compared after."""

    def __init__(self, ui):
        self.ui = ui
        self.before = self.now()

    def now(self) -> dict:
        from kiosk.store import Store

        app = self.ui.app
        conn = Store.from_settings(app.settings).connect()
        try:
            kinds = [r[0] for r in conn.execute("SELECT kind FROM outbox")]
            payments = [tuple(r) for r in conn.execute(
                "SELECT reference, kind, state, service_state FROM payments ORDER BY created_at")]
        finally:
            conn.close()
        return {"print": kinds.count("print"), "payment": kinds.count("payment"), "refund": kinds.count("refund"),
                "payments": payments, "pdfs": len(list(self.ui.cupsd.out_dir.rglob("*.pdf"))),
                "slips": sum(1 for r in self.ui.sims["receipt"].receipts() if r.cut)}

    def new_payments(self) -> list[tuple]:
        """Ledger rows written or settled since the count before (a sale in flight then is settled now)."""
        before = set(self.before["payments"])
        return [p for p in self.now()["payments"] if p not in before]

    def added(self) -> dict:
        now = self.now()
        return {k: now[k] - self.before[k] for k in ("print", "payment", "refund", "pdfs", "slips")}

    def nothing_charged_nothing_printed(self) -> None:
        added = self.added()
        assert (added["print"], added["payment"], added["pdfs"]) == (0, 0, 0), added
        assert all(p[2] != "approved" for p in self.new_payments()), self.new_payments()

    def charged_printed_recorded(self) -> None:
        added = self.added()
        assert (added["print"], added["payment"]) == (1, 1), added
        (ref, kind, state, service) = self.new_payments()[-1]
        assert (kind, state, service) == ("sale", "approved", "delivered")
        self.ui.wait_for(lambda: self.added()["pdfs"] == 1, 30, "the PDF out of cups-pdf")


# --- driving the documents flow -------------------------------------------------------------------------

def docs(ui):
    from kiosk.app.root import DOCUMENTS

    return ui.app.kiosk.flow(DOCUMENTS)


def pay(ui):
    return ui.app.kiosk.parts.visit.payment


def tap_action(ui, screen: str, msgid: str) -> None:
    from kiosk.tour.steps_documents import tap_action as tap   # imports kivy: inside the test, never at collection

    tap(ui, screen, msgid)


def open_documents(ui) -> None:
    ui.app.session.touch()        # a citizen's first touch starts the visit
    ui.app.show("documents")
    ui.pump(3)
    assert docs(ui).state.value == "idle", f"documents start at {docs(ui).state.value}"


def wait_docs(ui, *states, timeout=30):
    ui.wait_for(lambda: docs(ui).state.value in states, timeout, "/".join(states))


def wait_pay(ui, *states, timeout=30):
    ui.wait_for(lambda: pay(ui).state.value in states, timeout, "/".join(states))


def tap_row(ui, index: int) -> None:
    """A row of the documents or forms list, once the list has laid it out."""
    def row():
        rows = ui.app.screen("documents").ids.choices.children[0].children
        return next((r for r in rows if r.index == index and r.text), None)
    ui.wait_for(lambda: row() is not None, 10, f"row {index} of the list")
    ui.tap(row())


def to_read_card(ui):
    ui.sims["idcard"].remove_card()
    open_documents(ui)
    tap_action(ui, "documents", "My documents (read ID card)")
    wait_docs(ui, "read_card")


def to_list(ui):
    from kiosk.sim.idcard import demo_resident

    to_read_card(ui)
    ui.sims["idcard"].insert_card(demo_resident())
    wait_docs(ui, "list")


def to_preview(ui):
    to_list(ui)
    two_pages = next(i for i, d in enumerate(docs(ui).documents) if d.key == "DEMO-2026-0007")
    tap_row(ui, two_pages)                                # the two-page document: 1 yuan
    wait_docs(ui, "preview")
    assert docs(ui).price_fen == 100


def to_pay_choose(ui):
    to_preview(ui)
    tap_action(ui, "documents", "Pay and print")
    wait_pay(ui, "choose")
    assert ui.app.screens.current == "payment"


def to_wait_code(ui):
    to_pay_choose(ui)
    tap_action(ui, "payment", "Pay with a WeChat or Alipay code")
    wait_pay(ui, "wait_code")


def to_code_confirm(code):
    def act(ui):
        to_wait_code(ui)
        ui.sims["scanner"].scan(code)
        wait_pay(ui, "code_confirm")
    return act


def to_wait_card(delay: float, outcome: str = "approve"):
    def act(ui):
        to_pay_choose(ui)
        ui.sims["payment"].set_outcome(outcome, answer_delay=delay)
        tap_action(ui, "payment", "Pay by bank card")
        wait_pay(ui, "wait_card")
    return act


def to_form_preview(ui):
    open_documents(ui)
    tap_action(ui, "documents", "A blank form")
    wait_docs(ui, "forms")
    tap_row(ui, 0)
    wait_docs(ui, "preview")


def to_printing_free_form(ui):
    to_form_preview(ui)
    tap_action(ui, "documents", "Print")
    wait_docs(ui, "printing")


# --- the ways out ----------------------------------------------------------------------------------------

def tap_home(ui) -> None:
    ui.tap(ui.app.header.ids.home_button)
    ui.pump(3)


def idle_out(ui) -> None:
    """Nobody touches the screen: the idle timeout and the whole warning run out (the session's clock)."""
    s = ui.app.session
    ui.advance(s.idle_timeout_s)
    ui.advance(s.warning_s + 1)
    ui.pump(3)


WAYS = {"home": tap_home, "idle": idle_out}


def wait_way_out_offered(ui) -> None:
    """Once the step that had to finish is over, the notice goes and the flow's screen is there to leave."""
    ui.wait_for(lambda: ui.app.leave_overlay.parent is None, 3, "the notice to close once the step is over")


def assert_visit_ended(ui) -> None:
    from kiosk.core.session import Phase

    ui.wait_for(lambda: ui.app.session.phase is Phase.HOME, 30, "the visit to end")
    assert ui.app.screens.current == "home"
    assert ui.app.leave_overlay.parent is None and ui.app.idle_overlay.parent is None


def assert_nothing_of_the_visit_left(ui, *visit_texts: str) -> None:
    """The previous visit's texts are nowhere in the widget tree (shown or in a hidden panel)."""
    from tests.ui.conftest import screen_widgets

    left = [f"{type(w).__name__} in {type(w.parent).__name__}: {w.text!r}" for w in screen_widgets(ui.app)
            if isinstance(getattr(w, "text", None), str) for v in visit_texts if v and v in w.text]
    assert not left, f"texts of the ended visit still in the widget tree: {left}"


def assert_no_page_of_the_visit_kept(ui) -> None:
    """The preview's page image is the citizen's own: gone with the visit, not kept in Kivy's image cache."""
    from kivy.cache import Cache

    screen = ui.app.screen("documents")
    assert screen.ids.page.texture is None
    kept = [key for category in ("kv.image", "kv.texture") for key in Cache._objects.get(category, {})
            if "documents" in str(key)]
    assert kept == [], kept


def assert_documents_start_fresh(ui, *visit_texts: str) -> None:
    assert_nothing_of_the_visit_left(ui, HOLDER_NAME, *TITLES, *visit_texts)
    assert_no_page_of_the_visit_kept(ui)
    open_documents(ui)
    screen = ui.app.screen("documents")
    assert screen.title == _("Print documents") and not screen.showing_list and not screen.reference
    assert docs(ui).holder is None and docs(ui).documents == [] and pay(ui).state.value == "idle"
    assert_nothing_of_the_visit_left(ui, HOLDER_NAME, *TITLES, *visit_texts)
    ui.app.end_visit("done")
    assert_visit_ended(ui)


# --- documents: steps where leaving ends the visit at once ---------------------------------------------

FREE_STEPS = {
    "first-screen": open_documents,
    "read-card": to_read_card,
    "list": to_list,
    "preview": to_preview,
    "pay-choose": to_pay_choose,
    "pay-code-wait": to_wait_code,
    "form-preview": to_form_preview,
}


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("step", FREE_STEPS)
def test_leaving_documents_before_anything_is_sent_ends_the_visit_with_nothing_charged(hall, step, way):
    ui = hall
    FREE_STEPS[step](ui)
    records = Records(ui)
    WAYS[way](ui)
    assert_visit_ended(ui)
    records.nothing_charged_nothing_printed()
    assert_documents_start_fresh(ui)


def test_a_card_read_after_the_visit_ended_is_never_shown(hall):
    from kiosk.sim.idcard import demo_resident

    ui = hall
    to_read_card(ui)
    tap_home(ui)
    assert_visit_ended(ui)
    ui.sims["idcard"].insert_card(demo_resident())   # the card arrives late, on a reader nobody waits on
    time.sleep(1.0)
    ui.pump(5)
    assert docs(ui).state.value == "idle" and docs(ui).holder is None
    assert_documents_start_fresh(ui)


def test_a_payment_code_scanned_after_the_visit_ended_is_not_taken_by_the_next(hall):
    ui = hall
    to_wait_code(ui)
    records = Records(ui)
    tap_home(ui)
    assert_visit_ended(ui)
    ui.sims["scanner"].scan(GOOD_CODE)
    time.sleep(1.0)
    ui.pump(5)
    assert pay(ui).state.value == "idle"
    records.nothing_charged_nothing_printed()
    assert records.new_payments() == []


# --- payment sent to the card terminal: it cannot be called back ------------------------------------------

@pytest.mark.parametrize("way", WAYS)
def test_leaving_while_the_card_terminal_waits_stays_until_it_answers_then_charges_prints_and_records(
        hall, way, shot):
    ui = hall
    to_wait_card(delay=3.0)(ui)
    records = Records(ui)
    WAYS[way](ui)
    # the visit goes on: the citizen sees the payment screen and, for Home, why it cannot end yet
    assert ui.app.session.phase.value == "active" and ui.app.screens.current == "payment"
    if way == "home":
        overlay = ui.app.leave_overlay
        assert overlay.parent is not None and "刷卡机" in overlay.ids.message.text
        shot("stay-card-terminal")
        ui.tap(overlay.ids.ok)
    else:
        assert ui.app.idle_overlay.parent is None   # no countdown over money in flight
    wait_docs(ui, "done", timeout=60)
    wait_way_out_offered(ui)
    records.charged_printed_recorded()
    screen = ui.app.screen("documents")
    assert ui.app.screens.current == "documents" and "身份证" in screen.message   # take the card too
    shot("done-take-card-and-papers")
    WAYS[way](ui)
    assert_visit_ended(ui)
    assert_documents_start_fresh(ui)


def test_home_while_the_card_terminal_waits_then_a_decline_leaves_with_nothing_charged(hall):
    ui = hall
    to_wait_card(delay=1.5, outcome="decline")(ui)
    records = Records(ui)
    tap_home(ui)
    assert ui.app.screens.current == "payment"
    wait_pay(ui, "declined")
    wait_way_out_offered(ui)
    tap_home(ui)
    assert_visit_ended(ui)
    records.nothing_charged_nothing_printed()
    assert [p[2] for p in records.new_payments()] == ["declined"]
    assert_documents_start_fresh(ui)


# --- payment sent to the code acquirer: called back, and the visit ends once it is confirmed -----------

@pytest.mark.parametrize("way", WAYS)
def test_leaving_a_code_payment_being_confirmed_reverses_it_and_ends_with_nothing_charged(hall, way, shot):
    ui = hall
    to_code_confirm(PENDING_CODE)(ui)
    records = Records(ui)
    WAYS[way](ui)
    assert ui.app.session.phase.value == "leaving"
    assert ui.app.leave_overlay.ids.title.text == "正在取消…"
    shot("canceling")
    assert_visit_ended(ui)
    records.nothing_charged_nothing_printed()
    assert [p[2] for p in records.new_payments()] == ["canceled"]
    assert_documents_start_fresh(ui)


def test_a_code_payment_whose_reversal_fails_stays_on_the_reference_with_a_slip(hall, shot):
    from kiosk.core.payment.money import show_reference

    ui = hall
    to_code_confirm(UNCLEAR_CODE)(ui)
    records = Records(ui)
    tap_home(ui)
    assert ui.app.leave_overlay.ids.title.text == "正在取消…"
    wait_docs(ui, "payment_unknown", timeout=60)
    ui.wait_for(lambda: pay(ui).slip == "printed" and ui.app.session.phase.value == "active", 20, "the slip")
    # the citizen is kept on the reference: the visit cannot end until they say they have it
    assert ui.app.screens.current == "documents"
    reference = show_reference(pay(ui).reference)
    screen = ui.app.screen("documents")
    assert screen.reference == reference
    slip = ui.sims["receipt"].receipts()[-1].text
    assert reference in slip and "¥1.00" in slip and ui.app.settings.kiosk.hotline in slip
    assert HOLDER_NAME not in slip and "张示例" not in slip
    shot("slip", text=slip)
    alarm = _alarm_detail(ui, f"outcome_unknown_{pay(ui).reference}")
    assert reference in alarm                       # the same reference as the technician sees
    # the Home that started it is answered: the slip (while it prints), then the reference
    overlay = ui.app.leave_overlay
    ui.wait_for(lambda: overlay.parent is None or overlay.why == "reference", 5, "the slip notice to go")
    if overlay.parent is not None:
        assert "参考号" in overlay.ids.message.text
        ui.tap(overlay.ids.ok)
    shot("unknown-with-slip")
    tap_home(ui)
    assert ui.app.screens.current == "documents" and "参考号" in ui.app.leave_overlay.ids.message.text
    ui.tap(ui.app.leave_overlay.ids.ok)
    tap_action(ui, "documents", "Finish")
    assert_visit_ended(ui)
    added = records.added()
    assert (added["print"], added["pdfs"], added["slips"]) == (0, 0, 1)
    assert [p[2] for p in records.new_payments()] == ["unknown"]
    assert_documents_start_fresh(ui, reference)


def test_the_idle_timeout_on_an_unknown_outcome_ends_the_visit_once_the_slip_is_out(hall):
    ui = hall
    to_wait_card(delay=0.3, outcome="garbled")(ui)
    wait_docs(ui, "payment_unknown")
    ui.wait_for(lambda: pay(ui).slip == "printed", 20, "the slip")
    records = Records(ui)
    idle_out(ui)
    assert_visit_ended(ui)
    assert records.added()["print"] == 0


def test_with_the_slip_printer_down_the_reference_stays_on_screen_until_the_citizen_confirms(hall, shot):
    from kiosk.core.payment.money import show_reference

    ui = hall
    ui.sims["receipt"].set_paper("out")
    to_wait_card(delay=0.3, outcome="garbled")(ui)
    wait_docs(ui, "payment_unknown")
    ui.wait_for(lambda: pay(ui).slip == "failed", 20, "the slip to fail")
    screen = ui.app.screen("documents")
    assert screen.reference == show_reference(pay(ui).reference) and "凭条打印机" in screen.detail
    shot("unknown-no-slip")
    idle_out(ui)                                    # nobody confirms: it stays, reference and all
    assert ui.app.session.phase.value == "active" and screen.reference
    tap_home(ui)
    assert ui.app.screens.current == "documents"
    ui.tap(ui.app.leave_overlay.ids.ok)
    tap_action(ui, "documents", "Finish")
    assert_visit_ended(ui)
    assert_documents_start_fresh(ui, screen.reference)


def _alarm_detail(ui, code: str) -> str:
    from kiosk.store import Store

    conn = Store.from_settings(ui.app.settings).connect()
    try:
        row = conn.execute("SELECT detail FROM alarms WHERE key=?", (f"payment:{code}",)).fetchone()
    finally:
        conn.close()
    assert row is not None, f"no alarm payment:{code}"
    return row[0]


# --- a job printing: it cannot be called back --------------------------------------------------------------

@pytest.mark.parametrize("way", WAYS)
def test_leaving_while_a_job_prints_stays_until_it_is_out_then_ends(hall, way, shot):
    ui = hall
    to_form_preview(ui)
    records = Records(ui)
    tap_action(ui, "documents", "Print")
    wait_docs(ui, "printing")
    WAYS[way](ui)
    assert ui.app.session.phase.value == "active" and ui.app.screens.current == "documents"
    if way == "home":
        assert "打印" in ui.app.leave_overlay.ids.message.text
        shot("stay-printing")
    wait_docs(ui, "done", timeout=60)
    wait_way_out_offered(ui)
    added = records.added()
    assert added["print"] == 1 and added["payment"] == 0
    ui.wait_for(lambda: records.added()["pdfs"] == 1, 30, "the PDF")
    WAYS[way](ui)
    assert_visit_ended(ui)
    assert_documents_start_fresh(ui)


def test_a_job_that_finishes_after_a_forced_end_is_recorded_and_never_shown(hall):
    ui = hall
    printer = docs(ui).printer
    real_submit, held = printer.submit, []

    def submit(pdf, title="kiosk", copies=1):   # the job waits in the queue, as behind a slow printer
        job = real_submit(pdf, title, copies)
        lp(printer, "lp", "-i", str(job), "-H", "hold")
        held.append(job)
        return job

    to_form_preview(ui)
    records = Records(ui)
    printer.submit = submit
    try:
        tap_action(ui, "documents", "Print")
        ui.wait_for(lambda: held and docs(ui).job_word == "held", 30, "the job held in the queue")
    finally:
        printer.submit = real_submit
    ui.app.session.wipe_now("reset")     # the kiosk taken out of citizens' hands mid-job
    ui.pump(3)
    assert records.added()["print"] == 0
    lp(printer, "lp", "-i", str(held[0]), "-H", "resume")
    ui.wait_for(lambda: records.added()["print"] == 1, 60, "the late print record")
    assert docs(ui).state.value == "idle" and ui.app.screens.current == "home"
    ui.wait_for(lambda: records.added()["pdfs"] == 1, 30, "the PDF")
    assert_documents_start_fresh(ui)


def lp(printer, *args: str) -> None:
    import os
    import subprocess

    subprocess.run(list(args), check=True, timeout=10, capture_output=True,
                   env=dict(os.environ, CUPS_SERVER=printer.server))


def test_a_printer_fault_mid_job_refunds_and_prints_a_slip(hall, shot):
    from kiosk.core.payment.money import show_reference

    ui = hall
    printer = docs(ui).printer
    real_submit = printer.submit

    def submit(pdf, title="kiosk", copies=1):
        lp(printer, "cupsdisable", "-r", "printer fault (test)", printer.printer)
        printer.submit = real_submit
        return real_submit(pdf, title, copies)

    try:
        to_wait_card(delay=0.3)(ui)
        printer.submit = submit
        records = Records(ui)
        wait_docs(ui, "failed", timeout=60)
        wait_pay(ui, "refunded", "refund_owed", timeout=60)
        ui.wait_for(lambda: pay(ui).slip in ("printed", "failed"), 20, "the slip")
        slip = ui.sims["receipt"].receipts()[-1].text
        assert show_reference(pay(ui).reference) in slip and "¥1.00" in slip
        shot("refunded-with-slip")
        shot("slip", text=slip)
        added = records.added()
        assert added["print"] == 0 and added["refund"] == (1 if pay(ui).state.value == "refunded" else 0)
    finally:
        printer.submit = real_submit
        lp(printer, "cupsenable", printer.printer)
    tap_action(ui, "documents", "Finish")
    assert_visit_ended(ui)
    assert_documents_start_fresh(ui)


def test_switching_language_at_any_step_keeps_the_visit_where_it_is(hall):
    ui = hall
    for step in (to_list, to_pay_choose):
        step(ui)
        before = (docs(ui).state, pay(ui).state, ui.app.screens.current)
        ui.tap(ui.app.header.ids.lang_en)
        ui.tap(ui.app.header.ids.lang_zh_CN)
        assert (docs(ui).state, pay(ui).state, ui.app.screens.current) == before
        assert ui.app.session.phase.value == "active"
        tap_home(ui)
        assert_visit_ended(ui)


# --- the rating's countdown -------------------------------------------------------------------------------

def test_the_thank_you_that_returns_home_shows_its_countdown(hall):
    ui = hall
    to_printing_free_form(ui)
    wait_docs(ui, "done", timeout=60)
    tap_action(ui, "documents", "Finish")
    screen = ui.app.screen("rating")
    ui.tap(next(b for b in screen.ids.levels.children if b.value == 5))
    ui.tap(screen.ids.submit)
    note = screen.ids.note.text
    assert re.search(r"\d+秒后返回首页", note), note
    ui.wait_for(lambda: ui.app.session.phase.value == "home", 10, "the countdown to end the visit")


def test_a_thank_you_left_by_home_never_ends_the_next_visit_on_the_rating_screen(hall):
    """Found by the tour: the countdown of a thank-you left by Home kept running and ended the next
    visit the moment that visit reached the rating screen."""
    from kiosk.screens.rating import THANKS_S

    ui = hall
    to_printing_free_form(ui)
    wait_docs(ui, "done", timeout=60)
    tap_action(ui, "documents", "Finish")
    screen = ui.app.screen("rating")
    ui.tap(next(b for b in screen.ids.levels.children if b.value == 5))
    ui.tap(screen.ids.submit)
    tap_home(ui)
    assert_visit_ended(ui)
    to_printing_free_form(ui)
    wait_docs(ui, "done", timeout=60)
    tap_action(ui, "documents", "Finish")
    assert ui.app.screens.current == "rating"
    end = time.monotonic() + THANKS_S + 1.5
    while time.monotonic() < end:
        ui.pump(1)
        assert ui.app.screens.current == "rating" and ui.app.session.phase.value == "active", \
            "an earlier visit's countdown ended this one"
    ui.tap(ui.app.screen("rating").ids.skip)   # this visit's own rating screen
    assert_visit_ended(ui)


# --- guides printing ---------------------------------------------------------------------------------------

def guides_flow(ui):
    return ui.app.screen("guides").flow


def to_guide_detail(ui):
    ui.app.session.touch()
    ui.app.show("guides")
    ui.pump(3)
    flow = guides_flow(ui)
    code = flow.catalog.items()[0].code
    assert flow.open_item(code)
    ui.wait_for(lambda: not flow._checking and flow.options["a4"].available, 20, "the printers checked")
    return flow.item.name


def to_guide_printing(ui):
    name = to_guide_detail(ui)
    from kiosk.core.guides.flow import View

    ui.tap(ui.app.screen("guides").views[View.DETAIL].ids.print_a4)
    assert guides_flow(ui).printing.phase.value == "printing"
    return name


def assert_guides_start_fresh(ui, name: str) -> None:
    assert_nothing_of_the_visit_left(ui, name)
    flow = guides_flow(ui)
    assert flow.view.value == "home" and flow.item is None and flow.printing is None


@pytest.mark.parametrize("way", WAYS)
def test_leaving_a_guide_before_printing_ends_the_visit(hall, way):
    ui = hall
    name = to_guide_detail(ui)
    WAYS[way](ui)
    assert_visit_ended(ui)
    assert_guides_start_fresh(ui, name)


@pytest.mark.parametrize("way", WAYS)
def test_leaving_while_a_guide_prints_stays_until_it_is_out_then_records_it(hall, way):
    ui = hall
    records = Records(ui)
    name = to_guide_printing(ui)
    WAYS[way](ui)
    assert ui.app.session.phase.value == "active" and ui.app.screens.current == "guides"
    ui.wait_for(lambda: guides_flow(ui).printing.phase.value != "printing", 60, "the guide printed")
    assert guides_flow(ui).printing.phase.value == "done" and records.added()["print"] == 1
    wait_way_out_offered(ui)
    WAYS[way](ui)
    assert_visit_ended(ui)
    assert_guides_start_fresh(ui, name)


# --- pickup ------------------------------------------------------------------------------------------------

@pytest.fixture
def locker(hall, pickup_ui):
    from tests.ui.conftest import locker_sim

    locker_sim().close_all()
    yield hall
    locker_sim().close_all()


def pickup_flow(ui):
    return pickup_service(ui.app).pickup


def open_pickup(ui):
    ui.app.session.touch()
    ui.app.show("pickup")
    screen = ui.app.screen("pickup")
    ui.wait_for(lambda: screen.panels.current == "code" and not screen.worker.pending, 10, "the keypad")
    return screen


def type_code(ui, screen, code: str) -> None:
    flow = pickup_flow(ui)
    for ch in code:
        before = len(flow.digits)
        ui.tap_key(screen.ids.keypad, ch)
        ui.wait_for(lambda: len(flow.digits) != before or screen.worker.pending or flow.step.value != "code",
                    5, f"key {ch}")


def to_door_open(ui, case: str):
    from tests.ui.conftest import deposit_item

    door, code = deposit_item(ui.app, case)
    screen = open_pickup(ui)
    type_code(ui, screen, code)
    ui.wait_for(lambda: pickup_flow(ui).step.value == "door_open", 10, "the door open")
    return door, code, screen


def outbox_kinds(ui) -> list[str]:
    from kiosk.store import Store

    conn = Store.from_settings(ui.app.settings).connect()
    try:
        return [r[0] for r in conn.execute("SELECT kind FROM outbox")]
    finally:
        conn.close()


def assert_pickup_starts_fresh(ui, door: int) -> None:
    screen = open_pickup(ui)
    assert screen.door == 0 and screen.digits == "" and screen.ids.locker_map.lit == 0
    assert pickup_flow(ui).item is None
    ui.app.end_visit("done")
    assert_visit_ended(ui)


@pytest.mark.parametrize("way", WAYS)
def test_leaving_pickup_with_part_of_a_code_typed_forgets_it(locker, way):
    ui = locker
    screen = open_pickup(ui)
    type_code(ui, screen, "4711")
    WAYS[way](ui)
    assert_visit_ended(ui)
    ui.wait_for(lambda: pickup_flow(ui).digits == "" and not screen.worker.pending, 5, "the flow's reset")
    # the screen typed on is given back with the visit: what it showed goes with it
    ui.wait_for(lambda: screen not in ui.app.screens.screens, 5, "the visit's screens given back")
    assert_pickup_starts_fresh(ui, 0)


@pytest.mark.parametrize("way", WAYS)
def test_leaving_pickup_while_the_holders_card_is_awaited_opens_nothing(locker, way):
    from tests.ui.conftest import deposit_item, locker_sim

    ui = locker
    ui.sims["idcard"].remove_card()
    from kiosk.sim.idcard import demo_resident

    door, code = deposit_item(ui.app, f"UI-ID-{way}", holder=demo_resident().id_number)
    screen = open_pickup(ui)
    type_code(ui, screen, code)
    ui.wait_for(lambda: pickup_flow(ui).step.value == "id_card", 10, "the card prompt")
    pickups = outbox_kinds(ui).count("pickup")
    WAYS[way](ui)
    assert_visit_ended(ui)
    ui.sims["idcard"].insert_card()            # the holder's card arrives after the visit ended
    time.sleep(1.0)
    ui.pump(5)
    assert not locker_sim().is_open(door) and outbox_kinds(ui).count("pickup") == pickups
    assert_pickup_starts_fresh(ui, door)


def test_home_with_the_door_open_records_the_pickup_then_ends(locker, shot):
    from tests.ui.conftest import locker_sim

    ui = locker
    door, _code, screen = to_door_open(ui, "UI-LEAVE-1")
    pickups = outbox_kinds(ui).count("pickup")
    tap_home(ui)
    assert_visit_ended(ui)
    assert outbox_kinds(ui).count("pickup") == pickups + 1
    locker_sim().close_door(door)
    assert_pickup_starts_fresh(ui, door)


def test_the_idle_timeout_with_the_door_open_waits_for_the_doors_own_timeout(locker):
    from tests.ui.conftest import locker_sim

    ui = locker
    door, _code, screen = to_door_open(ui, "UI-LEAVE-2")
    pickups = outbox_kinds(ui).count("pickup")
    s = ui.app.session
    ui.advance(s.idle_timeout_s)       # past the door's own timeout: the pickup is recorded, the door alarmed
    assert ui.app.idle_overlay.parent is None
    ui.wait_for(lambda: pickup_flow(ui).step.value == "door_left_open", 10, "the door left open")
    assert outbox_kinds(ui).count("pickup") == pickups + 1
    idle_out(ui)
    assert_visit_ended(ui)
    locker_sim().close_door(door)
    assert_pickup_starts_fresh(ui, door)


def test_finish_on_the_open_door_records_the_pickup(locker):
    from tests.ui.conftest import locker_sim

    ui = locker
    door, _code, screen = to_door_open(ui, "UI-LEAVE-3")
    pickups = outbox_kinds(ui).count("pickup")
    ui.tap(screen.ids.door_open_finish)
    ui.wait_for(lambda: pickup_flow(ui).step.value == "done", 10, "the pickup done")
    assert outbox_kinds(ui).count("pickup") == pickups + 1
    locker_sim().close_door(door)
    ui.app.end_visit("done")
    assert_visit_ended(ui)


def test_a_door_that_did_not_open_is_opened_once_more_then_staff_are_called(locker, shot):
    from tests.ui.conftest import locker_sim

    ui = locker
    door, code, screen = to_door_open(ui, "UI-LEAVE-4")
    pickups = outbox_kinds(ui).count("pickup")
    ui.tap(screen.ids.door_help)
    ui.wait_for(lambda: pickup_flow(ui).step.value == "door_open" and pickup_flow(ui).help_asked == 1, 10,
                "the door opened again")
    ui.tap(screen.ids.door_help)
    ui.wait_for(lambda: pickup_flow(ui).step.value == "help", 10, "the call for staff")
    assert ui.app.settings.kiosk.hotline in screen.ids.help_text.text
    shot("door-help")
    assert outbox_kinds(ui).count("pickup") == pickups    # nothing taken: nothing recorded
    ui.app.end_visit("done")
    assert_visit_ended(ui)
    locker_sim().close_door(door)
    # the code is still valid: staff free the door and the citizen collects
    screen = open_pickup(ui)
    type_code(ui, screen, code)
    ui.wait_for(lambda: pickup_flow(ui).step.value == "door_open", 10, "the door open again")
    locker_sim().close_door(door)
    ui.wait_for(lambda: pickup_flow(ui).step.value == "done", 10, "done")
    assert outbox_kinds(ui).count("pickup") == pickups + 1
    ui.app.end_visit("done")
    assert_visit_ended(ui)


# --- staff deposit -------------------------------------------------------------------------------------

def deposit_flow(ui):
    return pickup_service(ui.app).deposit


def to_deposit_door_open(ui, case: str):
    open_deposit(ui)
    flow = deposit_flow(ui)
    assert flow.set_case(case)
    flow.choose(size="small", require_id=False)
    ui.app.screen("staff_deposit").confirm_options()
    ui.wait_for(lambda: flow.step.value == "door_open", 10, "the deposit door open")
    return flow.door


@pytest.mark.parametrize("step", ["case-typed", "options", "holder-typed"])
@pytest.mark.parametrize("way", WAYS)
def test_staff_leaving_a_deposit_before_the_door_opens_ends_it_with_nothing_deposited(locker, step, way):
    ui = locker
    case = f"UI-EARLY-{step}-{way}".upper()
    screen = open_deposit(ui)
    flow = deposit_flow(ui)
    deposits = outbox_kinds(ui).count("deposit")
    if step == "case-typed":
        for ch in "4711":
            ui.tap_key(screen.ids.keypad, ch)
        ui.wait_for(lambda: screen.typed == "4711", 5, "the typed case number")
        case = "4711"
    else:
        assert flow.set_case(case)
        ui.wait_for(lambda: flow.step.value == "options", 5, "the options")
        if step == "holder-typed":
            flow.choose(size="small", require_id=True)
            screen.confirm_options()
            ui.wait_for(lambda: flow.step.value == "holder", 5, "the holder step")
            for ch in "110101":
                ui.tap_key(screen.ids.holder_keypad, ch)
            ui.wait_for(lambda: screen.typed == "110101", 5, "the typed ID number")
    WAYS[way](ui)
    assert_visit_ended(ui)
    assert_nothing_of_the_visit_left(ui, case, "110101")
    assert not ui.app.screen("staff").signed_in
    assert outbox_kinds(ui).count("deposit") == deposits
    # the next deposit starts at its first step with nothing of this one
    screen = open_deposit(ui)
    assert flow.step.value == "case" and flow.case_number in (None, "") and screen.typed == ""
    ui.app.end_visit("done")
    assert_visit_ended(ui)


@pytest.mark.parametrize("way", WAYS)
def test_staff_leaving_a_deposit_with_the_door_open_must_close_it_and_note_the_code(locker, way, shot):
    from tests.ui.conftest import locker_sim

    ui = locker
    door = to_deposit_door_open(ui, f"UI-DEP-{way}")
    deposits = outbox_kinds(ui).count("deposit")
    WAYS[way](ui)
    assert ui.app.session.phase.value == "active" and ui.app.screens.current == "staff_deposit"
    if way == "home":
        assert "柜门" in ui.app.leave_overlay.ids.message.text
        shot("stay-deposit-door")
        ui.tap(ui.app.leave_overlay.ids.ok)
    locker_sim().close_door(door)
    ui.wait_for(lambda: deposit_flow(ui).step.value == "code", 10, "the code")
    code = deposit_flow(ui).code
    assert outbox_kinds(ui).count("deposit") == deposits + 1
    WAYS[way](ui)
    if way == "home":   # staff at the screen note the code first
        assert ui.app.screens.current == "staff_deposit" and "取件码" in ui.app.leave_overlay.ids.message.text
        ui.tap(ui.app.leave_overlay.ids.ok)
        ui.app.screen("staff_deposit").next_item()
        tap_home(ui)
    assert_visit_ended(ui)   # idle: an unattended screen never keeps a code on show
    assert_nothing_of_the_visit_left(ui, code, f"UI-DEP-{way}")
    assert not ui.app.screen("staff").signed_in
