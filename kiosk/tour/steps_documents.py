"""`kiosk tour` steps of document printing, payment and ratings, with their failure paths.

The steps act through the real window and play the citizen's part at the
simulators (`sim://idcard`, `sim://payment`, `sim://scanner`). They need what
the kiosk needs in a hall: the central platform at `[central] url` (seeded:
`kiosk central seed`, this kiosk provisioned) and the CUPS queue of
`[devices.document_printer]` (`make run` sets up both; the UI tests start a
private platform and a private cupsd). Faults are real ones: the platform made
unreachable, the CUPS queue stopped mid-job, the terminal declining or
answering garbage. Listed by kiosk/tour/runner.py, run only on a kiosk that
offers document printing.
"""
from __future__ import annotations

import os
import subprocess

from kiosk.tour.step import Step

_state: dict = {}


def _sim(name: str):
    from kiosk.sim.registry import simulator

    return simulator(name)


def wait_for(d, cond, timeout: float = 30.0, what: str = "") -> None:
    """Devices, the platform and CUPS work in real time."""
    d.wait_for(cond, timeout, what, settle=3)


def _docs(d):
    from kiosk.app.root import DOCUMENTS

    return d.app.kiosk.flow(DOCUMENTS)


def _pay(d):
    return d.app.kiosk.parts.visit.payment


def _rating(d):
    return d.app.kiosk.parts.visit.rating


def _screen(d, name):
    return d.app.screen(name)


def tap_action(d, screen: str, msgid: str) -> None:
    """Tap the enabled action button of `screen` whose text is `msgid` in the current language."""
    from kiosk.i18n import _
    from kiosk.screens.documents import flow_buttons

    buttons = flow_buttons(_screen(d, screen))
    for button in buttons:
        if button.text == _(msgid) and not button.disabled:
            d.tap(button)
            return
    raise AssertionError(f"no button {msgid!r} on the {screen} screen; there are "
                         f"{[b.text for b in buttons if b.text]}")


def _expect(screen: str, doc_state: str | None = None, pay_state: str | None = None, rating: str | None = None):
    def check(d):
        problems = []
        if d.app.screens.current != screen:
            problems.append(f"showing {d.app.screens.current}, expected {screen}")
        if doc_state and _docs(d).state.value != doc_state:
            problems.append(f"documents flow is {_docs(d).state.value} ({_docs(d).problem}), expected {doc_state}")
        if pay_state and _pay(d).state.value != pay_state:
            problems.append(f"payment is {_pay(d).state.value} ({_pay(d).detail}), expected {pay_state}")
        if rating and _rating(d).state.value != rating:
            problems.append(f"rating is {_rating(d).state.value}, expected {rating}")
        return "; ".join(problems) or None
    return check


def _expect_preview(d):
    """The preview: page 1 loaded and shown the width of its view, its number beside the keys."""
    problem = _expect("documents", "preview")(d)
    if problem:
        return problem
    s = _screen(d, "documents")
    page, view = s.ids.page, s.ids.page_view
    if s.ids.page_view.height <= 0 or page.texture is None or not s.page_source:
        return f"no page shown (source {s.page_source!r}, note {s.page_note!r})"
    if abs(page.width - view.width) > 2 or abs(page.texture.width - view.width) > 2:
        return f"page 1 drawn {page.texture.width} px and shown {page.width:.0f} px in a {view.width:.0f} px view"
    if s.ids.page_label.text != s.page_label or not s.page_label:
        return "the page number is missing"
    return None


# --- acts ------------------------------------------------------------------------------------------

def _open(d) -> None:
    """From home: the documents tile, once the printer has answered and old payments are settled."""
    wait_for(d, lambda: d.app.makes_screen("documents") and "document_printer" not in
             d.app.device_problems and _pay(d).ledger.recovered.is_set(), 60,
             "the A4 printer to be ready (is the CUPS queue there?) and the payment recovery")
    for sim in ("payment", "idcard"):
        _sim(sim)
    _sim("payment").set_outcome("approve", answer_delay=0.5)
    d.tap_tile("documents")
    wait_for(d, lambda: d.app.screens.current == "documents", 5, "the documents screen")


