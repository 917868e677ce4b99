"""Every text of the citizen's screens is set in a size of the type scale (kiosk/screens/theme.py)."""
from __future__ import annotations

from tests.ui.conftest import DEMO_SERVICE, screen_widgets


def off_scale(app) -> list:
    from kivy.metrics import sp
    from kivy.uix.label import Label

    from kiosk.screens import theme
    from kiosk.screens.keys import KeyGrid

    around = []   # the header bar and the idle warning, which are not screens
    stack = [app.header, app.idle_overlay]
    while stack:
        around.append(stack.pop())
        stack.extend(around[-1].children)
    sizes = []
    for w in screen_widgets(app, exclude=(DEMO_SERVICE,)) + around:  # DEMO_SERVICE: the tests' stand-in
        if isinstance(w, Label):
            sizes.append((w, w.font_size))
        elif isinstance(w, KeyGrid):
            sizes += [(w, w.font_size), (w, w.edit_font_size)]
    return [(type(w).__name__, getattr(w, "text", "")[:20], size / sp(1) / app.scale)
            for w, size in sizes if round(size / sp(1) / app.scale, 3) not in theme.TYPE_SCALE]


def test_every_text_of_every_screen_is_on_the_type_scale_in_both_modes(pickup_ui, guides_screen):
    ui = pickup_ui
    names = set(ui.app.screen_names())
    assert {"home", "pickup", "staff", "staff_deposit", "guides"} <= names, names
    for name in names:   # made for a visit: all of them now, to be measured
        ui.app.screen(name)
    assert not off_scale(ui.app)
    try:
        ui.app.toggle_elder()
        ui.pump()
        assert ui.app.scale > 1 and not off_scale(ui.app)
    finally:
        ui.reset()
