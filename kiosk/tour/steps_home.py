"""The home screen in `kiosk tour`: both languages and modes; the idle warning, more time, and the reset.

Listed by kiosk/tour/runner.py; every kiosk has them.
"""
from __future__ import annotations

from typing import Callable

from kiosk import i18n
from kiosk.core.session import Phase
from kiosk.tour.driver import UiDriver
from kiosk.tour.step import Step

FLOWS: dict[str, list[Step]] = {}   # the flows, in the order the tour runs them (kiosk/tour/runner.py)


# -- the home screen, both languages and modes; the idle warning and reset -----------------------------

WELCOME = "Welcome to the 24-hour self-service area."
WELCOME_WITH_TILES = "Welcome to the 24-hour self-service area. Touch a service to begin."


def _expect(**want) -> Callable[[UiDriver], str | None]:
    def check(d: UiDriver) -> str | None:
        app = d.app
        got = {
            "screen": app.screens.current,
            "lang": app.lang,
            "elder": app.elder,
            "warning_open": app.idle_overlay.parent is not None,
            "phase": app.session.phase,
        }
        wrong = [f"{k} is {got[k]!r}, expected {v!r}" for k, v in want.items() if got[k] != v]
        name = app.settings.kiosk.hall_en if app.lang == "en" and app.settings.kiosk.hall_en else app.hall
        if app.home.ids.hall_name.text != name:
            wrong.append(f"the hall's name is not shown in {app.lang}: {app.home.ids.hall_name.text!r}")
        if not app.home.time_text:
            wrong.append("no time shown")
        wrong += [f"the {key} tile is not wholly on the screen" for key in _tiles_off_screen(app)]
        if "lang" in want:
            msgid = WELCOME_WITH_TILES if app.home.tiles else WELCOME
            expected = i18n.catalog(want["lang"]).gettext(msgid)
            if app.home.ids.welcome.text != expected:
                wrong.append(f"home text not in {want['lang']}: {app.home.ids.welcome.text!r}")
            if not app.header.ids[f"lang_{want['lang']}"].active:
                wrong.append(f"the language switch does not show {want['lang']} as chosen")
        if "elder" in want:
            scale = app.settings.ui.elder_scale if want["elder"] else 1.0
            if abs(app.scale - scale) > 1e-6:
                wrong.append(f"text scale {app.scale}, expected {scale}")
        return "; ".join(wrong) or None
    return check


def _tiles_off_screen(app) -> list[str]:
    """The services whose tile is not wholly on the window below the header (the home screen never scrolls)."""
    from kivy.core.window import Window

    below = app.header.to_window(app.header.x, app.header.y)[1]
    off = []
    for tile in app.home.ids.tiles.children:
        x, y = tile.to_window(tile.x, tile.y)
        if x < -1 or y < -1 or x + tile.width > Window.width + 1 or y + tile.height > below + 1:
            off.append(tile.key)
    return sorted(off)


def _tap(path: str) -> Callable[[UiDriver], None]:
    """Tap a widget by its place: 'header.lang_en', 'idle.more_time'."""
    def act(d: UiDriver) -> None:
        where, wid = path.split(".")
        owner = {"header": d.app.header, "home": d.app.home, "idle": d.app.idle_overlay}[where]
        d.tap(owner.ids[wid])
    return act


def _nothing(d: UiDriver) -> None:
    pass


def _idle_out(d: UiDriver) -> None:
    d.advance(d.app.session.idle_timeout_s + 0.1)


def _touch_then_idle_out(d: UiDriver) -> None:
    """A visitor touches the screen and walks away."""
    d.tap(d.app.home.ids.welcome)
    _idle_out(d)


def _countdown_out(d: UiDriver) -> None:
    d.advance(d.app.session.warning_s + 0.1)