def _ask_for_card(d) -> None:
    _sim("idcard").remove_card()
    tap_action(d, "documents", "My documents (read ID card)")
    wait_for(d, lambda: _docs(d).state.value == "read_card", 5, "the card prompt")


def _put_card(d) -> None:
    from kiosk.sim.idcard import demo_resident

    _sim("idcard").insert_card(demo_resident())
    wait_for(d, lambda: _docs(d).state.value in ("list", "offline", "no_documents", "card_problem"), 30,
             "the documents list")


def _choose(index: int):
    def act(d) -> None:
        rows = [w for w in _screen(d, "documents").ids.choices.children[0].children]
        row = next(r for r in rows if r.index == index)
        d.tap(row)
        wait_for(d, lambda: _docs(d).state.value in ("preview", "fetch_failed"), 30, "the preview")
    return act


def _confirm(d) -> None:
    f = _docs(d)
    tap_action(d, "documents", "Pay and print" if f.price_fen else "Print")
    wait_for(d, lambda: _docs(d).state.value in ("paying", "printing", "done", "printer_down"), 30,
             "the payment screen or printing")


def _pay_card(delay: float = 3.0, outcome: str = "approve"):
    def act(d) -> None:
        _sim("payment").set_outcome(outcome, answer_delay=delay)
        tap_action(d, "payment", "Pay by bank card")
        wait_for(d, lambda: _pay(d).state.value == "wait_card", 5, "the card prompt")
    return act


def _until(doc_state: tuple[str, ...], timeout: float = 60):
    def act(d) -> None:
        wait_for(d, lambda: _docs(d).state.value in doc_state, timeout, "/".join(doc_state))
    return act


def _until_pay(pay_state: tuple[str, ...], timeout: float = 60):
    def act(d) -> None:
        wait_for(d, lambda: _pay(d).state.value in pay_state, timeout, "/".join(pay_state))
    return act


def _printing(d) -> None:
    wait_for(d, lambda: _docs(d).state.value in ("printing", "done", "failed"), 30, "printing")


def _finish_to_rating(d) -> None:
    tap_action(d, "documents", "Finish")
    wait_for(d, lambda: d.app.screens.current == "rating", 15, "the rating screen")


def _rate_low(d) -> None:
    s = _screen(d, "rating")
    d.tap(next(b for b in s.ids.levels.children if b.value == 2))
    chips = list(reversed(s.ids.reasons.children))
    d.tap(chips[0])


def _submit_rating(d) -> None:
    d.tap(_screen(d, "rating").ids.submit)


def _pay_code(d) -> None:
    tap_action(d, "payment", "Pay with a WeChat or Alipay code")
    wait_for(d, lambda: _pay(d).state.value == "wait_code", 5, "the code prompt")


def _show_code(code: str):
    def act(d) -> None:
        _sim("scanner").scan(code)
        wait_for(d, lambda: _pay(d).state.value not in ("wait_code",), 30, "the code to be taken")
    return act


def _elder_on(d) -> None:
    if not d.app.elder:
        d.tap(d.app.header.ids.elder_toggle)


def _blank_forms(d) -> None:
    tap_action(d, "documents", "A blank form")
    wait_for(d, lambda: _docs(d).state.value == "forms", 30, "the forms list")


def _platform_down(d) -> None:
    central = _docs(d).central
    _state["base"] = central.base
    central.base = "http://127.0.0.1:9"   # nothing listens there: the platform is unreachable
    _ask_for_card(d)
    _put_card(d)


def _platform_back(d) -> None:
    if "base" in _state:
        _docs(d).central.base = _state.pop("base")


def _cups(*args: str) -> None:
    printer = _docs(_state["driver"]).printer
    env = dict(os.environ, CUPS_SERVER=printer.server)
    subprocess.run(list(args), env=env, capture_output=True, timeout=10, check=True)


