"""Paying a fee notice (缴费) in the real window: the number typed on the keypad, the notice checked, paid on the
card terminal simulator (`sim://payment`), the receipt from `sim://receipt` with the e-receipt's QR code, and
refusals and the elder mode in both languages; every text fits its place.

The shared app of tests/ui/conftest.py runs the default config on this process's simulators; its fee flow
asks a reference platform started here as a subprocess (seeded, the app's kiosk provisioned in the demo
hall) instead of the config's `[central] url`. Screenshots go to tests/artifacts/ui/.
"""
from __future__ import annotations

import pytest
import requests

from kiosk.central.fee_issuer import COMPANY, EXPIRED, SECOND, UNPAID


@pytest.fixture(scope="module")
def fee_platform(tmp_path_factory, kiosk_ui):
    from tests.conftest import run_kiosk
    from tests.sync.centralproc import Central

    settings = kiosk_ui.app.settings
    c = Central(tmp_path_factory.mktemp("fees-ui"), kiosk_id=settings.kiosk.id, secret=settings.central.secret,
                seed_hash_key=settings.privacy.hash_key)
    r = run_kiosk("central", "add-kiosk", settings.kiosk.id, "--secret", settings.central.secret, "--group",
                  "demo-hall", "--db", str(c.db))
    assert r.returncode == 0, r.stderr
    c.start()
    yield c
    c.stop()


@pytest.fixture
def fees_ui(ui, fee_platform):
    """The app with its fee flow asking the platform above, the terminal and receipt printer up."""
    from kiosk.app.root import FEES
    from kiosk.sim.registry import simulator
    from kiosk.store import Store
    from kiosk.sync.client import CentralClient
    from kiosk.sync.fee_notices import CentralFeeNotices

    app = ui.app
    flow = app.kiosk.flow(FEES)
    settings = app.settings
    ui.wait_for(lambda: flow.printer is not None and flow.payment.terminal is not None
                and flow.payment.ledger.recovered.is_set(), 30, "the terminal, the receipt printer, the recovery")
    saved = flow.notices
    flow.notices = CentralFeeNotices(CentralClient(fee_platform.url, settings.kiosk.id, settings.central.secret),
                                     Store.from_settings(settings))
    sims = {name: simulator(name) for name in ("payment", "receipt", "scanner")}
    sims["payment"].set_outcome("approve", answer_delay=0.3)
    sims["receipt"].set_paper("ok")
    sims["receipt"].clear()
    ui.sims, ui.flow = sims, flow
    yield ui
    flow.notices = saved
    sims["receipt"].set_paper("ok")
    if app.elder:
        app.toggle_elder()
    app.set_language("zh_CN")
    ui.reset()


def _open(ui):
    ui.app.session.touch()
    ui.app.kiosk.parts.visit.enter("fees")
    ui.app.show("fees")
    screen = ui.app.screen("fees")
    ui.wait_for(lambda: screen.panels.current == "enter" and ui.flow.state.value == "enter", 10, "the keypad")
    return screen


def _tap_action(ui, screen, msgid: str) -> None:
    from kiosk.i18n import _
    from kiosk.screens.documents import flow_buttons

    for button in flow_buttons(screen):
        if button.text == _(msgid) and not button.disabled:
            ui.tap(button)
            return
    raise AssertionError(f"no button {msgid!r}: {[b.text for b in flow_buttons(screen) if b.text]}")


def _fits(ui, screen) -> None:
    """Every text on the screen fits its widget and the window, and the page needs no scrolling."""
    from tests.ui.test_deposit_case import assert_texts_fit

    assert_texts_fit(ui, screen)
    page, view = screen.ids.page, screen.ids.scroller
    assert page.height <= view.height + 1, f"the page is {page.height:.0f} px in a {view.height:.0f} px view"


def _state(ui, *states: str, timeout: float = 30) -> None:
    ui.wait_for(lambda: ui.flow.state.value in states, timeout, "/".join(states))


