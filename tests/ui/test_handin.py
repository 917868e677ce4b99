"""Materials handed in through the locker (补交材料), in the real window: a citizen hands them in, staff collect them.

The shared app of tests/ui/conftest.py runs the default config on the built-in simulators of this
process (`sim://locker`, `sim://idcard`, `sim://receipt`, `sim://scanner`). The hand-in screen is added
to it as the composition root makes it; the staff screens come with it. Screenshots go to
tests/artifacts/ui/.
"""
from __future__ import annotations

import pytest

from tests.ui.conftest import pickup_service

STAFF_ID, STAFF_PIN = "1001", "246810"   # the demo member of config/kiosk.toml


def _sims():
    from kiosk.sim.registry import simulator

    return {name: simulator(name) for name in ("locker", "idcard", "receipt", "scanner")}


@pytest.fixture
def handin_ui(pickup_ui):
    """The app with the locker service up, the hand-in screen added and its receipt printer bound; the
    card off the reader, paper in the printer, every door closed."""
    ui, app = pickup_ui, pickup_ui.app
    ui.wait_for(lambda: pickup_service(app).handin.printer is not None, 30, "the receipt printer bound")
    sims = _sims()
    sims["idcard"].remove_card()
    sims["receipt"].set_paper("ok")
    sims["receipt"].clear()
    sims["locker"].close_all()
    ui.sims = sims
    yield ui
    sims["receipt"].set_paper("ok")
    sims["locker"].close_all()
    sims["idcard"].insert_card()
    ui.reset()


def _flow(ui):
    return pickup_service(ui.app).handin


def _screen(ui):
    return ui.app.screen("handin")


def _open_handin(ui):
    ui.app.session.touch()
    ui.app.kiosk.parts.visit.enter("handin")
    ui.app.show("handin")
    screen = _screen(ui)
    ui.wait_for(lambda: screen.panels.current == "case" and not screen.worker.pending, 10, "the case number keypad")
    return screen


def _type(ui, pad, text: str, typed) -> None:
    for ch in text:
        before = typed()
        ui.tap_key(pad, ch)
        ui.wait_for(lambda: typed() != before, 5, f"key {ch}")


def _texts(ui) -> str:
    from tests.ui.conftest import screen_widgets

    return "\n".join(str(getattr(w, "text", "")) for w in screen_widgets(ui.app))


def _outbox(ui, kind: str) -> list[dict]:
    import json

    from kiosk.store import Store

    conn = Store.from_settings(ui.app.settings).connect()
    try:
        return [json.loads(r[0]) for r in conn.execute("SELECT body FROM outbox WHERE kind=? ORDER BY seq", (kind,))]
    finally:
        conn.close()


def _hand_in_to_the_door(ui, shot, case: str, elder: bool = False):
    """From the home screen to the open door: the case typed, the card read, a medium door asked for."""
    from kiosk.sim.idcard import demo_resident

    if elder:
        ui.app.session.touch()
        ui.tap(ui.app.header.ids.elder_toggle)
    screen = _open_handin(ui)
    flow = _flow(ui)
    _type(ui, screen.ids.keypad, case, lambda: flow.typed)
    assert screen.ids.case_shown.text == case
    shot("case-elder" if elder else "case")
    ui.tap(screen.ids.case_next)
    ui.wait_for(lambda: screen.panels.current == "id_card", 10, "the ID card step")
    shot("id-card-elder" if elder else "id-card")
    ui.sims["idcard"].insert_card(demo_resident())
    ui.wait_for(lambda: screen.panels.current == "size", 15, "the door size")
    assert screen.ids.size_small.chosen          # small unless asked otherwise
    ui.tap(screen.ids.size_medium)
    ui.wait_for(lambda: screen.door_size == "medium", 5, "a medium door chosen")
    shot("size-elder" if elder else "size")
    ui.tap(screen.ids.open_door)
    ui.wait_for(lambda: screen.panels.current == "door_open", 15, "the door open")
    return screen, flow


