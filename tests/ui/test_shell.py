"""The kiosk shell in its real window: home screen, font, language, elder mode, idle handling."""
from __future__ import annotations

import re

import pytest

from kiosk import i18n
from kiosk.core import privacy
from kiosk.core.session import Phase

DEMO_SERVICE = "demo"  # the stand-in service of conftest.py
CJK = re.compile(r"[\u3400-\u9fff]")


def visible_labels(widget):
    """Every Label on screen (inside opaque, non-empty parents), depth first."""
    from kivy.uix.label import Label

    out = []

    def walk(w):
        if w.opacity == 0 or w.width <= 0 or w.height <= 0:
            return
        if isinstance(w, Label) and w.text:
            out.append(w)
        for child in w.children:
            walk(child)

    walk(widget)
    return out


def touch_targets(widget):
    from kivy.uix.behaviors import ButtonBehavior

    found = []

    def walk(w):
        if w.opacity == 0 or w.width <= 0 or w.height <= 0:
            return
        if isinstance(w, ButtonBehavior):
            found.append(w)
        for child in w.children:
            walk(child)

    walk(widget)
    return found


def render(char: str, font_name: str, font_size: float) -> bytes:
    from kivy.core.text import Label as CoreLabel

    label = CoreLabel(text=char, font_name=font_name, font_size=font_size)
    label.refresh()
    return bytes(label.texture.pixels)


def test_home_shows_the_hall_name_the_date_and_the_time(ui, shot):
    home = ui.app.home
    assert ui.app.screens.current == "home"
    assert home.ids.hall_name.text == ui.app.settings.kiosk.hall
    assert home.ids.date.text == "2026年5月18日星期一"
    assert home.ids.time.text == ui.app.now().strftime("%H:%M")
    shot("home")


def test_hall_name_renders_chinese_glyphs_not_missing_glyph_boxes(ui, shot):
    from kivy.resources import resource_find

    label = ui.app.home.ids.hall_name
    chars = sorted(set(CJK.findall(label.text)))
    assert chars, "the test needs a hall name with Chinese characters"
    size = label.font_size
    # a code point no font here has: what the font draws for a missing glyph
    tofu = render("\U000F0001", label.font_name, size)
    boxes = [c for c in chars if render(c, label.font_name, size) == tofu]
    shot("hall-name")
    assert not boxes, f"drawn as missing-glyph boxes: {''.join(boxes)} (font {ui.app.font.path})"
    # the comparison does catch boxes: Kivy's own Latin font has no Chinese
    roboto = resource_find("data/fonts/Roboto-Regular.ttf")
    assert render(chars[0], roboto, size) == render("\U000F0001", roboto, size)


def test_language_switch_changes_every_visible_string(ui, shot):
    header = ui.app.header
    zh = {id(lbl): lbl.text for lbl in visible_labels(ui.app.root)}
    ui.tap(header.ids.lang_en)
    assert ui.app.lang == "en" and i18n.language() == "en"
    shot("en")
    exempt = {ui.app.settings.kiosk.hall, i18n.NATIVE_NAMES["zh_CN"]}  # names, not text to translate
    left_in_chinese = [lbl.text for lbl in visible_labels(ui.app.root)
                       if CJK.search(lbl.text) and lbl.text not in exempt]
    assert not left_in_chinese
    changed = [lbl for lbl in visible_labels(ui.app.root) if id(lbl) in zh and zh[id(lbl)] != lbl.text]
    assert ui.app.home.ids.welcome in changed and header.ids.elder_toggle in changed
    # the hall's name as the hall gives it in English ([kiosk] hall_en)
    assert ui.app.home.ids.hall_name.text == ui.app.settings.kiosk.hall_en != ""
    ui.tap(header.ids.lang_zh_CN)
    assert ui.app.home.ids.hall_name.text == ui.app.settings.kiosk.hall
    assert ui.app.home.ids.help_line.text == "需要帮助？请咨询服务台工作人员。"


def test_elder_mode_scales_text_and_keeps_touch_targets_at_least_60_dp(ui, shot):
    from kivy.metrics import dp

    hall = ui.app.home.ids.hall_name
    normal_size = hall.font_size
    normal_sizes = {id(lbl): lbl.font_size for lbl in visible_labels(ui.app.root)}
    ui.tap(ui.app.header.ids.elder_toggle)
    assert ui.app.elder and ui.app.session.elder
    shot("elder")
    scale = ui.app.settings.ui.elder_scale
    assert scale >= 1.5 and hall.font_size == pytest.approx(normal_size * scale)
    for lbl in visible_labels(ui.app.root):
        if id(lbl) in normal_sizes:
            assert lbl.font_size >= 1.5 * normal_sizes[id(lbl)] - 0.01, lbl.text
    targets = touch_targets(ui.app.root)
    assert targets
    small = [(t.text if hasattr(t, "text") else t, t.size) for t in targets
             if t.height < dp(60) or t.width < dp(60)]
    assert not small
    assert ui.app.home.ids.accent_rule.opacity == 0  # no decoration in elder mode


