"""Filling in a form (自助填表) in the real window: the ID card simulator fills what the card knows, the rest is
typed on the pinyin keyboard, written on the pad and tapped on the digit keys, and the form is printed
through the private CUPS to cups-pdf. The PDF's text holds the values; its QR code decodes to them.
Screenshots go to tests/artifacts/ui/ (zh_CN, elder mode).
"""
from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

FORM_ITEM = "11010003"          # 社会保障卡申领: a generated layout


def _open(ui):
    app = ui.app
    app.session.touch()
    app.kiosk.parts.visit.enter("forms")
    app.show("forms")
    screen = app.screen("forms")
    ui.wait_for(lambda: screen.panels.current == "choose" and screen.flow.offered and not screen.worker.pending, 10,
                "the list of forms")
    return screen


def _flow(ui):
    from kiosk.app.root import FORMS

    return ui.app.kiosk.flow(FORMS)


def _at(ui, screen, key: str) -> None:
    ui.wait_for(lambda: screen.panels.current == "fill" and screen.flow.field.key == key, 10, f"the field {key}")


def _next(ui, screen) -> None:
    ui.tap(screen.ids.next)
    ui.pump(3)


def _type_pinyin(ui, screen, letters: str, want: str) -> None:
    """Type `letters` on the letter keys, then tap the candidate `want` (as the tour does)."""
    from kiosk.tour import steps_forms

    steps_forms._letters(letters)(ui)
    steps_forms._pick(want)(ui)


def _draw(ui, strokes) -> None:
    """Write recorded strokes (tests/data/handwriting: a 1024 box, y downwards) on the pad with a finger."""
    from kiosk.tour import steps_forms

    steps_forms._write(strokes)(ui)


def _strokes(char: str):
    data = json.loads((Path(__file__).parents[1] / "data" / "handwriting" / "strokes.json").read_text("utf-8"))
    return data["chars"][char]


def _digits(ui, screen, text: str) -> None:
    for ch in text:
        ui.tap_key(screen.ids.digits, ch)


def _newest_pdf(out_dir: Path, before: set[Path], timeout: float = 60) -> Path:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        new = [p for p in out_dir.glob("*.pdf") if p not in before and p.stat().st_size > 0]
        if new:
            return new[0]
        time.sleep(0.2)
    raise AssertionError(f"no PDF from cups-pdf in {out_dir}")


