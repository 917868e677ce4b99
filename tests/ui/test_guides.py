"""The service guides through the real window: the on-screen keyboard, the list, the detail, printing on
the receipt simulator and on a private CUPS, paper out, and a list of 5,000 guides."""
from __future__ import annotations

import json

import pytest

from kiosk.core.guides.flow import FAILED_PAPER_OUT, SEARCH_DEBOUNCE_S, PrintPhase, View
from kiosk.tour.cupsd import PrivateCupsd
from tests.ui.conftest import small_keys

DEMO_CATALOG_CODE_DISABLED = "11010009"   # 工伤认定申请, kiosk_enabled false


def type_keys(ui, keys):
    from kiosk.tour.steps_guides import type_keys as typing

    typing(ui, keys)


@pytest.fixture
def guides(ui, guides_screen):
    """The guides' home on screen, the receipt simulator with paper and nothing captured."""
    from kiosk.sim.registry import simulator

    sim = simulator("receipt")
    sim.set_paper("ok")
    sim.clear()
    ui.app.show("guides")
    ui.pump()
    ui.settle(lambda: guides_screen.flow.browser.popular != [])
    yield guides_screen
    sim.set_paper("ok")


def open_search(ui, screen):
    ui.tap(screen.views[View.HOME].ids.search_box)
    assert screen.flow.view is View.SEARCH


def open_top_result(ui, screen):
    rows = screen.views[View.SEARCH].ids.guide_list.row_widgets()
    top = max(rows, key=lambda w: w.y)
    code = top.code
    ui.tap(top)
    ui.settle(lambda: not screen.flow._checking)
    return code


def test_typing_on_the_on_screen_keyboard_shows_results_as_you_type(ui, guides, shot):
    open_search(ui, guides)
    view = guides.views[View.SEARCH]
    ui.tap_key(view.ids.keyboard, "s")
    assert view.ids.query.text == "s" and guides.flow.browser.searching
    ui.tap_key(view.ids.keyboard, "b")
    ui.advance(SEARCH_DEBOUNCE_S + 0.05)
    ui.settle(lambda: not guides.flow.browser.searching)
    names = [w.name for w in view.ids.guide_list.row_widgets()]
    assert view.ids.query.text == "sb" and "社会保障卡申领" in names
    shot("sb")
    ui.tap_key(view.ids.keyboard, "back")
    ui.tap_key(view.ids.keyboard, "clear")
    assert view.ids.query.text == "" and view.ids.guide_list.rows == []


def test_a_popular_word_searches_in_chinese(ui, guides):
    open_search(ui, guides)
    view = guides.views[View.SEARCH]
    ui.tap(view.chip("社保"))
    ui.advance(SEARCH_DEBOUNCE_S + 0.05)
    ui.settle(lambda: not guides.flow.browser.searching)
    assert view.ids.query.text == "社保"
    assert "社会保障卡申领" in [w.name for w in view.ids.guide_list.row_widgets()]


def test_a_tap_on_a_result_opens_the_guide_with_every_section(ui, guides, shot):
    open_search(ui, guides)
    type_keys(ui, "sbk")
    code = open_top_result(ui, guides)
    detail = guides.views[View.DETAIL]
    assert guides.flow.view is View.DETAIL and guides.flow.item.code == code
    texts = [w.text for w in detail.ids.content.children if hasattr(w, "text")]
    item = guides.flow.item
    for wanted in (item.name, "申请条件", "申请材料", "办理流程", "办理地点和时间", "咨询电话：" + item.phone,
                   "投诉电话：" + item.complaint_phone, "常见问题"):
        assert any(wanted in t for t in texts), wanted
    assert detail.qr.parent == detail.ids.content and detail.qr.texture is not None
    shot("detail")


def test_leaving_the_guides_lets_the_last_guide_go_and_the_next_guide_shows_in_full(ui, guides):
    import gc
    import weakref

    open_search(ui, guides)
    type_keys(ui, "sbk")
    open_top_result(ui, guides)
    detail = guides.views[View.DETAIL]
    labels = [weakref.ref(w) for w in detail.ids.content.children if hasattr(w, "text")]
    assert labels and detail.pool_size() == len(labels)
    ui.app.go_home()
    ui.pump()
    gc.collect()
    assert detail.pool_size() == 0 and detail.ids.content.children == [] and detail.qr.texture is None
    assert [r for r in labels if r() is not None] == [], "the last guide's labels are still referenced"
    ui.app.show("guides")
    ui.pump()
    open_search(ui, guides)
    type_keys(ui, "sbk")
    open_top_result(ui, guides)
    texts = [w.text for w in detail.ids.content.children if hasattr(w, "text")]
    assert guides.flow.item.name in texts and any("申请材料" in t for t in texts)
    assert detail.qr.texture is not None


def test_the_receipt_button_prints_a_receipt_that_decodes_back_to_the_item(ui, guides, shot):
    from kiosk.sim.registry import simulator

    open_search(ui, guides)
    type_keys(ui, "sbk")
    open_top_result(ui, guides)
    name = guides.flow.item.name
    ui.tap(guides.views[View.DETAIL].ids.print_receipt)
    ui.settle(lambda: guides.flow.printing.phase is not PrintPhase.PRINTING)
    assert guides.flow.printing.phase is PrintPhase.DONE and guides.flow.view is View.PRINT
    receipts = simulator("receipt").receipts("gb18030")
    assert receipts and name in [line.text for line in receipts[-1].lines]
    shot("receipt-done")


