"""Citizen-facing text in the kiosk's languages (gettext), switched live.

Source strings (msgids) are English; `kiosk/locale/<lang>/LC_MESSAGES/kiosk.po`
holds each language, zh_CN first. The .po files are compiled to .mo files when
the kiosk is set up (`make setup`, which runs `python -m kiosk.i18n compile`)
and when its wheel is built (`setup.py`); the .mo files are not in git. At run
time only the standard library reads them, and dates are written from the
tables below, so the UI process never loads Babel and its CLDR data.

Where the .po is there (a source tree), a .mo older than its .po is refused
with the command that fixes it, as is a missing one: the UI never shows text
that differs from the catalogs without saying so. An installed kiosk carries
the .mo files only, compiled when its wheel was built.

`set_language()` tells every listener, and the UI re-renders each visible
string from `_()`.
"""
from __future__ import annotations

import datetime as _dt
import gettext
import os
import sys
import threading
from pathlib import Path
from typing import Callable

LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"
DOMAIN = "kiosk"
# every catalog the package carries: the kiosk's citizen-facing text, the platform's console
# (kiosk/central/console/) and the `kiosk` command line's (kiosk/commands/_text.py), each compiled from its own .po
DOMAINS = (DOMAIN, "console", "cli")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
COMPILE_COMMAND = ("`make setup` in the source tree (it runs `python -m kiosk.i18n compile`); "
                   "on an installed kiosk, scripts/install-kiosk.sh again")

# what the language switch shows for each language: its own name, in itself
NATIVE_NAMES = {"zh_CN": "中文", "en": "English"}


class LanguageError(ValueError):
    pass


class CatalogError(RuntimeError):
    """A compiled catalog (.mo) is missing or older than its .po."""


def _known(lang: str) -> str:
    if lang not in LANGUAGES:
        raise LanguageError(f"unknown language {lang!r}; the kiosk speaks {', '.join(LANGUAGES)}")
    return lang


def po_path(lang: str, locale_dir: Path | None = None, domain: str = DOMAIN) -> Path:
    return (locale_dir or LOCALE_DIR) / lang / "LC_MESSAGES" / f"{domain}.po"


def mo_path(lang: str, locale_dir: Path | None = None, domain: str = DOMAIN) -> Path:
    return po_path(lang, locale_dir, domain).with_suffix(".mo")


def _newer(po: Path, mo: Path) -> bool:
    """The .po was changed after its .mo was compiled (False where no .po is shipped)."""
    return po.exists() and po.stat().st_mtime_ns > mo.stat().st_mtime_ns


def checked_mo(lang: str, domain: str = DOMAIN) -> Path:
    """The .mo of `lang`; CatalogError, naming the file and the fix, if it is missing or stale."""
    mo, po = mo_path(_known(lang), domain=domain), po_path(lang, domain=domain)
    if not mo.exists():
        raise CatalogError(f"{mo} is missing: compile the catalogs with {COMPILE_COMMAND}")
    if _newer(po, mo):
        raise CatalogError(f"{mo} is older than {po.name} beside it: "
                           f"compile the catalogs again with {COMPILE_COMMAND}")
    return mo


def check_catalogs() -> None:
    """Every language's .mo is there and current: checked when the UI starts, so a missing
    catalog stops the start with its name rather than a visit at the language switch."""
    for lang in LANGUAGES:
        checked_mo(lang)


_catalogs: dict[str, gettext.GNUTranslations] = {}
_lock = threading.Lock()


def catalog(lang: str) -> gettext.GNUTranslations:
    """The compiled catalog of one language (its .mo, read once per process)."""
    with _lock:
        if lang not in _catalogs:
            with checked_mo(lang).open("rb") as f:
                _catalogs[lang] = gettext.GNUTranslations(f)
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


def on_language_change(fn: Callable[[str], None]) -> Callable[[], None]:
    """`fn(lang)` on each change of language; returns what takes it away again (`remove_listener`)."""
    if fn not in _listeners:
        _listeners.append(fn)
    return lambda: remove_listener(fn)


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


# CLDR's full dates (what Babel writes with format="full"), held to Babel's output by
# tests/test_i18n.py; the names run Monday first, as date.weekday() counts
_ZH_WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")
_FULL_DATE: dict[str, Callable[[_dt.date], str]] = {
    "zh_CN": lambda d: f"{d.year}年{d.month}月{d.day}日{_ZH_WEEKDAYS[d.weekday()]}",
    "en": lambda d: f"{_EN_WEEKDAYS[d.weekday()]}, {_EN_MONTHS[d.month - 1]} {d.day}, {d.year}",
}


def format_date(day: _dt.date, lang: str | None = None) -> str:
    """The full date as the language writes it: 2026年11月22日星期日 / Sunday, November 22, 2026."""
    return _FULL_DATE[_known(lang or _language)](day)


def format_clock(moment: _dt.datetime | _dt.time) -> str:
    """24-hour wall-clock time, 09:05 (both languages; halls run on 24-hour time)."""
    return moment.strftime("%H:%M")


def compile_catalogs(langs: tuple[str, ...] | list[str] = LANGUAGES, *, out_dir: Path | None = None,
                     only_stale: bool = False) -> list[Path]:
    """Compile each language's .po files (one per domain) to their .mo (in `out_dir`, by default beside the
    .po); the .mo files written. A set-up and build step: it needs Babel, which the UI never loads."""
    try:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po
    except ImportError as exc:  # an installed kiosk: its wheel carries the compiled catalogs
        raise CatalogError(f"compiling the catalogs needs Babel ({exc}): run `make setup` in the "
                           "source tree; an installed kiosk's wheel carries them compiled") from exc
    written = []
    for lang, domain in ((lang, domain) for lang in langs for domain in DOMAINS):
        po, mo = po_path(_known(lang), domain=domain), mo_path(lang, out_dir, domain)
        if only_stale and mo.exists() and not _newer(po, mo):
            continue
        with po.open("rb") as f:
            messages = read_po(f, locale=lang, domain=domain)
        mo.parent.mkdir(parents=True, exist_ok=True)
        part = mo.with_name(f".{mo.name}.{os.getpid()}")
        with part.open("wb") as f:
            write_mo(f, messages, use_fuzzy=False)
        part.replace(mo)  # readers see the old file or the new one, never half of one
        written.append(mo)
    return written


def main(argv: list[str] | None = None) -> int:
    """python -m kiosk.i18n compile [LANG ...]: compile the catalogs (all languages by default)."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "compile":
        print(f"usage: python -m kiosk.i18n compile [{' '.join(LANGUAGES)}]", file=sys.stderr)
        return 2
    try:
        for mo in compile_catalogs(args[1:] or LANGUAGES):
            print(f"compiled {mo}")
    except (LanguageError, CatalogError) as exc:
        print(f"kiosk.i18n compile: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