def test_fill_a_form_from_the_card_with_pinyin_handwriting_and_digits_and_print_it(ui, ui_cupsd, shot):
    if ui_cupsd is None:
        pytest.fail("the form prints through CUPS: make test installs cups and cups-pdf and runs as root")
    from kiosk.sim.idcard import demo_resident

    app = ui.app
    runtime = app.kiosk.parts.runtime
    runtime.devices.get("document_printer") or runtime.wait_ready(10)
    card = demo_resident()
    sim = app.kiosk.parts.runtime.devices.get("idcard")
    screen = _open(ui)
    shot("choose")
    flow = screen.flow
    index = next(i for i, o in enumerate(flow.offered) if o.item_code == FORM_ITEM)
    screen.choose_row(index)
    ui.wait_for(lambda: screen.panels.current == "start", 5, "the form's first page")
    assert screen.can_read_cards
    shot("start")

    from kiosk.tour.steps_documents import _sim
    _sim("idcard").insert_card(card)
    ui.tap(screen.ids.read_card)
    ui.wait_for(lambda: screen.panels.current == "fill", 30, "the form after the card")
    # the card filled name, sex, nation and ID number: the first field left is the phone
    _at(ui, screen, "phone")
    assert flow.values["id_number"] == card.id_number and flow.values["name"] == card.name
    assert screen.mode == "digits"
    _digits(ui, screen, "1380013800")
    _next(ui, screen)
    assert "11-digit" in flow.problem or "11" in screen.ids.field_problem.text, "a short phone is refused"
    shot("phone-refused")
    _digits(ui, screen, "0")
    _next(ui, screen)

    _at(ui, screen, "mail_address")
    assert screen.mode == "pinyin"
    _type_pinyin(ui, screen, "beijingshi", "北京市")
    _type_pinyin(ui, screen, "chaoyangqu", "朝阳区")
    shot("pinyin")
    # one character by hand: 路
    ui.tap(screen.ids.mode_handwriting)
    ui.pump(3)
    assert not screen.ids.pad.disabled
    _draw(ui, _strokes("路"))
    ui.pump(3)
    assert "路" in [c.text for c in screen.candidates[:5]], [c.text for c in screen.candidates]
    shot("handwriting")
    ui.tap_key(screen.ids.candidates, f"c{[c.text for c in screen.candidates].index('路')}")
    ui.tap(screen.ids.mode_digits)
    _digits(ui, screen, "8")
    ui.tap(screen.ids.mode_pinyin)
    _type_pinyin(ui, screen, "hao", "号")
    assert flow.values["mail_address"] == "北京市朝阳区路8号"
    _next(ui, screen)

    _at(ui, screen, "insured_as")
    ui.tap(next(b for b in screen.ids.choice_box.children if b.choice == "职工基本养老保险"))
    _next(ui, screen)
    _at(ui, screen, "bank")
    ui.tap(next(b for b in screen.ids.choice_box.children if b.choice == "中国银行"))
    _next(ui, screen)
    _at(ui, screen, "guardian_name")
    _next(ui, screen)        # optional: left empty
    _at(ui, screen, "guardian_phone")
    _next(ui, screen)
    _at(ui, screen, "promise")
    _next(ui, screen)
    assert flow.problem, "the promise must be ticked"
    shot("promise")
    ui.tap(screen.ids.tick)
    assert flow.values.get("promise") is True, (flow.values.get("promise"), screen.ids.tick.pos, screen.ids.tick.size)
    _next(ui, screen)
    ui.wait_for(lambda: screen.panels.current == "review", 5, "the review")
    shot("review")
    shown = " ".join(w.answer for w in screen.ids.answers.children)
    assert card.id_number not in shown and card.name not in shown, "the card's name and number are masked on screen"

    template, values = flow.form.template, dict(flow.values)
    before = set(ui_cupsd.out_dir.glob("*.pdf"))
    ui.tap(screen.ids["print"])
    ui.wait_for(lambda: screen.panels.current in ("done", "failed"), 90, "the printed form")
    assert screen.panels.current == "done", flow.problem
    shot("done")
    pdf = _newest_pdf(ui_cupsd.out_dir, before)
    # the PDF cups-pdf made (CUPS's pdftops to PostScript, then ghostscript): each value beside its label, as
    # a person reads the paper, the Chinese ones too (kiosk/core/forms/render.py names the font's glyphs)
    text = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    expected = {"name": card.name, "sex": "男", "nation": "汉族", "id_number": card.id_number, "phone": "13800138000",
                "mail_address": "北京市朝阳区路8号", "insured_as": "职工基本养老保险", "bank": "中国银行"}
    assert {k: values[k] for k in expected} == expected and expected.keys() <= {f.key for f in template.fields}
    for f in template.fields:
        if f.key in expected:
            assert any(re.search(re.escape(f.label) + r"\s+" + re.escape(expected[f.key]), line)
                       for line in text.splitlines()), f"{f.key}: {f.label} {expected[f.key]!r} not on the printed form"
    for words in (template.title, "申请人（签名）", "窗口扫码录入", "social-security-card-application"):
        assert words in text, f"{words!r} not on the printed form"
    png = pdf.with_suffix(".png")
    subprocess.run(["pdftoppm", "-png", "-r", "200", "-singlefile", str(pdf), str(png.with_suffix(""))], check=True)
    qr = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True).stdout.strip()
    data = json.loads(qr)
    assert data["t"] == "social-security-card-application"
    assert data["f"] | {} == {**data["f"], "name": card.name, "id_number": card.id_number, "phone": "13800138000",
                              "mail_address": "北京市朝阳区路8号", "insured_as": "职工基本养老保险", "bank": "中国银行",
                              "promise": True}

    conn = app.kiosk.parts.store.connect()
    rows = conn.execute("SELECT kind, body FROM outbox WHERE kind = 'form' ORDER BY rowid DESC LIMIT 1").fetchall()
    assert rows, "a form transaction in the outbox"
    record = rows[0][1]
    assert "social-security-card-application" in record
    for secret in (card.id_number, card.name, "13800138000", "朝阳区"):
        assert secret not in record

    ui.tap(screen.ids.finish)
    ui.wait_for(lambda: app.screens.current == "rating", 5, "the rating")
    ui.reset()
    assert flow.values == {} and flow._index is None and flow._recogniser is None