def test_touch_targets_are_at_least_60_dp_in_normal_mode_too(ui):
    from kivy.metrics import dp

    assert all(t.height >= dp(60) and t.width >= dp(60) for t in touch_targets(ui.app.root))


def test_idle_warning_appears_after_the_timeout_and_counts_down(ui, shot):
    session = ui.app.session
    ui.tap(ui.app.home.ids.welcome)
    ui.advance(session.idle_timeout_s - 1)
    assert ui.app.idle_overlay.parent is None
    ui.advance(1)
    assert ui.app.idle_overlay.parent is not None and session.phase is Phase.WARNING
    assert ui.app.idle_overlay.ids.countdown.text == str(ui.app.settings.kiosk.idle_warning_s)
    shot("warning")
    ui.advance(10)
    assert ui.app.idle_overlay.ids.countdown.text == str(ui.app.settings.kiosk.idle_warning_s - 10)


def test_more_time_extends_the_visit_the_configured_number_of_times(ui, shot):
    session = ui.app.session
    overlay = ui.app.idle_overlay
    ui.tap(ui.app.home.ids.welcome)
    for _ in range(ui.app.settings.kiosk.idle_extensions):
        ui.advance(session.idle_timeout_s)
        assert overlay.parent is not None
        ui.tap(overlay.ids.more_time)
        assert overlay.parent is None and session.phase is Phase.ACTIVE
    ui.advance(session.idle_timeout_s)
    assert overlay.parent is not None and not overlay.can_extend
    assert overlay.ids.more_time.opacity == 0
    shot("no-more-extensions")


def test_countdown_wipes_the_visit_and_returns_home(ui, shot):
    wiped = []
    ui.app.session.on("wipe", wiped.append)
    ui.tap(ui.app.home.tiles and ui.app.home.ids.tiles.children[0])
    assert ui.app.screens.current == DEMO_SERVICE
    ui.tap(ui.app.header.ids.lang_en)
    ui.tap(ui.app.header.ids.elder_toggle)
    privacy.remember_person(name="李四光", id_number="11010119900307777X")
    ui.advance(ui.app.session.idle_timeout_s)
    ui.advance(ui.app.settings.kiosk.idle_warning_s)
    shot("after-reset")
    assert wiped == ["idle"]
    assert ui.app.screens.current == "home" and ui.app.idle_overlay.parent is None
    assert ui.app.lang == "zh_CN" and not ui.app.elder and ui.app.scale == 1.0
    assert ui.app.session.phase is Phase.HOME
    assert privacy.redact("李四光") == "李四光"  # the card holder is forgotten


def test_finish_button_ends_the_visit_at_once(ui):
    ui.tap(ui.app.home.ids.welcome)
    ui.advance(ui.app.session.idle_timeout_s)
    ended = ui.app.session.visits_ended
    ui.tap(ui.app.idle_overlay.ids.finish)
    assert ui.app.session.visits_ended == ended + 1 and ui.app.idle_overlay.parent is None


def test_a_service_whose_device_is_down_shows_the_reason_and_does_not_open(ui, shot):
    from kiosk.core.offer import DeviceProblem
    from kiosk.hardware.device import State

    ui.app.set_device_problem("locker", DeviceProblem("no_answer", State.OFFLINE))
    ui.pump()
    tile = ui.app.home.ids.tiles.children[0]
    assert tile.disabled and tile.reason == "Out of service"
    assert "暂停服务" in [lbl.text for lbl in visible_labels(tile)]
    shot("device-down")
    ui.tap(tile)
    assert ui.app.screens.current == "home"
    ui.app.set_device_problem("locker", None)
    ui.pump()
    assert not tile.disabled
    ui.tap(tile)
    assert ui.app.screens.current == DEMO_SERVICE


def test_header_with_language_and_elder_mode_is_one_tap_away_on_every_screen(ui):
    for name in ui.app.screen_names():
        ui.app.show(name)
        ui.pump()
        for wid in ("lang_zh_CN", "lang_en", "elder_toggle"):
            chip = ui.app.header.ids[wid]
            assert chip.get_root_window() is not None and chip.opacity == 1 and not chip.disabled
        if name != "home":
            assert ui.app.header.ids.home_button.opacity == 1


def test_escape_does_not_close_the_app(ui):
    from kivy.base import EventLoop

    ui.key(27)
    ui.pump()
    assert not EventLoop.quit and EventLoop.status == "started"
    assert ui.app.root.get_root_window() is not None