def test_a_citizen_hands_in_materials_and_takes_a_receipt_then_staff_collect_them(handin_ui, shot):
    from kiosk.core.privacy import mask_id_number, mask_name
    from kiosk.sim.idcard import demo_resident

    ui = handin_ui
    card = demo_resident()
    handins = len(_outbox(ui, "handin"))
    screen, flow = _hand_in_to_the_door(ui, shot, "2026051800031")
    door = flow.door
    assert screen.ids.door_number.text == str(door) and ui.sims["locker"].is_open(door)
    assert pickup_service(ui.app).plan.doors[door].size == "medium"
    assert "请放入材料，关好柜门" in screen.ids.put_and_close.text
    shot("door-open")
    ui.sims["locker"].close_door(door)
    ui.wait_for(lambda: screen.panels.current == "done", 15, "the hand-in done")
    receipt_no = flow.receipt_no
    assert receipt_no and receipt_no in _texts(ui)
    shot("done")
    ui.tap(ui.app.header.ids.lang_en)             # the same step in English: the texts fit there too
    ui.wait_for(lambda: ui.app.lang == "en", 5, "English")
    assert "handed in" in screen.ids.receipt_hint.text or "receipt" in screen.ids.receipt_hint.text
    shot("done-en")
    ui.tap(ui.app.header.ids.lang_zh_CN)
    ui.wait_for(lambda: ui.app.lang == "zh_CN", 5, "Chinese")
    [printed] = ui.sims["receipt"].receipts()
    shot("receipt", text=printed.text)
    assert receipt_no in printed.text and "2026051800031" in printed.text and "补交材料回执" in printed.text
    seen = _texts(ui) + printed.text
    for private in (card.id_number, mask_id_number(card.id_number), card.name, mask_name(card.name)):
        assert private not in seen
    [handin] = _outbox(ui, "handin")[handins:]
    assert handin["receipt_no"] == receipt_no and handin["door"] == door and handin["size"] == "medium"

    ui.tap(screen.ids.finish)                     # on to the rating, as after a pickup
    ui.wait_for(lambda: ui.app.screens.current == "rating", 10, "the rating")
    assert ui.app.kiosk.parts.visit.rating.service == "handin"
    ui.app.end_visit("done")
    ui.wait_for(lambda: ui.app.screens.current == "home", 10, "home")

    # staff sign in with their PIN and take the materials out
    ui.app.session.touch()
    ui.app.show("staff")
    staff = ui.app.screen("staff")
    ui.wait_for(lambda: staff.panels.current == "sign_in", 5, "the staff sign-in")
    _type(ui, staff.ids.keypad, STAFF_ID, lambda: staff.staff_id)
    ui.tap(staff.ids.pin)
    _type(ui, staff.ids.keypad, STAFF_PIN, lambda: staff.pin_dots)
    ui.tap(staff.ids.sign_in)
    ui.wait_for(lambda: staff.panels.current == "menu" and staff.recallable >= 1, 30, "the staff menu")
    shot("staff-menu")
    ui.tap(staff.ids.recall)
    recall = ui.app.screen("staff_recall")
    ui.wait_for(lambda: recall.panels.current == "list" and recall.handins >= 1, 10, "the recall list")
    flow_r = pickup_service(ui.app).recall
    ours = next(i for i in flow_r.items if i.receipt_no == receipt_no)
    while recall.door != ours.door:               # anything ahead of it from earlier tests is taken out first
        ui.tap(recall.ids.open)
        ui.wait_for(lambda: recall.panels.current == "door_open", 10, "a door open")
        ui.sims["locker"].close_door(recall.door)
        ui.tap(recall.ids.removed)
        ui.wait_for(lambda: recall.panels.current == "list" and not recall.worker.pending, 10, "back to the list")
    assert recall.what == "handin" and receipt_no in recall.ids.next_item.text
    shot("recall-list")
    ui.tap(recall.ids.open)
    ui.wait_for(lambda: recall.panels.current == "door_open", 10, "the door open for staff")
    assert ui.sims["locker"].is_open(door)
    shot("recall-door-open")
    ui.sims["locker"].close_door(door)
    ui.tap(recall.ids.removed)
    ui.wait_for(lambda: recall.panels.current == "list" and not recall.worker.pending, 10, "the recall recorded")
    [taken] = [r for r in _outbox(ui, "recall") if r.get("receipt_no") == receipt_no]
    assert taken["what"] == "handin" and taken["staff_id"] == STAFF_ID and taken["door"] == door
    shot("recall-done")
    staff_screen = ui.app.screen("staff")
    ui.app.show("staff")
    ui.pump()
    ui.tap(staff_screen.ids.sign_out)
    ui.wait_for(lambda: ui.app.screens.current == "home", 10, "home after signing out")


def test_home_with_the_door_open_waits_for_the_papers_then_a_receipt_that_did_not_print_stays_on_screen(
        handin_ui, shot):
    from tests.ui.test_leaving import assert_visit_ended, tap_home

    ui = handin_ui
    ui.sims["receipt"].set_paper("out")
    screen, flow = _hand_in_to_the_door(ui, shot, "2026051800032", elder=True)
    shot("door-open-elder")
    tap_home(ui)
    assert ui.app.screens.current == "handin" and "关好柜门" in ui.app.leave_overlay.ids.message.text
    shot("stay-door-open")
    ui.tap(ui.app.leave_overlay.ids.ok)
    ui.sims["locker"].close_door(flow.door)
    ui.wait_for(lambda: screen.panels.current == "done", 15, "the hand-in done")
    assert flow.printed is False and "回执未能打印" in screen.ids.receipt_hint.text
    shot("done-not-printed-elder")
    tap_home(ui)                                   # the receipt number must be noted first
    assert ui.app.screens.current == "handin" and "回执编号" in ui.app.leave_overlay.ids.message.text
    ui.tap(ui.app.leave_overlay.ids.ok)
    ui.tap(screen.ids.finish)
    ui.wait_for(lambda: ui.app.screens.current == "rating", 10, "the rating")
    ui.app.end_visit("done")
    assert_visit_ended(ui)
