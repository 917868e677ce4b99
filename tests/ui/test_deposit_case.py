"""Staff deposit with the case, in the real window: the platform found the case, or cannot be reached.

The shared app of tests/ui/conftest.py runs the default config (with a notifier's key), its locker on
the built-in simulator. The deposit's case look-up goes through the real central client to a loopback
stand-in of the platform's route (tests/sync/caseplatform.py), or to a port where nothing listens.
Screenshots go to tests/artifacts/ui/.
"""
from __future__ import annotations

import pytest

from tests.sync.caseplatform import CasePlatform, closed_port_url, demo_case
from tests.ui.conftest import assert_texts_fit, locker_sim, pickup_service
from tests.ui.conftest import open_deposit as _open_deposit

FOUND = "2026051800031"
MISSING = "2026051800032"
COLLECTED = "2026051800033"


@pytest.fixture
def platform(pickup_ui):
    settings = pickup_ui.app.settings
    p = CasePlatform(settings.kiosk.id, settings.central.secret, {
        FOUND: demo_case(FOUND, item_name="不动产权证书（首次登记）", holder_hash="c" * 64, hold_days=5,
                         phone_masked="138****1234"),
        COLLECTED: demo_case(COLLECTED, item_name="营业执照", needs_id_card=False, hold_days=None,
                             phone_masked="139****8888", state="collected")})
    yield p
    p.close()


@pytest.fixture
def asks(pickup_ui):
    """asks(url): the deposit's look-up goes to the platform at `url` for this test."""
    from kiosk.sync.client import CentralClient

    flow = pickup_service(pickup_ui.app).deposit
    saved, made = flow.cases, []

    def point(url: str, timeout_s: float | None = None) -> None:
        s = pickup_ui.app.settings
        made.append(CentralClient(url, s.kiosk.id, s.central.secret,
                                  lookup_timeout_s=timeout_s or s.central.lookup_timeout_s))
        flow.cases = made[-1]
    yield point
    flow.cases = saved
    for c in made:
        c.close()


def open_deposit(ui):
    screen = _open_deposit(ui)
    ui.wait_for(lambda: screen.panels.current == "case", what="the case number keypad")
    return screen


def type_case(ui, screen, case: str) -> None:
    for ch in case:
        ui.tap_key(screen.ids.keypad, ch)
    ui.wait_for(lambda: screen.typed == case, 5, "the typed case number")
    ui.tap(screen.ids.next_step)
    ui.wait_for(lambda: screen.panels.current == "options", 5, "the options")


def case_entered(ui, case: str, lookup: str):
    """Staff type `case` on the deposit screen; the screen and flow once the look-up came to `lookup`."""
    screen = open_deposit(ui)
    type_case(ui, screen, case)
    flow = pickup_service(ui.app).deposit
    ui.wait_for(lambda: flow.lookup.value == lookup, 10, f"the look-up {lookup}")
    return screen, flow


def shots_in_both_languages(ui, screen, panel: str, shot, name: str, english=lambda: True) -> None:
    """The panel's texts fit in Chinese and in English: checked, and a screenshot of each; `english()`
    holds while the English one is shown."""
    for lang, suffix in (("zh_CN", ""), ("en", "-en")):
        ui.app.set_language(lang)
        ui.pump(3)
        assert_texts_fit(ui, screen.panels.panels[panel])
        assert lang != "en" or english()
        shot(name + suffix)
    ui.app.set_language("zh_CN")
    ui.pump(3)


def finish_deposit(ui, screen) -> None:
    ui.tap(screen.ids.options_next)
    ui.wait_for(lambda: screen.panels.current == "door_open", 10, "the door open")
    locker_sim().close_door(int(screen.door))
    ui.wait_for(lambda: screen.panels.current == "code", 10, "the pickup code")


def test_a_found_case_shows_its_item_rule_and_masked_phone_and_the_code_goes_by_text(pickup_ui, platform, asks,
                                                                                      shot):
    ui = pickup_ui
    asks(platform.url)
    screen, flow = case_entered(ui, FOUND, "found")
    assert screen.ids.case_item.text == "不动产权证书（首次登记）"
    assert "持证人信息已由平台提供" in screen.ids.case_rule.text and "保管5天" in screen.ids.case_rule.text
    assert "申请人手机：138****1234" in screen.ids.case_rule.text
    assert screen.ids.id_rule.disabled and screen.ids.id_rule.height == 0     # the case sets the rule
    shots_in_both_languages(ui, screen, "options", shot, "found-options",
                            lambda: "Applicant's mobile: 138****1234" in screen.ids.case_rule.text)
    finish_deposit(ui, screen)        # no holder step: the platform gave the holder
    assert screen.ids.handover.text == "平台将以短信把取件码发送给申请人（138****1234）。"
    assert_texts_fit(ui, screen.panels.panels["code"])
    shot("found-code")
    [path, status] = platform.seen[-1]
    assert path.endswith(f"/cases/{FOUND}") and status == 200
    screen.next_item()
    ui.pump(3)
    ui.app.end_visit("done")


def test_with_the_platform_down_the_deposit_goes_on_as_usual_with_a_calm_note(pickup_ui, asks, shot):
    ui = pickup_ui
    asks(closed_port_url())
    screen, flow = case_entered(ui, MISSING, "unreachable")
    assert screen.ids.case_status.text == "平台暂时无法连接，可照常存件。"
    assert not screen.ids.id_rule.disabled and screen.ids.id_rule.height > 0   # staff choose the rule
    shots_in_both_languages(ui, screen, "options", shot, "down-options")
    ui.tap(screen.ids.id_no)
    ui.wait_for(lambda: not flow.require_id, 5, "no ID card rule")
    finish_deposit(ui, screen)
    assert screen.ids.handover.text == "平台收到办件信息后，将以短信把取件码发送给申请人。"
    shots_in_both_languages(ui, screen, "code", shot, "down-code")
    screen.next_item()
    ui.pump(3)
    ui.app.end_visit("done")


def test_while_the_platform_is_asked_the_screen_says_so_and_staff_can_go_on(pickup_ui, platform, asks, shot):
    ui = pickup_ui
    platform.delay_s = 30            # held until released
    asks(platform.url, timeout_s=25)
    screen = open_deposit(ui)
    type_case(ui, screen, FOUND)
    flow = pickup_service(ui.app).deposit
    assert flow.lookup.value == "looking"
    assert screen.ids.case_status.text == "正在查询办件…"
    shot("looking")
    ui.tap(screen.ids.id_no)
    finish_deposit(ui, screen)       # the answer is not waited for
    assert flow.lookup.value == "none" and flow.case is None
    platform.release.set()
    screen.next_item()
    ui.pump(3)
    ui.app.end_visit("done")


def test_a_case_the_platform_says_was_collected_is_flagged_to_staff(pickup_ui, platform, asks, shot):
    ui = pickup_ui
    asks(platform.url)
    screen, _flow = case_entered(ui, COLLECTED, "found")
    assert screen.ids.case_ended.text == "平台显示该办件的物品已被领取，请核对后再存件。"
    assert "取件时无需核验身份证" in screen.ids.case_rule.text and "保管7天" in screen.ids.case_rule.text
    shots_in_both_languages(ui, screen, "options", shot, "collected-options")
    ui.app.end_visit("done")
