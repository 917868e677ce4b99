"""Speech output: a text-to-speech engine that runs on the kiosk, without network.

`SpeechEngine` is what the kiosk's voice guidance (kiosk/core/voice.py) speaks through: `say()`
speaks one line and returns when it has been spoken or `stop()` cut it short. The default is
espeak-ng (Debian's `espeak-ng`), its Mandarin voice reading the characters by their pinyin and
its English voice; a hall with a better engine names its own class in `[voice] engine`
(`package.module:Class`, made with the same keyword arguments as `EspeakNg`).

`EspeakNg(record_dir=...)` writes each line to a numbered WAV file with the text beside it
instead of playing it: how the tests hear what a visit said, and how a technician checks the
voice on a kiosk without speakers.
"""
from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

# espeak-ng's voices by the UI's language: Mandarin reading Chinese text by its pinyin (the plain
# `cmn` voice reads the pinyin of many characters with English letters), and English
VOICES = {"zh_CN": "cmn-latn-pinyin", "en": "en"}
ESPEAK_PACKAGE = "espeak-ng"


class SpeechUnavailable(RuntimeError):
    """The engine cannot speak here (not installed, no voice for the language)."""


class SpeechEngine(Protocol):
    def say(self, text: str, language: str, volume: int) -> None:
        """Speak `text` in `language` ("zh_CN" or "en") at `volume` percent; returns when it has
        been spoken, or at once when `stop()` was called meanwhile."""

    def stop(self) -> None:
        """Cut short what is being spoken (from any thread)."""

    def close(self) -> None:
        """Stop and give back what the engine holds."""


class EspeakNg:
    """espeak-ng as a child process per line, so that a line is cut short by ending its process."""

    def __init__(self, *, rate_wpm: int = 150, record_dir: Path | None = None, binary: str = "espeak-ng"):
        found = shutil.which(binary)
        if found is None:
            raise SpeechUnavailable(f"{binary} is not installed: install the Debian package {ESPEAK_PACKAGE} "
                                    f"(make setup does) or set [voice] engine to another engine")
        self.binary = found
        self.rate_wpm = rate_wpm
        self.record_dir = Path(record_dir) if record_dir is not None else None
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._count = 0
        if self.record_dir is not None:
            self.record_dir.mkdir(parents=True, exist_ok=True)
            self._count = len(list(self.record_dir.glob("*.wav")))

    def _command(self, text: str, language: str, volume: int) -> list[str]:
        try:
            voice = VOICES[language]
        except KeyError:
            raise SpeechUnavailable(f"no espeak-ng voice for the language {language!r}; "
                                    f"known: {', '.join(VOICES)}") from None
        # espeak-ng's amplitude runs 0-200 with 100 its normal loudness
        amplitude = max(0, min(200, round(volume * 2)))
        cmd = [self.binary, "-v", voice, "-s", str(self.rate_wpm), "-a", str(amplitude)]
        if self.record_dir is not None:
            self._count += 1
            stem = self.record_dir / f"{self._count:04d}"
            stem.with_suffix(".txt").write_text(f"{language}\t{volume}\t{text}\n", encoding="utf-8")
            cmd += ["-w", str(stem.with_suffix(".wav"))]
        return cmd + ["--", text]

    def say(self, text: str, language: str, volume: int) -> None:
        with self._lock:
            cmd = self._command(text, language, volume)
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE)
            proc = self._proc
        _out, err = proc.communicate()
        with self._lock:
            if self._proc is proc:
                self._proc = None
        if proc.returncode not in (0, -15) and err:
            log.warning("espeak-ng failed (exit %s): %s", proc.returncode, err.decode(errors="replace").strip()[:200])

    def stop(self) -> None:
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()

    def close(self) -> None:
        self.stop()


__all__ = ["ESPEAK_PACKAGE", "EspeakNg", "SpeechEngine", "SpeechUnavailable", "VOICES"]
