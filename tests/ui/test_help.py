""""Call staff" (呼叫工作人员) in the real window: the header's button on a citizen's screen, the card that answers.

The shared app of tests/ui/conftest.py, with its HelpFlow's idea of the time fixed (the agent's last contact
with the platform is written in the kiosk database as the agent writes it). A citizen on the guides screen
calls staff and reads that they were called with the hall's phone; pressed again, that they already were;
with the platform not reached for longer than three heartbeats, on another screen in elder mode, that the
request goes out when the network is back. The request is in the outbox with the screen and no personal
data. The button is not on the staff screens, and the header holds it in every language and mode.
Screenshots go to tests/artifacts/ui/test_call_staff_*.png.
"""
from __future__ import annotations

import pytest

NOW = 1_800_000_000.0


@pytest.fixture
def help_ui(ui):
    """The app with its help flow's wall clock at NOW and the kiosk's last contact with the platform `contact(at)`."""
    from dataclasses import replace

    from kiosk.store import Store
    from kiosk.sync.agent import LAST_CONTACT_KEY
    from kiosk.sync.state import SyncState

    app = ui.app
    flow = app.kiosk.parts.help
    saved = flow.contact
    flow.contact = replace(saved, wall=lambda: NOW)
    conn = Store.from_settings(app.settings).connect()

    def contact(at: float | None) -> None:
        state = SyncState(conn)
        state.delete(LAST_CONTACT_KEY) if at is None else state.set(LAST_CONTACT_KEY, str(at))

    ui.contact, ui.help_flow, ui.conn = contact, flow, conn
    yield ui
    flow.contact = saved
    contact(None)
    conn.close()
    if app.elder:
        app.session.set_elder(False)
    app.set_language("zh_CN")
    ui.reset()


def _helps(conn) -> list[dict]:
    import json

    return [json.loads(body) for kind, body in conn.execute("SELECT kind, body FROM outbox ORDER BY seq")
            if kind == "help"]


def _open(ui, key: str):
    app = ui.app
    app.session.touch()
    app.kiosk.parts.visit.enter(key)
    app.show(key)
    ui.pump(3)


def _button(app):
    """The "Call staff" shown: the header's, or the bar's under it where the header has no room."""
    return app.header.ids.help_button if app.header.help_inside else app.help_bar.ids.help_button


def _call(ui) -> None:
    from kiosk.core.help import HelpState

    button = _button(ui.app)
    assert button.opacity == 1 and not button.disabled and button.width > 0
    ui.tap(button)
    ui.wait_for(lambda: ui.help_flow.state is HelpState.SENT and ui.app.help_overlay.parent is not None, 15,
                "the help card")


def test_call_staff_from_a_citizen_screen_says_sent_then_already_then_offline(help_ui, shot):
    from kiosk.i18n import _

    ui, app = help_ui, help_ui.app
    overlay = app.help_overlay
    before = len(_helps(ui.conn))
    ui.contact(NOW - 30)   # the agent had an answer from the platform half a minute ago
    _open(ui, "guides")
    _call(ui)
    ids = overlay.ids
    assert ids.title.text == "已呼叫工作人员"
    assert "工作人员马上就到" in ids.message.text and ids.offline.text == ""
    assert ids.phone.text == f"工作人员电话：{app.settings.kiosk.hotline}"
    shot("sent")
    assert _helps(ui.conn)[before:] == [{"screen": "guides", "hall": app.settings.kiosk.hall}]

    ui.tap(ids.ok)
    ui.pump(3)
    assert overlay.parent is None and app.screens.current == "guides"
    _call(ui)
    assert ids.title.text == "已经呼叫过工作人员"
    shot("already")
    assert len(_helps(ui.conn)) == before + 1, "a second press on the same screen records nothing new"
    ui.tap(ids.ok)
    ui.pump(3)

    ui.contact(NOW - 181)   # three heartbeats and a second without an answer
    app.session.set_elder(True)
    app.set_language("en")
    _open(ui, "progress")
    assert app.header.compact and app.header.ids.help_button.text == "Call\nstaff"
    _call(ui)
    assert ids.title.text == "Your call for staff is saved" == _("Your call for staff is saved")
    assert ids.message.text == "If you need help now, please call the number below."
    assert "as soon as it is back" in ids.offline.text and ids.offline.opacity == 1
    assert app.settings.kiosk.hotline in ids.phone.text
    assert overlay.ids.card.height <= app.root.height
    shot("offline-en-elder")
    assert _helps(ui.conn)[before + 1:] == [{"screen": "progress", "hall": app.settings.kiosk.hall}]
    ui.tap(ids.ok)
    ui.pump(3)