def test_a_citizen_types_a_notice_pays_by_card_and_takes_the_receipt(fees_ui, shot):
    ui = fees_ui
    screen = _open(ui)
    for digit in UNPAID:
        ui.tap_key(screen.ids.keypad, digit)
    ui.wait_for(lambda: ui.flow.typed == UNPAID, 5, "the number typed")
    assert screen.ids.number_shown.text == "1101 0526 0031 0000 0012"
    _fits(ui, screen)
    shot("enter")
    _tap_action(ui, screen, "Next")
    _state(ui, "notice")
    assert "张**" in screen.ids.notice_facts.facts[2][1] and screen.total == "¥90.00"
    _fits(ui, screen)
    shot("notice")
    _tap_action(ui, screen, "Pay now")
    ui.wait_for(lambda: ui.app.screens.current == "payment", 10, "the payment screen")
    pay = ui.app.screen("payment")
    assert pay.amount == "¥90.00"
    _tap_action(ui, pay, "Pay by bank card")
    _state(ui, "done")
    ui.wait_for(lambda: ui.app.screens.current == "fees", 10, "back on the fee screen")
    assert ui.flow.confirmed == "paid" and ui.flow.printed
    _fits(ui, screen)
    shot("done")
    ui.app.set_language("en")
    ui.pump(3)
    _fits(ui, screen)
    shot("done-en")
    ui.app.set_language("zh_CN")
    ui.pump(3)
    [receipt] = [r for r in ui.sims["receipt"].receipts() if r.lines]
    shot("receipt", text=receipt.text + "\n" + "\n".join(f"[QR {q}]" for q in receipt.qr_codes))
    assert UNPAID in receipt.text and "张**" in receipt.text and "¥90.00" in receipt.text
    assert ui.flow.shown_reference in receipt.text and receipt.qr_codes == [ui.flow.receipt_url]
    assert "缴费成功" in requests.get(ui.flow.receipt_url, timeout=5).text
    _tap_action(ui, screen, "Finish")
    ui.wait_for(lambda: ui.app.screens.current == "rating", 10, "the rating")
    assert ui.app.kiosk.parts.visit.rating.service == "fees"
    ui.app.end_visit("done")
    ui.wait_for(lambda: ui.app.screens.current == "home", 10, "home")

    # the same notice again: this kiosk refuses it, with the reference of the sale that paid it
    screen = _open(ui)
    ui.sims["scanner"].scan(UNPAID)
    _state(ui, "refused")
    assert ui.flow.problem == "paid_here" and screen.reference == ui.flow.shown_reference
    _fits(ui, screen)
    shot("paid-here")


def test_refusals_and_the_elder_mode_fit_in_both_languages(fees_ui, shot):
    ui = fees_ui
    sales = len(ui.sims["payment"].requests)
    ui.app.session.touch()
    ui.tap(ui.app.header.ids.elder_toggle)
    screen = _open(ui)
    for lang, suffix in (("zh_CN", ""), ("en", "-en")):
        ui.app.set_language(lang)
        ui.pump(3)
        _fits(ui, screen)
        shot("enter-elder" + suffix)
    ui.sims["scanner"].scan(EXPIRED)
    _state(ui, "refused")
    assert ui.flow.problem == "notice_expired"
    _fits(ui, screen)
    shot("expired-elder-en")
    ui.app.set_language("zh_CN")
    ui.pump(3)
    _fits(ui, screen)
    shot("expired-elder")
    _tap_action(ui, screen, "Another notice")
    _state(ui, "enter")
    ui.sims["scanner"].scan(f"https://fees.example.gov.cn/pay?code={COMPANY}")
    _state(ui, "notice")
    _fits(ui, screen)
    shot("notice-company-elder")
    ui.app.set_language("en")
    ui.pump(3)
    _fits(ui, screen)
    shot("notice-company-elder-en")
    assert len(ui.sims["payment"].requests) == sales     # nothing was charged


def test_a_receipt_that_does_not_print_keeps_the_reference_and_the_qr_code_on_screen(fees_ui, shot):
    ui = fees_ui
    screen = _open(ui)
    ui.sims["scanner"].scan(SECOND)
    _state(ui, "notice")
    ui.sims["receipt"].set_paper("out")
    _tap_action(ui, screen, "Pay now")
    ui.wait_for(lambda: ui.app.screens.current == "payment", 10, "the payment screen")
    _tap_action(ui, ui.app.screen("payment"), "Pay by bank card")
    _state(ui, "done")
    ui.wait_for(lambda: ui.app.screens.current == "fees", 10, "back on the fee screen")
    assert ui.flow.printed is False and screen.receipt_url and screen.ids.qr.texture is not None
    assert ui.flow.shown_reference in screen.facts[3][1]
    _fits(ui, screen)
    shot("receipt-not-printed")
    _tap_action(ui, screen, "Finish")
    ui.wait_for(lambda: ui.app.screens.current == "rating", 10, "the rating")
