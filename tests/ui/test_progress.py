"""Case progress (办件进度) in the real window, against the real platform as a subprocess.

The shared app of tests/ui/conftest.py runs the default config on the built-in simulators of this
process (`sim://idcard`, `sim://receipt`, `sim://scanner`). `kiosk central` runs on a free loopback port
with the kiosk's own id, secret and hash key; the approval system's cases and steps are posted to it as
an operator, and the item of one case is deposited by this kiosk (a `deposit` transaction uploaded as the
kiosk's relay would). The flow's look-ups go through the real central client. Screenshots go to
tests/artifacts/ui/, in zh_CN, en and elder mode.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.central.conftest import Server, free_port, provision
from tests.sync.caseplatform import closed_port_url
from tests.ui.conftest import assert_texts_fit

CST = timezone(timedelta(hours=8))
NOW = datetime.now(CST)
HELD, WORKING, LATE = "2026051800061", "2026051800062", "2026051800063"


@pytest.fixture(scope="module")
def platform(kiosk_ui, tmp_path_factory):
    """The real platform with this kiosk provisioned, three cases of the simulator's demo card posted with
    their steps, and the first one's item in door 7 of this kiosk."""
    from kiosk.sim.idcard import demo_resident
    from kiosk.wire import auth

    settings = kiosk_ui.app.settings
    tmp = tmp_path_factory.mktemp("progress-platform")
    db = tmp / "central.db"
    provision(db, "add-kiosk", settings.kiosk.id, "--secret", settings.central.secret)
    op_secret = provision(db, "add-operator", "approval-system")["secret"]
    server = Server(db, free_port(), tmp / "central.log", args=("--hash-key", settings.privacy.hash_key))
    server.start()

    import requests

    def call(path: str, body: dict, *, kiosk: bool = False) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        who = (settings.central.secret, settings.kiosk.id, False) if kiosk else (op_secret, "approval-system", True)
        headers = auth.sign(who[0], "POST", path, who[1], data, operator=who[2])
        headers["Content-Type"] = "application/json"
        res = requests.post(server.url + path, data=data, headers=headers, timeout=10)
        assert res.status_code in (200, 201), res.text

    card = demo_resident().id_number
    days = lambda n: (NOW + timedelta(days=n)).replace(microsecond=0)  # noqa: E731
    cases = (
        (HELD, "营业执照（副本）", "市场监督管理局", days(5).date(), [("受理", "done", -6), ("审查", "done", -4),
                                                                   ("决定", "done", -2), ("制证", "done", -1)]),
        (WORKING, "食品经营许可证", "市场监督管理局", days(4).date(), [("受理", "done", -3), ("审查", "current", -2)]),
        (LATE, "建设工程规划许可证", "自然资源和规划局", days(-3).date(),
         [("受理", "done", -20), ("材料审查", "done", -15), ("现场勘验", "current", -10)]),
    )
    for n, (case, item, department, promised, steps) in enumerate(cases):
        call("/api/v1/cases", {"case_number": case, "item_name": item, "applicant_id_number": card,
                               "applicant_mobile": "13800138000", "needs_id_card": True, "hold_days": 7,
                               "department": department, "promised_by": promised.isoformat(),
                               "accepted_at": days(steps[0][2] - 1 + n / 10).isoformat()})
        for m, (step, status, at) in enumerate(steps):
            call(f"/api/v1/cases/{case}/events", {"event_id": f"{case}-{m}", "step": step, "status": status,
                                                  "at": days(at).isoformat(), "final": step == "制证",
                                                  **({"note": "需现场勘验，请保持电话畅通"} if step == "现场勘验" else {})})
    call("/api/v1/transactions", {"kiosk_id": settings.kiosk.id, "items": [{
        "id": str(uuid.uuid4()), "seq": 1, "kind": "deposit", "occurred_at": days(-1).isoformat(),
        "data": {"case_number": HELD, "door": 7, "code_hash": "0" * 64, "holder_hash": None,
                 "deposited_at": days(-1).isoformat(), "due_at": days(6).isoformat(), "hall": settings.kiosk.hall,
                 "place": "一楼东侧24小时自助区"}}]}, kiosk=True)
    yield server
    server.stop()


