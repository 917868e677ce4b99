"""Citizen-facing text in the kiosk's languages (gettext), switched live.

Source strings (msgids) are English; `kiosk/locale/<lang>/LC_MESSAGES/kiosk.po`
holds each language, zh_CN first. The .po files are compiled in memory with
Babel when first used, so there is no compiled .mo that could fall out of
step with its .po. `set_language()` tells every listener, and the UI
re-renders each visible string from `_()`.
"""
from __future__ import annotations

import datetime as _dt
import gettext
import io
import threading
from pathlib import Path
from typing import Callable

from babel import Locale
from babel.dates import format_date as _babel_date
from babel.dates import format_time as _babel_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"
DOMAIN = "kiosk"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

# what the language switch shows for each language: its own name, in itself
NATIVE_NAMES = {"zh_CN": "中文", "en": "English"}


class LanguageError(ValueError):
    pass


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


_catalogs: dict[str, gettext.GNUTranslations] = {}
_lock = threading.Lock()


def catalog(lang: str) -> gettext.GNUTranslations:
    """The compiled catalog of one language (compiled from its .po once per process)."""
    if lang not in LANGUAGES:
        raise LanguageError(f"unknown language {lang!r}; the kiosk speaks {', '.join(LANGUAGES)}")
    with _lock:
        if lang not in _catalogs:
            with po_path(lang).open("rb") as f:
                po = read_po(f, locale=lang, domain=DOMAIN)
            buf = io.BytesIO()
            write_mo(buf, po, use_fuzzy=False)
            buf.seek(0)
            _catalogs[lang] = gettext.GNUTranslations(buf)
        return _catalogs[lang]


_language = DEFAULT_LANGUAGE
_listeners: list[Callable[[str], None]] = []


def language() -> str:
    return _language


def set_language(lang: str) -> None:
    """Switch every citizen-facing string to `lang`; listeners re-render what is on screen."""
    global _language
    catalog(lang)  # an unknown language fails here, before anything changes
    if lang == _language:
        return
    _language = lang
    for fn in list(_listeners):
        fn(lang)


def on_language_change(fn: Callable[[str], None]) -> None:
    if fn not in _listeners:
        _listeners.append(fn)


def remove_listener(fn: Callable[[str], None]) -> None:
    if fn in _listeners:
        _listeners.remove(fn)


def _(message: str) -> str:
    """`message` (an English msgid) in the current language."""
    return catalog(_language).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalog(_language).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a msgid for extraction where it is translated later (tables of titles)."""
    return message


def format_date(day: _dt.date, lang: str | None = None) -> str:
    """The full date as the language writes it: 2026年11月22日星期日 / Sunday, November 22, 2026."""
    return _babel_date(day, format="full", locale=Locale.parse(lang or _language))


def format_clock(moment: _dt.datetime | _dt.time) -> str:
    """24-hour wall-clock time (both languages; halls run on 24-hour time)."""
    return _babel_time(moment, format="HH:mm", locale=Locale.parse(_language))