def _stop_queue_when_printing(d) -> None:
    """The queue stops as the job reaches it (a printer fault mid-job, as CUPS reports one)."""
    _state["driver"] = d
    printer = _docs(d).printer
    real_submit = printer.submit

    def submit(pdf, title="kiosk", copies=1):
        _cups("cupsdisable", "-r", "printer fault (tour)", printer.printer)
        printer.submit = real_submit
        return real_submit(pdf, title, copies)

    printer.submit = submit
    _pay_card(delay=0.5)(d)
    wait_for(d, lambda: _docs(d).state.value == "failed" and _pay(d).state.value in ("refunded", "refund_owed"),
             60, "the failure and the refund")


def _queue_back(d) -> None:
    if "driver" in _state:
        printer = _docs(d).printer
        _cups("cupsenable", printer.printer)
        _state.pop("driver")
    tap_action(d, "documents", "Finish")


def _nothing(d) -> None:
    pass


# --- the flows -------------------------------------------------------------------------------------

FLOWS: dict[str, list[Step]] = {}   # the flows, in the order the tour runs them (kiosk/tour/runner.py)
FLOWS["documents-card"] = [
    Step("start", _open, _expect("documents", "idle")),
    Step("read-card", _ask_for_card, _expect("documents", "read_card")),
    Step("list", _put_card, _expect("documents", "list")),
    Step("preview", _choose(1), _expect_preview),
    Step("pay-choose", _confirm, _expect("payment", "paying", "choose")),
    Step("pay-card-wait", _pay_card(), _expect("payment", "paying", "wait_card")),
    Step("printing", _printing, _expect("documents", pay_state="approved")),
    Step("done", _until(("done",)), _expect("documents", "done")),
    Step("rating", _finish_to_rating, _expect("rating", rating="asking")),
    Step("rating-reasons", _rate_low, _expect("rating", rating="asking")),
    Step("rating-thanks", _submit_rating, _expect("rating", rating="done")),
]
FLOWS["documents-form-elder"] = [
    Step("start", lambda d: (_elder_on(d), _open(d)), _expect("documents", "idle")),
    Step("forms", _blank_forms, _expect("documents", "forms")),
    Step("preview", _choose(0), _expect_preview),
    Step("done", lambda d: (_confirm(d), _until(("done",))(d)), _expect("documents", "done")),
    Step("rating", _finish_to_rating, _expect("rating", rating="asking")),
]
FLOWS["documents-code"] = [
    Step("preview", lambda d: (_open(d), _ask_for_card(d), _put_card(d), _choose(0)(d)),
         _expect_preview),
    Step("pay-choose", _confirm, _expect("payment", "paying", "choose")),
    Step("show-code", _pay_code, _expect("payment", "paying", "wait_code")),
    Step("done", lambda d: (_show_code("134567890123456782")(d), _until(("done",))(d)),
         _expect("documents", "done", "approved")),
]
FLOWS["documents-declined"] = [
    Step("declined", lambda d: (_open(d), _ask_for_card(d), _put_card(d), _choose(0)(d), _confirm(d),
                                _pay_card(0.5, "decline")(d), _until_pay(("declined",))(d)),
         _expect("payment", "paying", "declined")),
    Step("canceled", lambda d: (tap_action(d, "payment", "Cancel"), _until(("preview",))(d)),
         _expect("documents", "preview", "canceled")),
]
FLOWS["documents-unknown-elder"] = [
    Step("unknown", lambda d: (_elder_on(d), _open(d), _ask_for_card(d), _put_card(d), _choose(0)(d),
                               _confirm(d), _pay_card(0.5, "garbled")(d), _until(("payment_unknown",))(d)),
         _expect("documents", "payment_unknown", "unknown")),
]
FLOWS["documents-offline"] = [
    Step("offline", lambda d: (_open(d), _platform_down(d)), _expect("documents", "offline")),
    Step("back", lambda d: (_platform_back(d), tap_action(d, "documents", "Back to home")),
         lambda d: None if d.app.screens.current == "home" else f"showing {d.app.screens.current}"),
]
FLOWS["documents-printer-fault"] = [
    Step("failed-refunded", lambda d: (_open(d), _ask_for_card(d), _put_card(d), _choose(0)(d), _confirm(d),
                                       _stop_queue_when_printing(d)),
         _expect("documents", "failed", "refunded")),
    Step("finish", _queue_back, lambda d: None if d.app.screens.current == "home" else
         f"showing {d.app.screens.current}"),
]
