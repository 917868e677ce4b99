"""The technician mode through the real UI: hidden entry, PIN and lockout, device checks, faults and alarms."""
from __future__ import annotations

import json
import re

import pytest

from tests.ui.conftest import ARTIFACTS

PIN = "135790"   # the demo PIN of config/kiosk.toml


def wait(ui, cond, frames=2000):
    for _ in range(frames):
        if cond():
            return True
        ui.pump(1)
    return cond()


def settle(ui, seconds=0.35):
    """Kivy's ScrollView hands a tap to its children 0.2 s (real time) after the finger lifts."""
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ui.pump(1)
        time.sleep(0.01)


def tap_in_scroll(ui, widget):
    ui.tap(widget)
    settle(ui)


def hold_corner(ui, seconds):
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from kiosk.tour.driver import Finger

    finger = Finger(20, Window.height - 20)
    EventLoop.post_dispatch_input("begin", finger)
    ui.pump(1)
    ui.advance(seconds)
    finger.update_time_end()
    EventLoop.post_dispatch_input("end", finger)
    ui.pump(2)


def enter_pin(ui, pin):
    tui = ui.app.technician_ui
    keys = {k.text: k for k in tui.pin_screen.ids.keypad.children}
    for digit in pin:
        ui.tap(keys[digit])
    ui.tap(tui.pin_screen.ids.ok)
    wait(ui, lambda: not tui.pin_screen.checking)
    ui.pump(3)


@pytest.fixture
def tech(ui):
    tui = ui.app.technician_ui
    tui.mode.clear_lockout()
    yield tui
    tui.mode.leave("test over")
    ui.pump(3)
    from kiosk.sim.registry import simulator

    simulator("receipt").set_paper("ok")
    simulator("receipt").set_cover_open(False)


def open_mode(ui, tech):
    hold_corner(ui, 5.1)
    assert ui.app.screens.current == "tech_pin"
    enter_pin(ui, PIN)
    assert ui.app.screens.current == "tech"


def test_a_short_press_on_the_corner_shows_nothing(ui, tech):
    hold_corner(ui, 2)
    assert ui.app.screens.current == "home"


def test_five_second_press_then_pin_opens_the_mode_and_exit_returns_home(ui, tech, shot):
    hold_corner(ui, 5.1)
    shot("pin-pad")
    enter_pin(ui, PIN)
    assert ui.app.screens.current == "tech" and tech.screen.panel == "devices"
    wait(ui, lambda: all(r.state != "unknown" for r in tech.bench.rows.values()), 600)
    shot("devices")
    ui.tap(tech.screen.ids.exit)
    ui.pump(3)
    assert ui.app.screens.current == "home" and ui.app.session.phase.value == "home"


def test_wrong_pins_lock_entry(ui, tech, shot):
    hold_corner(ui, 5.1)
    for _ in range(tech.mode.wrong_before_lockout):
        enter_pin(ui, "999999")
    assert tech.pin_screen.locked
    shot("locked")
    enter_pin(ui, PIN)
    assert ui.app.screens.current == "tech_pin"
    ui.tap(tech.pin_screen.ids.cancel)
    ui.pump(3)
    assert ui.app.screens.current == "home"
    ui.advance(tech.mode.lockout_s + 1)
    hold_corner(ui, 5.1)
    assert not tech.pin_screen.locked
    enter_pin(ui, PIN)
    assert ui.app.screens.current == "tech"


def test_idle_in_the_mode_returns_to_the_citizens(ui, tech):
    open_mode(ui, tech)
    ui.advance(tech.mode.idle_timeout_s + 1)
    tech._tick()
    ui.pump(3)
    assert ui.app.screens.current == "home"


def select(ui, tech, name):
    ui.tap(tech.row_view(name))


def run_check(ui, tech, name, check):
    button = next(b for b in tech.screen.ids.checks.children if getattr(b, "check", None) == check)
    ui.pump(2)
    ui.tap(button)
    assert wait(ui, lambda: not tech.bench.busy(name) and getattr(tech.bench.results.get(name), "check", None) == check
                and tech.bench.results[name].ok is not None, 5000)
    ui.pump(3)
    return tech.bench.results[name]


