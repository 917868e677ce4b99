"""The voice guidance of the UI process (kiosk/core/voice.py), over the engine `[voice] engine` names."""
from __future__ import annotations

import importlib

from kiosk.config import Settings
from kiosk.core.session import VisitorSession
from kiosk.core.voice import Voice
from kiosk.hardware.headset import HeadsetJack
from kiosk.hardware.speech import EspeakNg, SpeechEngine, SpeechUnavailable


def engine_maker(settings: Settings):
    """What makes the engine, the first time voice is used (no process or model before that)."""
    v = settings.voice
    record_dir = settings.resolve(v.record_dir) if v.record_dir else None

    def make() -> SpeechEngine:
        if v.engine == "espeak-ng":
            return EspeakNg(rate_wpm=v.rate_wpm, record_dir=record_dir)
        module, _, name = v.engine.partition(":")
        try:
            engine_class = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as e:
            raise SpeechUnavailable(f"[voice] engine = {v.engine!r} cannot be loaded ({e}): install the plug-in "
                                    f"or set engine = \"espeak-ng\"") from e
        return engine_class(rate_wpm=v.rate_wpm, record_dir=record_dir)

    return make


def make(settings: Settings, session: VisitorSession) -> Voice:
    """The voice, back to its defaults whenever a visit is wiped; on while a headset is in the jack
    `[voice] headset_jack` names (kiosk/hardware/headset.py)."""
    jack = HeadsetJack(settings.voice.headset_jack) if settings.voice.headset_jack else None
    voice = Voice(engine_maker(settings), on_by_default=settings.voice.on_by_default, volume=settings.voice.volume,
                  headset=(lambda: jack.plugged) if jack is not None else None)
    if jack is not None:
        jack.start(voice.headset_changed)    # reads the jack now, then follows it on its own thread
        voice.closes_with(jack.close)
        if jack.plugged:
            voice.headset_changed(True)
    session.on("wipe", lambda _reason: voice.end_of_visit())
    return voice