def _check_warning(d: UiDriver) -> str | None:
    app = d.app
    problems = []
    if app.idle_overlay.parent is None:
        problems.append("the idle warning is not showing")
    if app.session.phase is not Phase.WARNING:
        problems.append(f"session phase is {app.session.phase.value}, expected warning")
    shown = app.idle_overlay.ids.countdown.text
    if shown != str(app.session.seconds_left()) or int(shown) <= 0:
        problems.append(f"countdown shows {shown!r}, session has {app.session.seconds_left()} s left")
    if app.idle_overlay.ids.more_time.disabled:
        problems.append("the more-time button is disabled")
    return "; ".join(problems) or None


FLOWS["home"] = [
    Step("zh_CN", _nothing, _expect(screen="home", lang="zh_CN", elder=False, warning_open=False)),
    Step("en", _tap("header.lang_en"), _expect(screen="home", lang="en", elder=False)),
    Step("en-elder", _tap("header.elder_toggle"), _expect(screen="home", lang="en", elder=True)),
    Step("zh_CN-elder", _tap("header.lang_zh_CN"), _expect(screen="home", lang="zh_CN", elder=True)),
    Step("zh_CN-normal", _tap("header.elder_toggle"), _expect(screen="home", lang="zh_CN", elder=False)),
]

def _said(d: UiDriver) -> list[str]:
    """What the voice has said so far, where it speaks into files ([voice] record_dir; the demo hall)."""
    settings = d.app.settings
    if not settings.voice.record_dir:
        return []
    folder = settings.resolve(settings.voice.record_dir)
    return [p.read_text(encoding="utf-8").rstrip("\n").split("\t", 2)[-1] for p in sorted(folder.glob("*.txt"))]


def _voice_says(text: str, **want) -> Callable[[UiDriver], str | None]:
    """The voice is on and says `text` (where it speaks into files), and the app is as `want` says."""
    expect = _expect(**want)

    def check(d: UiDriver) -> str | None:
        voice = d.app.voice
        if voice is None or not voice.on or not d.app.voice_on:
            return "voice is not on"
        if d.app.settings.voice.record_dir:
            try:
                d.wait_for(lambda: voice.idle(0) and any(text in line for line in _said(d)), timeout=30,
                           what=f"the voice saying {text!r}")
            except AssertionError as exc:
                return f"{exc}; said: {_said(d)[-4:]}"
        if voice.unavailable:
            return f"voice unavailable: {voice.unavailable}"
        return expect(d) if want else None
    return check


def _open_tile(key: str) -> Callable[[UiDriver], None]:
    return lambda d: d.tap_tile(key)


def _end_visit(d: UiDriver) -> None:
    d.app.end_visit("home")
    d.pump()


def _voice_off(d: UiDriver) -> str | None:
    """The visit ended: voice is off again and at the default volume for the next citizen (ADA 707.5)."""
    voice = d.app.voice
    if d.app.voice_on or voice.on:
        return "voice is still on after the visit"
    if voice.volume != d.app.settings.voice.volume:
        return f"volume {voice.volume}, expected the default {d.app.settings.voice.volume}"
    return None


# voice guidance (docs/accessibility.md): turned on on the home screen, it reads the home screen and then
# the guides' first screen; the visit's end turns it off again for the next citizen
FLOWS["voice"] = [
    Step("on", _tap("home.voice_key"), _voice_says("欢迎使用", screen="home")),
    Step("guides", _open_tile("guides"), _voice_says("办事指南")),
    Step("visit-ends", _end_visit, _voice_off),
]

FLOWS["idle"] = [
    Step("warning", _touch_then_idle_out, _check_warning),
    Step("more-time", _tap("idle.more_time"), _expect(warning_open=False, phase=Phase.ACTIVE)),
    Step("en-warning", lambda d: (_tap("header.lang_en")(d), _idle_out(d)), _check_warning),
    Step("reset", _countdown_out,
         _expect(screen="home", lang="zh_CN", elder=False, warning_open=False, phase=Phase.HOME)),
]