@pytest.mark.parametrize("name,check", [
    ("idcard", "self_test"), ("idcard", "read_card"), ("receipt_printer", "print_receipt"),
    ("payment", "test_sale"), ("locker", "open_door"),
])
def test_each_check_runs_on_the_simulators(ui, tech, shot, name, check):
    open_mode(ui, tech)
    select(ui, tech, name)
    result = run_check(ui, tech, name, check)
    assert result.ok, result.lines
    shot(f"{name}-{check}")
    if check == "read_card":
        assert "张*" in tech.screen.result_text and "张示例" not in tech.screen.result_text


def test_scanner_test_shows_a_masked_payment_code(ui, tech):
    open_mode(ui, tech)
    select(ui, tech, "scanner")
    button = next(b for b in tech.screen.ids.checks.children if getattr(b, "check", None) == "scan")
    ui.tap(button)
    toggle = next(t for t in tech.screen.ids.controls.children if t.key == "scan_payment")
    ui.pump(2)
    ui.tap(toggle)
    assert wait(ui, lambda: not tech.bench.busy("scanner"), 3000)
    ui.pump(3)
    assert "1345**********6789" in tech.screen.result_text


def alarms_in_outbox(app):
    from kiosk.store import Store
    from kiosk.sync.outbox import Outbox

    conn = Store.from_settings(app.settings).connect()
    try:
        return [(e.data["device"], e.data["code"], e.data["state"])
                for e in Outbox(conn).items("pending", 10000) if e.kind == "alarm"]
    finally:
        conn.close()


def test_an_injected_fault_shows_and_is_one_alarm_until_cleared(ui, tech, shot):
    app = ui.app
    poller = next(p for p in app.kiosk.parts.runtime.pollers if p.device.name == "receipt_printer")
    poller.poll_once()
    before = [a for a in alarms_in_outbox(app) if a[:2] == ("receipt_printer", "cover_open")]
    open_mode(ui, tech)
    select(ui, tech, "receipt_printer")
    toggle = next(t for t in tech.screen.ids.controls.children if t.key == "cover_open")
    ui.pump(2)
    ui.tap(toggle)
    for _ in range(5):
        poller.poll_once()
        app.kiosk.technician.alarms.on_status(poller.device, poller.current)   # seen again and again: still one alarm
    assert app.kiosk.technician.alarms.flush()
    assert wait(ui, lambda: tech.bench.rows["receipt_printer"].detail == "cover_open", 600)
    ui.pump(3)
    assert tech._rows["receipt_printer"].state_text == "离线 · 机盖打开：请关好"
    shot("fault")
    ui.tap(tech.screen.ids.tab_system)
    assert wait(ui, lambda: "cover_open" in tech.screen.alarms_text, 600)
    shot("fault-alarm")
    ui.tap(tech.screen.ids.tab_devices)
    ui.pump(3)
    assert tech.screen.panel == "devices" and tech.screen.ids.panels.current == "devices"
    toggle = next(t for t in tech.screen.ids.controls.children if t.key == "cover_open")
    assert toggle.active
    ui.tap(toggle)    # a real tap on the device panel, after the system panel was shown
    ui.pump(3)
    from kiosk.sim.registry import simulator

    assert not simulator("receipt").cover_open and not toggle.active
    poller.poll_once()
    assert app.kiosk.technician.alarms.flush()
    after = [a for a in alarms_in_outbox(app) if a[:2] == ("receipt_printer", "cover_open")]
    assert after[len(before):] == [("receipt_printer", "cover_open", "raised"),
                                   ("receipt_printer", "cover_open", "cleared")]


