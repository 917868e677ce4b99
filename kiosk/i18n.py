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

from babel import Locale, localedata
from babel.dates import format_date as _babel_date
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
            forget_locale_data()  # read_po loaded the language's CLDR data for its plural rule
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


# the full dates already written, today's only: {(day, lang): text}
_dates: dict[tuple[_dt.date, str], str] = {}
_dates_lock = threading.Lock()


def format_date(day: _dt.date, lang: str | None = None) -> str:
    """The full date as the language writes it: 2026年11月22日星期日 / Sunday, November 22, 2026.

    Babel writes it from CLDR, and keeps every locale it loaded for the life of the
    process: 4.7 MB for zh_CN and en (with their parents), for one line on the home
    screen that changes once a day. The line is kept instead, and Babel's data let go
    once it is written (`forget_locale_data`); the next day, or the other language,
    loads it again for a few milliseconds.
    """
    lang = lang or _language
    with _dates_lock:
        text = _dates.get((day, lang))
        if text is None:
            text = _babel_date(day, format="full", locale=Locale.parse(lang))
            for old in [k for k in _dates if k[0] != day]:
                del _dates[old]
            _dates[(day, lang)] = text
            forget_locale_data()
    return text


def forget_locale_data() -> None:
    """Let go of the CLDR data Babel has loaded (its cache; it loads what it needs again)."""
    with localedata._cache_lock:
        localedata._cache.clear()


def format_clock(moment: _dt.datetime | _dt.time) -> str:
    """24-hour wall-clock time, 09:05 (both languages; halls run on 24-hour time)."""
    return moment.strftime("%H:%M")
