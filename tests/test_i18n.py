"""Citizen-facing text: the catalogs cover every string the code shows, zh_CN first (kiosk.i18n)."""
import datetime as dt
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from kiosk import i18n

PACKAGE = Path(i18n.__file__).resolve().parent
KV_CALL = re.compile(r'''\b_\(\s*"((?:[^"\\]|\\.)*)"''')


def source_msgids() -> set[str]:
    """Every msgid the code passes to _() or N_(), in Python and in .kv rules."""
    found = {msg for _file, _line, msg, _comments, _ctx in
             extract_from_dir(str(PACKAGE), method_map=[("**.py", "python")],
                              keywords={"_": None, "N_": None, "tr": None})
             if isinstance(msg, str)}
    for kv in PACKAGE.rglob("*.kv"):
        found |= {m.replace('\\"', '"') for m in KV_CALL.findall(kv.read_text(encoding="utf-8"))}
    return found


def catalog_entries(lang: str) -> dict[str, str]:
    with i18n.po_path(lang).open("rb") as f:
        return {m.id: m.string for m in read_po(f, locale=lang) if m.id}


def test_the_code_shows_citizens_some_strings():
    assert "More time" in source_msgids()  # the extraction itself works


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_string_the_code_shows_is_translated(lang):
    entries = catalog_entries(lang)
    missing = sorted(m for m in source_msgids() if not entries.get(m))
    assert not missing, f"{i18n.po_path(lang)} lacks translations for: {missing}"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_catalogs_carry_no_strings_the_code_no_longer_shows(lang):
    stale = sorted(set(catalog_entries(lang)) - source_msgids())
    assert not stale, f"{i18n.po_path(lang)} has entries no code uses: {stale}"


def test_no_compiled_catalog_is_committed_that_could_fall_out_of_step():
    assert not list((PACKAGE / "locale").rglob("*.mo"))


def test_switching_language_changes_the_text_and_tells_listeners():
    heard = []
    i18n.on_language_change(heard.append)
    try:
        i18n.set_language("zh_CN")
        assert i18n._("More time") == "延长时间"
        i18n.set_language("en")
        assert i18n._("More time") == "More time"
        assert heard == ["en"]
    finally:
        i18n.remove_listener(heard.append)
        i18n.set_language(i18n.DEFAULT_LANGUAGE)


def test_unknown_language_is_refused_and_nothing_changes():
    i18n.set_language("zh_CN")
    with pytest.raises(i18n.LanguageError, match="zh_CN, en"):
        i18n.set_language("fr")
    assert i18n.language() == "zh_CN"


def test_dates_read_as_each_language_writes_them():
    day = dt.date(2026, 5, 18)
    assert i18n.format_date(day, "zh_CN") == "2026年5月18日星期一"
    assert i18n.format_date(day, "en") == "Monday, May 18, 2026"


def test_a_date_is_written_once_and_babel_keeps_no_locale_data_for_it():
    from babel import localedata

    i18n.catalog("en")
    day = dt.date(2026, 11, 23)
    first = i18n.format_date(day, "zh_CN")
    assert localedata._cache == {}            # about 4.7 MB for zh_CN and en when kept
    assert i18n.format_date(day, "zh_CN") is first
    assert i18n.format_date(day + dt.timedelta(days=1), "zh_CN") == "2026年11月24日星期二"
    assert (day, "zh_CN") not in i18n._dates  # yesterday's line is let go


def test_the_clock_is_24_hour_in_both_languages():
    assert i18n.format_clock(dt.datetime(2026, 11, 23, 9, 5)) == "09:05"
    assert i18n.format_clock(dt.time(21, 40)) == "21:40"