def test_system_panel_shows_the_outbox_and_exports_a_redacted_bundle(ui, tech, shot):
    open_mode(ui, tech)
    ui.tap(tech.screen.ids.tab_system)
    assert wait(ui, lambda: "refresh" not in tech.system.working and tech.system.snapshot, 600)
    assert wait(ui, lambda: tech.system.reachability is not None, 1200)
    ui.pump(3)
    assert str(tech.system.counts.get("pending")) in tech.screen.outbox_text
    shot("system")
    tech.screen.ids.system_panel.scroll_to(tech.screen.ids.export, animate=False)
    ui.pump(2)
    tap_in_scroll(ui, tech.screen.ids.export)
    assert wait(ui, lambda: "export" not in tech.system.working and tech.system.message, 1200)
    ui.pump(3)
    assert tech.system.message_ok, tech.system.message
    path = tech.system.message.split(" to ", 1)[1].split(" (", 1)[0]
    from kiosk.core.technician.bundle import contents

    blob = "\n".join(contents(path).values())
    settings = ui.app.settings
    assert settings.central.secret not in blob and settings.privacy.hash_key not in blob
    assert json.loads(contents(path)["config.json"])["technician"]["pin_hashes"] == "**REDACTED**"
    shot("bundle")


def test_tabs_and_exit_take_taps_from_either_panel(ui, tech):
    """The hidden panel once lay over the header: from the system panel, Devices and Exit did not answer."""
    open_mode(ui, tech)
    for _ in range(2):
        ui.tap(tech.screen.ids.tab_system)
        ui.pump(3)
        assert tech.screen.ids.panels.current == "system"
        assert tech.screen.ids.devices_panel.get_root_window() is None   # not in the tree: cannot take a tap
        ui.tap(tech.screen.ids.tab_devices)
        ui.pump(3)
        assert tech.screen.ids.panels.current == "devices"
    select(ui, tech, "scanner")
    assert tech.bench.selected == "scanner" and tech.row_view("scanner").selected
    ui.tap(tech.screen.ids.tab_system)
    ui.pump(3)
    ui.tap(tech.screen.ids.exit)
    ui.pump(3)
    assert ui.app.screens.current == "home"


def test_a_lockout_outlives_the_screen_and_is_read_back_from_the_store(ui, tech):
    from kiosk.core.technician.mode import StoredLockout, TechnicianMode
    from kiosk.store import Store

    hold_corner(ui, 5.1)
    for _ in range(tech.mode.wrong_before_lockout):
        enter_pin(ui, "999999")
    assert tech.pin_screen.locked
    # a restarted UI builds its mode from the same store
    again = TechnicianMode.from_settings(ui.app.settings.technician,
                                         lockout_book=StoredLockout(Store.from_settings(ui.app.settings).connect))
    assert again.locked_for() > 0


def test_the_screens_exist_only_for_the_visit_and_leave_nothing_behind(ui, tech):
    """Citizens never see the technician's screens: built at the PIN, let go at exit."""
    import gc
    import weakref

    assert "tech" not in ui.app.screens.screen_names and not tech.screens_built
    observers = {p: len(ui.app.get_property_observers(p)) for p in ("scale", "lang", "elder")}
    visits = []
    for _ in range(3):
        open_mode(ui, tech)
        assert tech.row_view("receipt_printer").title
        visits.append(weakref.ref(tech.screen))
        ui.tap(tech.screen.ids.exit)
        ui.pump(3)
        assert ui.app.screens.current == "home"
        assert not {"tech", "tech_pin"} & set(ui.app.screens.screen_names)
    # the devices panel's scroll bar fades for a second of real time after a layout (kivy's ScrollView); its
    # animation holds the panel until it ends, which is not a leak
    for _ in range(10):
        settle(ui, 0.3)
        gc.collect()
        if not any(v() for v in visits):
            break
    assert [v() for v in visits] == [None, None, None], "a released screen is still referenced"
    assert {p: len(ui.app.get_property_observers(p)) for p in observers} == observers


ASCII_WORD = re.compile(r"[A-Za-z]{2,}")