@pytest.fixture
def progress_ui(ui, platform):
    """The progress flow asking the platform above (through the real central client); the card off the
    reader, paper in the printer."""
    from kiosk.app.root import PROGRESS
    from kiosk.sim.registry import simulator
    from kiosk.sync.client import CentralClient

    app = ui.app
    runtime = app.kiosk.parts.runtime
    runtime.devices.get("receipt_printer") or runtime.wait_ready(10)
    flow = app.kiosk.flow(PROGRESS)
    ui.wait_for(lambda: flow.printer is not None and flow.reader is not None, 30, "the devices bound")
    saved = flow.lookup
    s = app.settings
    clients = []

    def point(url: str) -> None:
        clients.append(CentralClient(url, s.kiosk.id, s.central.secret, lookup_timeout_s=s.central.lookup_timeout_s))
        flow.lookup = clients[-1]

    point(platform.url)
    sims = {name: simulator(name) for name in ("idcard", "receipt", "scanner")}
    sims["idcard"].remove_card()
    sims["receipt"].set_paper("ok")
    sims["receipt"].clear()
    ui.flow, ui.sims, ui.point = flow, sims, point
    yield ui
    flow.lookup = saved
    for c in clients:
        c.close()
    sims["receipt"].set_paper("ok")
    sims["idcard"].insert_card()
    ui.reset()


def open_progress(ui):
    """From the home screen: its tile, or in elder mode (whose home screen shows the first tile only, until
    the grid of issue 18 item 4) what the tile does."""
    ui.app.session.touch()
    if ui.app.elder:
        ui.app.open_service("progress")
    else:
        ui.tap(next(t for t in ui.app.home.ids.tiles.children if t.key == "progress"))
    screen = ui.app.screen("progress")
    ui.wait_for(lambda: ui.app.screens.current == "progress" and screen.panels.current == "choose", 10, "the choice")
    return screen


def type_case(ui, screen, case: str) -> None:
    ui.tap(screen.ids.by_case)
    ui.wait_for(lambda: screen.panels.current == "enter_case", 5, "the keypad")
    for ch in case:
        ui.tap_key(screen.ids.keypad, ch)
    ui.wait_for(lambda: screen.typed == case, 5, "the typed case number")


def steps_text(screen) -> str:
    from kiosk.screens.widgets import widget_tree

    return "\n".join(str(getattr(w, "text", "")) for w in widget_tree(screen.ids.steps))


def fits(ui, screen, panel: str) -> None:
    assert_texts_fit(ui, screen.panels.panels[panel])
    if panel == "result":
        assert_texts_fit(ui, screen.ids.result_actions)     # the case's buttons, pinned below


def shots(ui, screen, panel: str, shot, name: str) -> None:
    """The panel fits in Chinese and in English: checked, with a screenshot of each."""
    for lang, suffix in (("zh_CN", ""), ("en", "-en")):
        ui.app.set_language(lang)
        ui.pump(3)
        fits(ui, screen, panel)
        shot(name + suffix)
    ui.app.set_language("zh_CN")
    ui.pump(3)


def test_a_typed_case_shows_its_steps_and_the_locker_door_then_a_receipt_and_the_rating(progress_ui, shot):
    from kiosk.core.privacy import mask_id_number, mask_name
    from kiosk.sim.idcard import demo_resident

    ui = progress_ui
    screen = open_progress(ui)
    shots(ui, screen, "choose", shot, "choose")
    type_case(ui, screen, HELD)
    shot("enter-case")
    ui.tap(screen.ids.case_next)
    ui.wait_for(lambda: screen.panels.current == "result", 15, "the case's progress")
    assert screen.ids.item.text == "营业执照（副本）"
    assert "7号柜门" in screen.ids.next_step.text and "短信" in screen.ids.next_step.text
    assert "制证" in steps_text(screen) and "已完成" in steps_text(screen)
    shots(ui, screen, "result", shot, "held")
    ui.tap(screen.ids.print_receipt)
    ui.wait_for(lambda: screen.panels.current == "result" and screen.printed == "yes", 15, "the receipt printed")
    [printed] = ui.sims["receipt"].receipts()
    shot("receipt", text=printed.text)
    assert HELD in printed.text and "办件进度" in printed.text and "7号柜门" in printed.text
    card = demo_resident()
    for private in (card.id_number, mask_id_number(card.id_number), card.name, mask_name(card.name), "13800138000"):
        assert private not in printed.text
    ui.tap(screen.ids.finish)
    ui.wait_for(lambda: ui.app.screens.current == "rating", 10, "the rating")
    assert ui.app.kiosk.parts.visit.rating.service == "progress"
    ui.app.end_visit("done")
    ui.wait_for(lambda: ui.app.screens.current == "home", 10, "home")