def test_call_staff_is_not_on_the_staff_screens(help_ui):
    from tests.ui.conftest import open_deposit

    ui, app = help_ui, help_ui.app
    ui.wait_for(lambda: "staff" in app.screen_names(), 30, "the locker's staff screens")
    _open(ui, "guides")
    assert app.header.citizen
    open_deposit(ui)
    assert not app.header.citizen and not app.help_bar.shown and app.help_bar.height == 0
    for button in (app.header.ids.help_button, app.help_bar.ids.help_button):
        assert button.width == 0 and button.disabled


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("elder", [False, True])
def test_the_header_holds_call_staff_in_every_language_and_mode(help_ui, lang, elder, shot):
    """Home, the languages, elder mode and "Call staff" side by side inside the window, none over another, no
    screen made shorter. In elder mode on the portrait screen, whose chips are 1.6 times as large, the header
    is compact: the chosen language's chip folds away (the other language's stays) and "Call staff" takes
    two lines, as large as the other chips."""
    ui, app = help_ui, help_ui.app
    app.session.set_elder(elder)
    app.set_language(lang)
    _open(ui, "guides")
    ui.pump(5)
    h = app.header.ids
    button = h.help_button
    assert app.header.help_inside and not app.help_bar.shown and app.help_bar.height == 0
    assert app.header.compact is elder
    chosen, other = (h.lang_zh_CN, h.lang_en) if lang == "zh_CN" else (h.lang_en, h.lang_zh_CN)
    assert other.opacity == 1 and other.width > 0 and not other.disabled
    assert (chosen.width == 0 and chosen.disabled) if elder else chosen.width > 0
    assert button.opacity == 1 and button.right <= app.root.width - 16, \
        f"Call staff ends at {button.right:.0f} px, the window is {app.root.width:.0f} px wide"
    shown = [c for c in (h.home_button, h.lang_zh_CN, h.lang_en, h.elder_toggle, button) if c.width > 0]
    xs = sorted((c.to_window(c.x, c.y)[0], c.to_window(c.right, c.y)[0]) for c in shown)
    assert all(right <= left + 0.5 for (_, right), (left, _) in zip(xs, xs[1:])), f"chips overlap: {xs}"
    assert button.height >= 60 and button.font_size == h.elder_toggle.font_size
    assert button.texture_size[0] <= button.width and button.texture_size[1] <= button.height, "its text fits"
    assert ("\n" in button.text) is elder
    shot(f"{lang}-{'elder' if elder else 'normal'}")


def test_call_staff_goes_under_the_header_where_even_the_compact_header_has_no_room(help_ui, shot):
    """A larger elder scale than any kiosk.toml allows today, on the portrait screen: the bar takes it."""
    ui, app = help_ui, help_ui.app
    app.session.set_elder(True)
    app.scale = 2.4
    try:
        _open(ui, "guides")
        ui.pump(5)
        assert not app.header.help_inside and app.help_bar.shown and app.help_bar.height > 0
        button = _button(app)
        assert button.right <= app.root.width and app.help_bar.ids.need_help.text == "需要帮助？"
        _call(ui)
        shot("bar")
        ui.tap(app.help_overlay.ids.ok)
        ui.pump(3)
    finally:
        app.scale = app.settings.ui.elder_scale
        ui.pump(3)
