"""Voice guidance in the real window: a pickup visit with voice on, heard through espeak-ng's WAV files.

The shared app's config writes what the voice says under its data folder (`[voice] record_dir`,
tests/ui/conftest.py), a WAV file and the text of each line, in order.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.ui.conftest import DEMO_SERVICE
from tests.ui.conftest import deposit_item as _deposit
from tests.ui.conftest import locker_sim as _sim
from tests.ui.conftest import pickup_service


def _lines(folder: Path, after: int) -> list[str]:
    return [p.read_text(encoding="utf-8").rstrip("\n").split("\t", 2)[2]
            for p in sorted(folder.glob("*.txt"))[after:]]


def _rms(wav: Path) -> float:
    stat = subprocess.run(["sox", str(wav), "-n", "stat"], capture_output=True, text=True, check=True).stderr
    return float(re.search(r"RMS\s+amplitude:\s+([\d.]+)", stat).group(1))


def _heard(ui, voice, folder: Path, after: int, text: str) -> None:
    ui.wait_for(lambda: voice.idle(0) and any(text in line for line in _lines(folder, after)),
                timeout=60, what=f"the voice saying {text!r}")


def test_a_pickup_visit_with_voice_on_says_each_step_in_order_and_no_code(pickup_ui, shot):
    ui = pickup_ui
    app = ui.app
    voice = app.voice
    folder = app.settings.resolve(app.settings.voice.record_dir)
    folder.mkdir(parents=True, exist_ok=True)
    before = len(list(folder.glob("*.txt")))
    door, code = _deposit(app, "UI-VOICE-1")
    assert not voice.on and not app.voice_on          # a visit starts with voice off (the default config)

    ui.tap(app.home.ids.voice_key)
    ui.wait_for(lambda: app.voice_on, what="voice on")
    assert app.home.ids.voice_key.text == "语音 · 开"
    _heard(ui, voice, folder, before, "欢迎使用")
    shot("voice-on-home")

    ui.tap_tile("pickup")
    screen = app.screen("pickup")
    ui.wait_for(lambda: screen.panels.current == "code", what="the keypad")
    _heard(ui, voice, folder, before, "请输入短信中的取件码")
    flow = pickup_service(app).pickup
    for ch in code:
        typed = len(flow.digits)
        ui.tap_key(screen.ids.keypad, ch)
        ui.wait_for(lambda: len(flow.digits) > typed or flow.step.value != "code", what=f"key {ch}")
    ui.wait_for(lambda: screen.panels.current == "door_open", what="the door open")
    _heard(ui, voice, folder, before, "请取出您的证照")
    _sim().close_door(door)
    ui.wait_for(lambda: screen.panels.current == "done", what="done")
    _heard(ui, voice, folder, before, "取件完成")
    said = _lines(folder, before)

    # in the order the screens came, each title before its instructions
    def at(text):
        return next(i for i, line in enumerate(said) if text in line)

    assert at("欢迎使用") < at("证照领取") < at("请输入短信中的取件码") < at("柜门已打开") < at("请取出您的证照") \
        < at("取件完成"), said
    # the step after the title, said with a pause where the screen shows a slash
    assert at("证照领取") < at("第 1 步，共 3 步") < at("请输入短信中的取件码"), said
    assert not any("/" in line for line in said), said
    # the door is said as a number; the pickup code never, neither whole nor digit by digit
    assert any(f"{door} 号柜门" in line or f"{door}号柜门" in line for line in said), said
    flat = [line.replace(" ", "") for line in said]
    assert not any(code in line for line in flat), said
    # every line is audible audio
    wavs = sorted(folder.glob("*.wav"))[before:]
    assert len(wavs) == len(said)
    assert all(_rms(w) > 0.02 for w in wavs)

    # the visit ends: voice and volume back to how a visit starts (ADA 707.5)
    voice.louder()
    app.end_visit("done")
    ui.wait_for(lambda: app.screens.current == "home" and not app.voice_on, what="home, voice off again")
    assert (voice.on, voice.volume) == (False, app.settings.voice.volume)


def test_voice_on_follows_every_service_screen_through_a_language_switch(ui):
    """With voice on, each service's first screen is read in the language shown; switching the language
    reads it again in the other one, and nothing of the reader breaks a screen (the tour's flows run
    with voice off, so this walks them with it on)."""
    app = ui.app
    voice = app.voice
    folder = app.settings.resolve(app.settings.voice.record_dir)
    folder.mkdir(parents=True, exist_ok=True)
    ui.tap(app.home.ids.voice_key)
    ui.wait_for(lambda: app.voice_on, what="voice on")
    try:
        for service in app.services_on_home():
            if service.key == DEMO_SERVICE:   # the tests' stand-in tile: a bare label, nothing to read
                continue
            before = len(list(folder.glob("*.txt")))
            ui.tap_tile(service.key)
            ui.wait_for(lambda: app.screens.current != "home", what=f"the {service.key} screen")
            ui.wait_for(lambda: voice.idle(0) and len(_lines(folder, before)) > 0, timeout=60,
                        what=f"the {service.key} screen said")
            said = len(_lines(folder, before))
            ui.tap(app.header.ids.lang_en)
            ui.wait_for(lambda: voice.idle(0) and any(not any("\u4e00" <= ch <= "\u9fff" for ch in line)
                                                      for line in _lines(folder, before)[said:]),
                        timeout=60, what=f"the {service.key} screen said in English")
            ui.tap(app.header.ids.lang_zh_CN)
            app.end_visit("home")
            ui.wait_for(lambda: app.screens.current == "home" and not app.voice_on, what="home")
            ui.tap(app.home.ids.voice_key)
            ui.wait_for(lambda: app.voice_on, what="voice on again")
    finally:
        app.end_visit("home")
        ui.pump()


def test_the_keypads_star_turns_voice_on_and_off_from_any_screen(ui):
    app = ui.app
    app.show("guides")
    ui.pump(3)
    assert not app.voice_on
    ui.key(268)                      # the keypad's *
    ui.wait_for(lambda: app.voice_on and app.voice.on, what="voice on by the keypad's *")
    ui.key(282)                      # F1
    ui.wait_for(lambda: not app.voice_on and not app.voice.on, what="voice off by F1")
    app.end_visit("home")
    ui.pump()


def test_the_reader_says_title_step_instructions_then_wait(ui):
    """What a screen with a step and a wait gives the voice, in the order it is said (the documents' and
    fees' card and payment steps have both): the step line without its slash, the wait line last."""
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.screenmanager import Screen

    from kiosk.screens.steps import StepLine, WaitLine
    from kiosk.screens.voice import shown_lines
    from kiosk.screens.widgets import Body, Headline, forget_widget_tree

    screen = Screen(name="voice-sample")
    column = BoxLayout(orientation="vertical")
    # added out of reading order: the reader orders by kind, not by the tree
    column.add_widget(WaitLine(seconds=45))
    column.add_widget(Body(text="请将身份证放在读卡区。"))
    column.add_widget(StepLine(step=[2, 4]))
    column.add_widget(Headline(text="文书打印"))
    column.add_widget(StepLine(step=[]))      # a state that is no step: nothing said for it
    screen.add_widget(column)
    ui.app.screens.add_widget(screen)
    ui.app.screens.current = "voice-sample"
    ui.pump(4)
    try:
        assert shown_lines(screen) == ["文书打印", "第 2 步，共 4 步", "请将身份证放在读卡区。", "最长需要 45 秒。"]
        ui.tap(ui.app.header.ids.lang_en)
        ui.pump(4)
        assert shown_lines(screen)[1::2] == ["Step 2 of 4", "This takes at most 45 seconds."]
    finally:
        ui.tap(ui.app.header.ids.lang_zh_CN)
        ui.app.screens.current = "home"
        ui.app.screens.remove_widget(screen)
        forget_widget_tree(screen)
        ui.pump()