def test_the_id_card_lists_the_holders_cases_and_a_late_one_says_so_in_elder_mode(progress_ui, shot):
    ui = progress_ui
    ui.tap(ui.app.header.ids.elder_toggle)
    screen = open_progress(ui)
    shot("choose-elder")
    ui.tap(screen.ids.by_card)
    ui.wait_for(lambda: screen.panels.current == "read_card", 5, "the card step")
    shot("read-card-elder")
    ui.sims["idcard"].insert_card()
    ui.wait_for(lambda: screen.panels.current == "results", 20, "the holder's cases")
    # newest first (by acceptance)
    assert [r["text"].split("\n")[1].split("　")[0] for r in screen.rows] == [WORKING, HELD, LATE]
    assert "办理中：审查" in screen.rows[0]["text"] and "待领取：7号柜门" in screen.rows[1]["text"]
    assert "已超期" in screen.rows[2]["text"]
    shots(ui, screen, "results", shot, "results-elder")
    ui.tap(ui.app.header.ids.elder_toggle)       # the late case in normal mode, then in elder mode too
    ui.pump(3)
    screen.choose_row(2)
    ui.wait_for(lambda: screen.panels.current == "result", 10, "the late case")
    assert "已超期" in screen.ids.promised.text and "12345" in screen.ids.next_step.text
    assert "现场勘验" in steps_text(screen) and "需现场勘验" in steps_text(screen)
    shots(ui, screen, "result", shot, "late")
    ui.tap(ui.app.header.ids.elder_toggle)
    ui.pump(3)
    fits(ui, screen, "result")
    shot("late-elder")
    ui.tap(screen.ids.back_or_another)
    ui.wait_for(lambda: screen.panels.current == "results", 5, "back to the list")
    ui.app.end_visit("done")
    ui.wait_for(lambda: ui.app.screens.current == "home", 10, "home")


def test_an_unknown_or_malformed_case_and_a_platform_that_is_down_each_get_a_calm_sentence(progress_ui, shot):
    ui = progress_ui
    screen = open_progress(ui)
    type_case(ui, screen, "110105199003071239")          # an ID number in the wrong field
    ui.tap(screen.ids.case_next)
    ui.pump(3)
    assert screen.panels.current == "enter_case" and "身份证号码" in screen.ids.notice.text
    assert screen.ids.case_shown.text == "_"             # the ID number does not stay on screen
    shot("looks-like-id")
    type_case_digits = "2026000000001"
    for ch in type_case_digits:
        ui.tap_key(screen.ids.keypad, ch)
    ui.tap(screen.ids.case_next)
    ui.wait_for(lambda: screen.panels.current == "not_found", 15, "not found")
    assert type_case_digits in screen.ids.not_found.text
    shots(ui, screen, "not_found", shot, "not-found")

    ui.point(closed_port_url())                            # the platform is down
    ui.flow.another()
    ui.wait_for(lambda: screen.panels.current == "choose", 5, "the choice again")
    type_case(ui, screen, HELD)
    ui.tap(screen.ids.case_next)
    ui.wait_for(lambda: screen.panels.current == "offline", 15, "offline")
    assert "12345" in screen.ids.offline.text
    shots(ui, screen, "offline", shot, "offline")
    ui.app.end_visit("done")
    ui.wait_for(lambda: ui.app.screens.current == "home", 10, "home")


def test_a_platform_that_never_answers_ends_the_wait_after_the_lookup_timeout(progress_ui, shot):
    import socket

    ui = progress_ui
    silent = socket.socket()                               # takes the connection and says nothing
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        ui.point(f"http://127.0.0.1:{silent.getsockname()[1]}")
        ui.flow.lookup.lookup_timeout_s = 10               # the client would wait longer: the flow does not
        screen = open_progress(ui)
        type_case(ui, screen, WORKING)
        ui.tap(screen.ids.case_next)
        ui.wait_for(lambda: screen.panels.current == "looking", 5, "looking")
        shot("looking")
        ui.advance(ui.flow.lookup_timeout_s + 3)          # the session clock: the screen's tick sees it
        ui.wait_for(lambda: screen.panels.current == "offline", 5, "offline after the timeout")
        ui.app.end_visit("done")
        ui.wait_for(lambda: ui.app.screens.current == "home", 10, "home")
    finally:
        silent.close()