def test_in_chinese_states_results_and_card_fields_are_chinese(ui, tech, shot):
    open_mode(ui, tech)
    assert wait(ui, lambda: all(r.state != "unknown" for r in tech.bench.rows.values()), 600)
    ui.pump(3)
    for name, view in tech._rows.items():   # "正常", or "正常 · 已打开的柜门：1" after an earlier test's door
        assert view.state_text.startswith("正常") and not ASCII_WORD.search(view.state_text), (name, view.state_text)
    assert "状态：正常" in tech.screen.ids.detail.text
    from kiosk.sim.registry import simulator

    simulator("idcard").insert_card("resident")
    select(ui, tech, "idcard")
    assert run_check(ui, tech, "idcard", "read_card").ok
    shown = tech.screen.ids.result.text.splitlines()
    assert shown[:3] == ["姓名：张**", "证件号码：110***********1239", "性别：男"]
    assert {"民族：汉", "有效期至：2040-01-01", "证件类型：居民身份证", "号码校验位：正确", "照片：1024 字节",
            "已过期：否"} <= set(shown)
    assert not [line for line in shown if ASCII_WORD.search(line)], shown   # no True, male, id_checksum_ok
    assert "张示例" not in tech.screen.result_text
    shot("idcard-zh")
    select(ui, tech, "locker")
    tech.select_door(7)
    assert run_check(ui, tech, "locker", "open_door").ok
    assert tech.screen.ids.result.text == "7 号柜门：已打开"
    assert re.fullmatch(r"正常 · 已打开的柜门：([0-9]+, )*7(, [0-9]+)*", tech.row_view("locker").state_text)
    for label in (tech.screen.ids.result, tech.row_view("locker").ids.row_state):
        assert not ASCII_WORD.search(label.text), label.text
    ui.tap(ui.app.header.ids.lang_en)
    ui.pump(5)
    assert tech.screen.ids.result.text == "door 7: open"   # drawn again in the new language
    assert re.fullmatch(r"Working · doors open: ([0-9]+, )*7(, [0-9]+)*", tech.row_view("locker").state_text)
    assert tech.check_button("open_door").text == "Open selected door"


def test_a_new_digit_clears_the_wrong_pin_message_and_delete_takes_one_back(ui, tech):
    hold_corner(ui, 5.1)
    enter_pin(ui, "999999")
    pad = tech.pin_screen
    assert pad.warning and pad.message.startswith("密码错误")
    keys = {k.text: k for k in pad.ids.keypad.children}
    ui.tap(keys["1"])
    ui.pump(2)
    assert not pad.warning and pad.message == "请输入维护人员密码" and pad.dots == "●"
    ui.tap(keys["3"])
    ui.tap(pad.ids.delete)
    ui.pump(2)
    assert pad.dots == "●" and tech.pin == "1"
    assert pad.ids.delete.height >= 60 and pad.ids.delete.text == "删除"
    ui.tap(pad.ids.delete)
    ui.tap(pad.ids.delete)   # nothing left to take back: no harm
    ui.pump(2)
    assert tech.pin == "" and pad.dots == ""
    for digit in PIN:
        ui.tap(keys[digit])
    ui.tap(pad.ids.ok)
    wait(ui, lambda: not pad.checking)
    ui.pump(3)
    assert ui.app.screens.current == "tech"


def test_elder_mode_enlarges_the_technician_screens_and_the_panel_scrolls(ui, tech, shot):
    from tests.ui.conftest import assert_texts_fit

    open_mode(ui, tech)
    select(ui, tech, "locker")
    ui.pump(3)
    button = tech.check_button("open_door")
    normal = (button.font_size, button.height, tech.door_button(1).font_size, tech.screen.ids.detail.font_size)
    assert not tech.screen.ids.devices_panel.do_scroll_y   # it fits: taps act at once
    ui.tap(ui.app.header.ids.elder_toggle)
    ui.pump(5)
    try:
        assert ui.app.scale > 1 and ui.app.screens.current == "tech"
        elder = (button.font_size, button.height, tech.door_button(1).font_size, tech.screen.ids.detail.font_size)
        assert all(e == pytest.approx(n * ui.app.scale) for n, e in zip(normal, elder)), (normal, elder)
        assert tech.screen.ids.devices_panel.do_scroll_y   # the locker's panel is taller than the window now
        assert_texts_fit(ui, tech.screen.ids.devices_content)
        header = tech.screen.ids.exit.parent
        assert_texts_fit(ui, header)
        shot("elder-locker")
    finally:
        ui.tap(ui.app.header.ids.elder_toggle)
        ui.pump(3)