def test_a_guide_opens_its_form_and_nothing_typed_outlives_the_visit(ui, shot):
    """From a guide's detail to its form; what is typed reaches no log line, and after the visit no object the
    app holds, no table of the kiosk's database and no screen keeps it."""
    import gc
    import logging

    from kiosk.app.root import GUIDES
    from kiosk.core.guides.flow import View

    app = ui.app
    runtime = app.kiosk.parts.runtime
    runtime.devices.get("document_printer") or runtime.wait_ready(10)
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    keep = Keep(level=logging.DEBUG)
    logging.getLogger().addHandler(keep)
    try:
        app.session.touch()
        app.open_service("guides")
        guides = app.screen("guides")
        app.kiosk.flow(GUIDES).open_item(FORM_ITEM)
        ui.wait_for(lambda: guides.views[View.DETAIL].ids.fill_form.offered, 10, "the guide's form button")
        shot("guide")
        ui.tap(guides.views[View.DETAIL].ids.fill_form)
        screen = app.screen("forms")
        ui.wait_for(lambda: app.screens.current == "forms" and screen.panels.current == "start", 10,
                    "the guide's one form, opened at once")
        ui.tap(screen.ids.type_it)
        _at(ui, screen, "name")
        _type_pinyin(ui, screen, "wangxiuying", "王秀英")
        _next(ui, screen)
        _at(ui, screen, "sex")
        ui.tap(next(b for b in screen.ids.choice_box.children if b.choice == "女"))
        _next(ui, screen)
        _at(ui, screen, "nation")
        _type_pinyin(ui, screen, "hanzu", "汉族")
        _next(ui, screen)
        _at(ui, screen, "id_number")
        _digits(ui, screen, "11010519491231002")
        ui.tap_key(screen.ids.digits, "X")
        _next(ui, screen)
        _at(ui, screen, "phone")
        _digits(ui, screen, "13912345678")
        shot("typed")
        assert screen.flow.values["name"] == "王秀英" and screen.flow.values["id_number"] == "11010519491231002X"
    finally:
        ui.reset()
        logging.getLogger().removeHandler(keep)
    ui.pump(10)
    typed = ("王秀英", "11010519491231002X", "13912345678")
    for line in lines:
        assert not any(t in line for t in typed), f"a log line holds what was typed: {line}"
    gc.collect()
    # everything the app holds, followed from the app object (its kiosk, flows, screens, widgets, caches
    # reached from them); modules, classes and functions are not followed, so the walk stays on the app's
    # own data rather than the interpreter's (the test harness's objects are not the app's)
    import types
    seen, stack, walked = set(), [app], 0
    while stack and walked < 3_000_000:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        walked += 1
        if isinstance(obj, str):
            assert not any(t in obj for t in typed), f"after the visit the app still holds {obj!r}"
            continue
        if isinstance(obj, (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType, types.CodeType,
                            types.FrameType, bytes, int, float)):
            continue
        try:
            stack.extend(gc.get_referents(obj))
        except ReferenceError:      # a weak proxy whose widget is gone
            continue
    assert walked > 10_000, f"only {walked} objects reached from the app: the walk did not follow it"
    conn = app.kiosk.parts.store.connect()
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        for row in conn.execute(f'SELECT * FROM "{table}"').fetchall():
            assert not any(isinstance(c, str) and any(t in c for t in typed) for c in row), f"{table} holds it"
    assert "forms" not in app.screen_names() or app.screens.current == "home"