@pytest.mark.skipif(PrivateCupsd.unavailable() is not None, reason=PrivateCupsd.unavailable() or "")
def test_the_a4_button_prints_through_cups_to_completed_and_records_the_print(ui, guides, shot):
    from kiosk.tour.driver import SETTLE_LONG_FRAMES   # kivy only once the app has configured it

    open_search(ui, guides)
    type_keys(ui, "gjj")
    open_top_result(ui, guides)
    code = guides.flow.item.code
    ui.tap(guides.views[View.DETAIL].ids.print_a4)
    ui.settle(lambda: guides.flow.printing.phase is not PrintPhase.PRINTING, SETTLE_LONG_FRAMES)
    state = guides.flow.printing
    assert (state.phase, state.job_state) == (PrintPhase.DONE, "completed") and state.pages >= 1
    conn = guides.flow.recorder.store.connect()
    try:
        bodies = [json.loads(r["body"]) for r in conn.execute("SELECT body FROM outbox WHERE kind='print'")]
    finally:
        conn.close()
    assert {"service": "guides", "source": "guide", "item_code": code, "document": None, "form_url": None,
            "pages": state.pages, "copies": 1, "printer": "a4", "amount_fen": 0, "payment_reference": None,
            "job_state": "completed"} in bodies
    assert all(set(b) == {"service", "source", "item_code", "document", "form_url", "pages", "copies", "printer",
                          "amount_fen", "payment_reference", "job_state"} for b in bodies)
    shot("a4-done")


def test_paper_out_shows_the_calm_message_and_raises_an_alarm(ui, guides, shot):
    from kiosk.alarms import Alarms
    from kiosk.sim.registry import simulator
    from kiosk.sync.outbox import Outbox

    open_search(ui, guides)
    type_keys(ui, "sbk")
    open_top_result(ui, guides)
    simulator("receipt").set_paper("out")
    ui.tap(guides.views[View.DETAIL].ids.print_receipt)
    ui.settle(lambda: guides.flow.printing.phase is not PrintPhase.PRINTING)
    view = guides.views[View.PRINT]
    assert view.ids.line.text == "打印机缺纸，办事指南没有打印完。"
    assert guides.flow.printing.message == FAILED_PAPER_OUT
    shot("paper-out")
    conn = guides.flow.recorder.store.connect()
    try:
        assert ("guide_print", "receipt_printer:paper_out") in [(a.device, a.code)
                                                                for a in Alarms(conn, Outbox(conn)).active()]
    finally:
        conn.close()
    ui.tap(view.ids.back_to_guide)
    button = guides.views[View.DETAIL].ids.print_receipt
    assert button.disabled and "缺纸" in button.text
    shot("receipt-unavailable")


def test_a_disabled_item_never_appears(ui, guides):
    flow = guides.flow
    hidden = flow.catalog.get(DEMO_CATALOG_CODE_DISABLED, include_disabled=True)
    for theme in hidden.themes:
        flow.open_theme(theme)
        ui.pump()
        assert hidden.code not in [d["code"] for d in guides.views[View.LIST].ids.guide_list.data]
    flow.back()
    ui.pump()
    open_search(ui, guides)
    type_keys(ui, "gongshang")
    assert hidden.code not in [d["code"] for d in guides.views[View.SEARCH].ids.guide_list.data]
    assert flow.open_item(hidden.code) is False


def test_elder_mode_enlarges_the_keyboard_and_the_guide(ui, guides, shot):
    open_search(ui, guides)
    keyboard = guides.views[View.SEARCH].ids.keyboard
    assert len(keyboard.keys()) == 38 and not keyboard.children and not small_keys(keyboard)
    normal = keyboard.key_rect("a")[3]
    ui.tap(ui.app.header.ids.elder_toggle)
    assert keyboard.key_rect("a")[3] > normal * 1.4 and not small_keys(keyboard)
    type_keys(ui, "sbk")
    open_top_result(ui, guides)
    title = next(w for w in guides.views[View.DETAIL].ids.content.children if getattr(w, "style", "") == "title")
    assert title.font_size >= 80
    shot("elder-detail")


def big_catalog(n: int) -> dict:
    from tests.guides.conftest import DEMO_CATALOG

    demo = json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))
    template = next(i for i in demo["items"] if i["kiosk_enabled"])
    items = [dict(template, code=f"9{k:07d}", name=f"测试事项第{k}号", themes=["大量事项"]) for k in range(n)]
    return {"version": f"bulk-{n}", "items": items}


def test_a_list_of_5000_guides_builds_only_the_rows_in_sight(ui, guides, shot):
    from tests.guides.conftest import DEMO_CATALOG

    flow = guides.flow
    flow.catalog.replace(big_catalog(5000))
    try:
        flow.enter()
        ui.pump()
        ui.tap(guides.views[View.HOME].tile("theme", "大量事项"))
        listing = guides.views[View.LIST].ids.guide_list
        assert len(listing.data) == 5000
        # rows are at least this high (taller where a name wraps): at most this many are in sight
        in_sight = listing.height / listing.layout_manager.initial_size[1]
        built = len(listing.row_widgets())
        assert 1 <= built <= in_sight + 4, (built, in_sight)
        listing.scroll_y = 0.5
        ui.pump(5)
        rows = listing.row_widgets()
        assert len(rows) <= in_sight + 4
        bottom = listing.parent.to_window(*listing.pos)[1]
        middle = [w for w in rows if bottom <= w.to_window(*w.center)[1] <= bottom + listing.height]
        assert middle and all(2000 <= int(w.code[1:]) <= 3000 for w in middle)
        shot("5000-middle")
        target = middle[0]
        ui.tap(target)
        assert flow.view is View.DETAIL and flow.item.code == target.code
    finally:
        flow.catalog.replace(DEMO_CATALOG.read_bytes())
        flow.enter()
        ui.pump()
