"""Voice guidance (kiosk/core/voice.py) through the real espeak-ng, writing WAV files instead of playing them.

Audio is checked with sox: each line is a WAV file of some length whose loudness is well above silence.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from kiosk.core.voice import VOLUME_MAX, VOLUME_MIN, Voice, speakable
from kiosk.hardware.speech import EspeakNg, SpeechUnavailable

ID_NUMBER = "11010519491231002X"


def recorded(folder: Path) -> list[tuple[str, int, str]]:
    """(language, volume, text) of each line said, in order."""
    out = []
    for txt in sorted(folder.glob("*.txt")):
        language, volume, text = txt.read_text(encoding="utf-8").rstrip("\n").split("\t", 2)
        out.append((language, int(volume), text))
    return out


def loudness(wav: Path) -> tuple[float, float]:
    """(seconds, RMS amplitude) of a WAV file, as sox measures them."""
    stat = subprocess.run(["sox", str(wav), "-n", "stat"], capture_output=True, text=True, check=True).stderr
    seconds = float(re.search(r"Length \(seconds\):\s+([\d.]+)", stat).group(1))
    rms = float(re.search(r"RMS\s+amplitude:\s+([\d.]+)", stat).group(1))
    return seconds, rms


def shipped_config_with(tmp_path: Path, line: str, instead: str) -> Path:
    """config/kiosk.toml as shipped, with one line of its [voice] table changed, written under tmp_path."""
    text = (Path(__file__).resolve().parent.parent / "config" / "kiosk.toml").read_text(encoding="utf-8")
    assert line in text
    path = tmp_path / "kiosk.toml"
    path.write_text(text.replace(line, instead, 1), encoding="utf-8")
    return path


# -- what is said --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, zh, en", [
    ("取件码 123456", "取件码 1 2 3 4 5 6", "取件码 1 2 3 4 5 6"),
    ("您的号码 A012，请稍候", "您的号码 A 0 1 2，请稍候", "您的号码 A 0 1 2，请稍候"),
    ("服务热线 12345", "服务热线 1 2 3 4 5", "服务热线 1 2 3 4 5"),
    ("请从 7 号柜门取走", "请从 7 号柜门取走", "请从 7 号柜门取走"),   # a door number is a number, not a code
    ("应付 ¥1.50", "应付 1元5角", "应付 1 yuan 50 fen"),
    ("共 15.05 元", "共 15元零5分", "共 15 yuan 5 fen"),
    ("¥3.00", "3元", "3 yuan"),
    ("¥0.50", "5角", "50 fen"),
])
def test_codes_are_read_digit_by_digit_and_money_as_an_amount(text, zh, en):
    assert speakable(text, "zh_CN") == zh
    assert speakable(text, "en") == en


@pytest.mark.parametrize("text", [
    "持证人：张*，身份证号：110105**********2X",
    f"身份证号 {ID_NUMBER}",
    "Holder: Z*** San, ID 1101************2X",
])
def test_an_identity_is_never_read_out_masked_or_whole(text):
    for language in ("zh_CN", "en"):
        said = speakable(text, language)
        assert "*" not in said and "张" not in said and "Z" not in said
        assert not re.search(r"\d{4}", said.replace(" ", "")), said


# -- the voice over the real engine --------------------------------------------------------------

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None,
                                  reason="espeak-ng and sox are installed by make setup")


@needs_espeak
def test_each_line_is_spoken_in_order_in_its_language_as_audible_audio(tmp_path):
    voice = Voice(lambda: EspeakNg(record_dir=tmp_path), on_by_default=True, volume=60)
    try:
        voice.screen(["领取证照", "请输入短信中的取件码 123456。"], "zh_CN")
        voice.say(["Door 7 is open."], "en")
        assert voice.idle(timeout=60)
    finally:
        voice.close()
    assert recorded(tmp_path) == [("zh_CN", 60, "领取证照"), ("zh_CN", 60, "请输入短信中的取件码 1 2 3 4 5 6。"),
                                  ("en", 60, "Door 7 is open.")]
    for wav in sorted(tmp_path.glob("*.wav")):
        seconds, rms = loudness(wav)
        assert seconds > 0.3 and rms > 0.02, (wav.name, seconds, rms)


@needs_espeak
def test_the_volume_is_what_the_engine_is_given_and_goes_back_after_the_visit(tmp_path):
    voice = Voice(lambda: EspeakNg(record_dir=tmp_path), on_by_default=False, volume=60)
    try:
        assert not voice.on
        voice.screen(["不说"], "zh_CN")        # voice is off: nothing is said
        voice.set_on(True)
        for _ in range(10):
            voice.louder()
        assert voice.volume == VOLUME_MAX
        voice.screen(["大声"], "zh_CN")
        assert voice.idle(timeout=30)
        voice.end_of_visit()
        assert (voice.on, voice.volume) == (False, 60)
        voice.set_on(True)
        for _ in range(10):
            voice.quieter()
        assert voice.volume == VOLUME_MIN
        voice.screen(["小声"], "zh_CN")
        assert voice.idle(timeout=30)
    finally:
        voice.close()
    assert [(v, t) for _l, v, t in recorded(tmp_path)] == [(100, "大声"), (10, "小声")]
    loud, quiet = (loudness(w)[1] for w in sorted(tmp_path.glob("*.wav")))
    assert loud > 3 * quiet


class HeldEngine:
    """An engine whose every line lasts until the test lets it end (or `stop()` cuts it short), so that
    what the voice drops on a new screen is seen without timing; the real engine is tested above."""

    def __init__(self):
        self.said: list[str] = []
        self.cut: list[str] = []
        self.started = threading.Semaphore(0)
        self._go = threading.Event()
        self._stop = threading.Event()

    def say(self, text, language, volume):
        self.said.append(text)
        self.started.release()
        self._stop.clear()
        while not (self._go.is_set() or self._stop.is_set()):
            self._stop.wait(0.01)
        if self._stop.is_set() and not self._go.is_set():
            self.cut.append(text)
        self._go.clear()

    def finish_line(self):
        self._go.set()

    def stop(self):
        self._stop.set()

    def close(self):
        self.stop()


def test_a_new_screen_cuts_short_the_old_one_and_drops_what_was_queued():
    engine = HeldEngine()
    voice = Voice(lambda: engine, on_by_default=True)
    try:
        voice.screen(["第一屏标题", "第一屏说明", "第一屏更多"], "zh_CN")
        assert engine.started.acquire(timeout=10)
        voice.screen(["第二屏标题"], "zh_CN")
        assert engine.started.acquire(timeout=10)
        engine.finish_line()
        assert voice.idle(timeout=10)
    finally:
        voice.close()
    assert engine.said == ["第一屏标题", "第二屏标题"]
    assert engine.cut == ["第一屏标题"]


def test_turning_voice_off_silences_it_and_the_visit_end_empties_the_queue():
    engine = HeldEngine()
    changes = []
    voice = Voice(lambda: engine, on_by_default=True)
    voice.on_change(lambda: changes.append((voice.on, voice.volume)))
    try:
        voice.screen(["一", "二"], "zh_CN")
        assert engine.started.acquire(timeout=10)
        voice.set_on(False)
        assert voice.idle(timeout=10)
        voice.say(["三"], "zh_CN")            # off: not queued
        voice.set_on(True)
        voice.louder()
        voice.end_of_visit()
        assert voice.idle(timeout=10)
    finally:
        voice.close()
    assert engine.said == ["一"] and engine.cut == ["一"]
    assert changes == [(False, 60), (True, 60), (True, 70), (True, 60)]


def test_a_kiosk_without_the_engine_says_why_once_and_keeps_serving(caplog):
    def missing():
        raise SpeechUnavailable("espeak-ng is not installed: install the Debian package espeak-ng")

    voice = Voice(missing, on_by_default=True)
    try:
        voice.screen(["标题"], "zh_CN")
        assert voice.idle(timeout=10)
        voice.screen(["标题"], "zh_CN")
        assert voice.idle(timeout=10)
    finally:
        voice.close()
    assert voice.unavailable and "espeak-ng" in voice.unavailable
    assert [r.getMessage() for r in caplog.records].count(
        "voice guidance is not available: " + voice.unavailable) == 1


def test_an_engine_not_installed_is_named_with_what_to_do(monkeypatch):
    with pytest.raises(SpeechUnavailable, match="install the Debian package espeak-ng"):
        EspeakNg(binary="espeak-ng-not-here")


def test_a_plug_in_engine_that_cannot_be_loaded_is_named(tmp_path):
    from kiosk import config
    from kiosk.app.voice import engine_maker

    make = engine_maker(config.load(shipped_config_with(tmp_path, 'engine = "espeak-ng"',
                                                        'engine = "no_such.module:Engine"')))
    with pytest.raises(SpeechUnavailable, match=r"no_such\.module:Engine.*cannot be loaded.*espeak-ng"):
        make()


def test_a_headset_plugged_in_turns_voice_on_and_taken_out_back_to_the_default():
    engine = HeldEngine()
    jack = {"plugged": False}
    voice = Voice(lambda: engine, on_by_default=False, headset=lambda: jack["plugged"])
    try:
        assert not voice.on
        jack["plugged"] = True
        voice.headset_changed(True)              # from the jack's thread (kiosk/hardware/headset.py)
        assert voice.on
        voice.set_on(False)                      # the citizen may still turn it off with the headset in
        voice.end_of_visit()
        assert voice.on, "the next visit starts with voice on while the headset is in"
        jack["plugged"] = False
        voice.headset_changed(False)
        assert not voice.on
        voice.end_of_visit()
        assert not voice.on
    finally:
        voice.close()


def test_the_app_follows_the_jack_the_config_names(tmp_path):
    """kiosk/app/voice.py with `[voice] headset_jack` naming a FIFO that carries the kernel's events."""
    import os
    import queue

    from kiosk import config
    from kiosk.app.voice import make
    from kiosk.core.session import VisitorSession
    from kiosk.hardware.headset import plugged_events

    jack = tmp_path / "jack-event"
    os.mkfifo(jack)
    settings = config.load(shipped_config_with(tmp_path, 'headset_jack = ""', f'headset_jack = "{jack}"'))
    assert settings.voice.headset_jack == str(jack)
    voice = make(settings, VisitorSession(idle_timeout_s=60, warning_s=10, extensions=1))
    changed: queue.Queue = queue.Queue()
    voice.on_change(lambda: changed.put(voice.on))
    try:
        assert not voice.on
        w = os.open(jack, os.O_WRONLY)
        os.write(w, plugged_events(True))
        assert changed.get(timeout=10) is True
        os.write(w, plugged_events(False))
        assert changed.get(timeout=10) is False
        os.close(w)
    finally:
        voice.close()