def test_a_priced_form_shows_its_price_is_paid_by_card_and_then_printed(ui, ui_cupsd, shot):
    """With `[fees] forms` set, the review says what printing costs, the payment screen asks the drawn form's
    price, and the form prints once the card terminal approves; its `print` transaction carries the amount."""
    if ui_cupsd is None:
        pytest.fail("the form prints through CUPS: make test installs cups and cups-pdf and runs as root")
    from kiosk import config
    from kiosk.core.forms.flow import FormState
    from kiosk.i18n import _
    from kiosk.sim.idcard import demo_resident
    from kiosk.sim.registry import simulator
    from kiosk.tour.steps_documents import _sim

    app = ui.app
    runtime = app.kiosk.parts.runtime
    runtime.devices.get("document_printer") or runtime.wait_ready(10)
    flow = _flow(ui)
    ui.wait_for(lambda: flow.printer is not None and flow.payment.terminal is not None
                and flow.payment.ledger.recovered.is_set(), 30, "the printer, the terminal, the recovery")
    terminal = simulator("payment")
    terminal_was = (terminal.outcome, terminal.answer_delay)      # left as found for the tests after this one
    terminal.set_outcome("approve", answer_delay=0.3)
    saved, flow.fee = flow.fee, config.FeeRule(per_document_fen=100, per_page_fen=50)
    try:
        screen = _open(ui)
        screen.choose_row(next(i for i, o in enumerate(flow.offered) if o.item_code == FORM_ITEM))
        ui.wait_for(lambda: screen.panels.current == "start", 5, "the form's first page")
        _sim("idcard").insert_card(demo_resident())
        ui.tap(screen.ids.read_card)
        ui.wait_for(lambda: flow.state is FormState.FILL, 15, "the card read")
        answers = {"phone": "13800138000", "mail_address": "北京市朝阳区路8号", "insured_as": "职工基本养老保险",
                   "bank": "中国银行", "promise": True}
        while flow.state is FormState.FILL:   # typing is the other tests' part: the answers go in as values
            if flow.field.key in answers:
                flow.set_value(answers[flow.field.key])
            assert flow.next(), (flow.field.key, flow.problem)
        ui.wait_for(lambda: screen.panels.current == "review", 5, "the review")
        assert screen.ids["print"].text == _("Print the form")
        assert "¥1.00" in screen.price_note and "¥0.50" in screen.price_note
        shot("review")
        ui.tap(screen.ids["print"])
        ui.wait_for(lambda: app.screens.current == "payment", 60, "the payment screen")
        pay = app.screen("payment")
        assert pay.amount == "¥1.50"                     # one page: 1.00 a form and 0.50 a page
        shot("payment")
        from kiosk.screens.documents import flow_buttons

        for button in flow_buttons(pay):
            if button.text == _("Pay by bank card") and not button.disabled:
                ui.tap(button)
                break
        else:
            raise AssertionError("no card button on the payment screen")
        ui.wait_for(lambda: app.screens.current == "forms" and screen.panels.current in ("done", "failed"), 90,
                    "the paid form printed")
        assert screen.panels.current == "done", flow.problem
        shot("done")
        conn = app.kiosk.parts.store.connect()
        [(body,)] = conn.execute("SELECT body FROM outbox WHERE kind = 'print' ORDER BY rowid DESC LIMIT 1").fetchall()
        printed = json.loads(body)
        assert printed["service"] == "forms" and printed["amount_fen"] == 150
        assert printed["payment_reference"] == flow.payment.reference
    finally:
        flow.fee = saved
        terminal.set_outcome(*terminal_was)
        ui.reset()
