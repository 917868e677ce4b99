"""The elder-friendly rules' measure (kiosk/tour/audit.py) on a screen made to break each rule once.

`kiosk tour --audit` (tests/test_tour.py) runs the same measure over every screen of the tour in both
modes; here each rule is shown to find what it is for, and to pass what keeps it.
"""
from __future__ import annotations

import pytest

AUDIT_SCREEN = "audit-sample"


@pytest.fixture
def sample(ui):
    from kivy.metrics import dp
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.label import Label
    from kivy.uix.screenmanager import Screen
    from kivy.uix.widget import Widget

    from kiosk.screens import theme
    from kiosk.screens.widgets import RoundButton

    def button(text, *, outline=False, bg=theme.ACCENT, fg=theme.ON_HEADER, w=300, h=100):
        b = RoundButton(text=text, size_hint=(None, None), size=(dp(w), dp(h)), bg_color=bg, fg_color=fg,
                        outline=outline, font_size=dp(34))
        return b

    screen = Screen(name=AUDIT_SCREEN)
    column = BoxLayout(orientation="vertical", padding=dp(48), spacing=dp(40))
    column.add_widget(Label(text="grey on grey", color=(0.72, 0.74, 0.76, 1), font_size=dp(34),
                            size_hint_y=None, height=dp(60)))
    column.add_widget(Label(text="tiny", color=theme.TEXT, font_size=dp(12), size_hint_y=None, height=dp(40)))
    row = BoxLayout(spacing=dp(4), size_hint_y=None, height=dp(100))
    row.add_widget(button("white card", bg=theme.SURFACE, fg=theme.TEXT))     # 1.09:1 against the page
    row.add_widget(button("outlined", bg=theme.SURFACE, fg=theme.HEADER, outline=True))
    column.add_widget(row)
    small = BoxLayout(size_hint_y=None, height=dp(100))
    small.add_widget(button("x", w=44, h=44))
    column.add_widget(small)
    # a department's name shortened to 「…」, and a line drawn taller than the box it was given
    column.add_widget(Label(text="人力资源和社会保障局社会保险事业管理中心", color=theme.TEXT, font_size=dp(30),
                            shorten=True, text_size=(dp(240), None), size_hint=(None, None),
                            size=(dp(240), dp(50)), halign="left"))
    column.add_widget(Label(text="squeezed", color=theme.TEXT, font_size=dp(34), size_hint_y=None, height=dp(16)))
    column.add_widget(Widget())
    screen.add_widget(column)
    ui.app.screens.add_widget(screen)
    ui.app.screens.current = AUDIT_SCREEN
    ui.pump(4)
    yield ui
    from kiosk.screens.widgets import forget_widget_tree

    ui.app.screens.current = "home"
    ui.app.screens.remove_widget(screen)
    forget_widget_tree(screen)   # its rules' bindings to the app go with it (as a visit's screens do)
    ui.pump()


def test_each_rule_finds_what_breaks_it_and_passes_what_keeps_it(sample):
    from kiosk.tour.audit import audit

    found = audit(sample.app, sample.grab())
    by_rule = {}
    for v in found:
        by_rule.setdefault(v.rule, []).append(v)
    text = [str(v) for v in found]
    assert any("'grey on grey'" in v.widget for v in by_rule.get("text-contrast", [])), text
    assert any("'tiny'" in v.widget and "12.0 dp" in v.measured for v in by_rule.get("text-size", [])), text
    assert any("'white card'" in v.widget for v in by_rule.get("edge-contrast", [])), text
    assert not any("'outlined'" in v.widget for v in by_rule.get("edge-contrast", [])), text
    assert any("'x'" in v.widget and "44 x 44" in v.measured for v in by_rule.get("target-size", [])), text
    assert any("'white card'" in v.widget and "'outlined'" in v.widget and v.measured.startswith("4 dp")
               for v in by_rule.get("target-gap", [])), text
    cut = by_rule.get("text-cut", [])
    # named with its screen and all its text, so it is found without guessing what the 「…」 hid
    assert any(v.widget.startswith(AUDIT_SCREEN + ": ") and "人力资源和社会保障局社会保险事业管理中心" in v.widget
               and "shortened" in v.measured for v in cut), text
    assert any("'squeezed'" in v.widget and "in a box of" in v.measured for v in cut), text
    assert not any("grey on grey" in v.widget or "'tiny'" in v.widget for v in cut), text
    # the header above the sample keeps every rule: only the sample's widgets are named
    assert all(any(name in v.widget for name in ("grey on grey", "tiny", "white card", "outlined", "'x'",
                                                   "社会保险", "squeezed"))
               for v in found), text


def test_the_home_screen_keeps_every_rule_in_both_modes(ui):
    from kiosk.tour.audit import audit_both_modes

    ui.app.screens.current = "home"
    ui.pump(4)
    assert audit_both_modes(ui) == []