def test_screens_and_overlay_are_built_once_and_reused_across_visits(ui):
    screens = list(ui.app.screens.screens)
    overlay = ui.app.idle_overlay
    for _ in range(20):
        ui.tap(ui.app.home.ids.welcome)
        ui.advance(ui.app.session.idle_timeout_s)
        ui.advance(ui.app.session.warning_s)
    assert ui.app.screens.screens == screens and ui.app.idle_overlay is overlay
    assert len(ui.app.home.ids.tiles.children) == len(ui.app.services)   # one tile per service, reused


def test_label_pixels_live_in_the_texture_alone_once_drawn(ui):
    """The text provider lets go of its render surface (kiosk/screens/text.py): no second copy."""
    from kivy.core.text import Label as CoreLabel

    from kiosk.screens.text import keep_text_pixels_once

    label = CoreLabel(text="社保 办理", font_size=40)
    label.refresh()
    assert getattr(label, "_surface", None) is None
    assert any(bytes(label.texture.pixels)[3::4]), "the text is drawn in the texture"
    # every label of the running UI was drawn the same way
    kept = [w for w in visible_labels(ui.app.root) if getattr(w._label, "_surface", None) is not None]
    assert not kept, f"labels still holding a render surface: {[w.text for w in kept[:3]]}"
    assert keep_text_pixels_once()  # idempotent: the provider is patched once


def test_one_open_font_serves_every_label_of_the_same_point_size(ui):
    """SDL_ttf opens whole point sizes and sees bold only as a file (kiosk/screens/text.py)."""
    from kivy.core.text import Label as CoreLabel

    def key(**options):
        label = CoreLabel(text="办", **options)
        label.resolve_font_name()
        return label._get_font_id()

    assert key(font_size=28) == key(font_size=28.6) == key(font_size=28, bold=True)
    assert key(font_size=28) != key(font_size=29)
    assert key(font_size=28) != key(font_size=28, underline=True)
    # a registered family whose bold is its own file still opens that file
    from kivy.core.text import LabelBase
    from kivy.resources import resource_find

    LabelBase.register("KioskTestFamily", resource_find("data/fonts/Roboto-Regular.ttf"),
                       fn_bold=resource_find("data/fonts/Roboto-Bold.ttf"))
    assert key(font_size=28, font_name="KioskTestFamily") != key(font_size=28, font_name="KioskTestFamily",
                                                                  bold=True)


def test_only_outlined_buttons_draw_a_border_and_it_follows_the_button(ui):
    from kivy.core.window import Window
    from kivy.graphics import Line

    from kiosk.screens.widgets import RoundButton

    def lines(button):
        found = []

        def walk(group):
            for child in group.children:
                if isinstance(child, Line):
                    found.append(child)
                elif hasattr(child, "children"):
                    walk(child)
        walk(button.canvas.before)
        return found

    plain = RoundButton(text="1")
    assert lines(plain) == []
    outlined = RoundButton(text="2", outline=True, size_hint=(None, None), size=(300, 100), pos=(10, 20))
    (border,) = lines(outlined)
    Window.add_widget(outlined)  # the line's points are made when it is drawn
    try:
        outlined.pos = (50, 60)
        ui.pump()
        xs, ys = border.points[0::2], border.points[1::2]
        assert min(xs) > 50 and max(xs) < 350 and min(ys) > 60 and max(ys) < 160
    finally:
        Window.remove_widget(outlined)
    outlined.outline = False
    assert lines(outlined) == []
    plain.outline = True
    assert len(lines(plain)) == 1


def test_a_visits_screens_are_given_back_and_freed_after_it(pickup_ui):
    """Every screen but the home screen is made for the visit that opens it; once the visit is wiped
    nothing of the process keeps it (a flow's listener, the language's, Kivy's row cache, the screen
    manager's last transition), so its widgets and their textures go back."""
    import gc
    import weakref

    ui = pickup_ui
    app = ui.app
    names = [n for n in app.screen_names() if n not in ("home", DEMO_SERVICE) and not n.startswith("tech")]
    assert {"pickup", "handin", "guides", "documents", "payment", "rating", "staff", "staff_recall"} <= set(names)
    made = []
    app.session.touch()
    for name in names:
        app.show(name)
        ui.pump()
        made.append(weakref.ref(app.screen(name)))
    app.end_visit("done")
    ui.wait_for(lambda: app.session.phase is Phase.HOME and not set(names) & set(app.screens.screen_names), 10,
                "the visit's screens given back")
    # a list's scroll bar fades out for a second after it last moved (Kivy holds it while it animates)

    def alive() -> list[str]:
        gc.collect()
        return sorted(ref().name for ref in made if ref() is not None)
    try:
        ui.wait_for(lambda: not alive(), 5, "the visit's screens freed")
    except AssertionError:
        pytest.fail(f"screens still alive after the visit: {alive()}")
    app.show("pickup")   # the next visit gets its screens again
    assert app.screens.current == "pickup"
