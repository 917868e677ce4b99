"""Citizen-facing text: the catalogs cover every string the code shows, zh_CN first (kiosk.i18n).

Babel is here to check: the UI itself reads compiled .mo files with the standard library.
"""
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.dates import format_date as babel_format_date
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from kiosk import i18n
from tests.conftest import ROOT

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


def test_compiled_catalogs_are_built_not_committed():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(["git", "ls-files", "kiosk/locale"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    assert tracked and not [f for f in tracked if f.endswith(".mo")]
    ignored = subprocess.run(["git", "check-ignore", "-q", str(i18n.mo_path("zh_CN"))], cwd=ROOT)
    assert ignored.returncode == 0


@pytest.fixture
def locale_copy(tmp_path, monkeypatch) -> Path:
    """The .po files alone, in a locale folder the module reads instead of its own."""
    for lang in i18n.LANGUAGES:
        i18n.po_path(lang, tmp_path).parent.mkdir(parents=True)
        for domain in i18n.DOMAINS:
            shutil.copy2(i18n.po_path(lang, domain=domain), i18n.po_path(lang, tmp_path, domain))
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    monkeypatch.setattr(i18n, "_catalogs", {})
    return tmp_path


def test_the_compile_command_writes_each_mo_that_gettext_then_reads(locale_copy, capsys):
    assert i18n.main(["compile"]) == 0
    assert capsys.readouterr().out.count("compiled ") == len(i18n.LANGUAGES) * len(i18n.DOMAINS)
    assert i18n.catalog("zh_CN").gettext("More time") == "延长时间"
    assert i18n.catalog("en").gettext("More time") == "More time"
    assert i18n.main([]) == 2 and i18n.main(["compile", "fr"]) == 1


def test_a_missing_catalog_stops_the_start_naming_the_file_and_the_fix(locale_copy):
    with pytest.raises(i18n.CatalogError) as err:
        i18n.check_catalogs()
    assert str(i18n.mo_path("zh_CN", locale_copy)) in str(err.value)
    assert "is missing" in str(err.value) and "make setup" in str(err.value)
    assert "python -m kiosk.i18n compile" in str(err.value)


def test_a_catalog_older_than_its_po_is_refused_until_compiled_again(locale_copy):
    i18n.compile_catalogs()
    earlier = i18n.po_path("en", locale_copy).stat().st_mtime_ns - 1_000_000_000
    os.utime(i18n.mo_path("en", locale_copy), ns=(earlier, earlier))  # the .po changed since
    with pytest.raises(i18n.CatalogError, match=r"en/LC_MESSAGES/kiosk.mo is older than kiosk.po.*make setup"):
        i18n.catalog("en")
    assert i18n.compile_catalogs(only_stale=True) == [i18n.mo_path("en", locale_copy)]
    assert i18n.catalog("en").gettext("More time") == "More time"


def test_the_wheel_carries_the_mo_and_leaves_the_po_out():
    # pip unpacks kiosk.po after kiosk.mo: with both, an installed kiosk's .mo would look stale
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = [p for globs in config["tool"]["setuptools"]["package-data"].values() for p in globs]
    assert "*.mo" in shipped and not [p for p in shipped if p.endswith(".po")]


def test_an_installed_kiosk_carries_no_po_and_trusts_its_mo(locale_copy):
    i18n.compile_catalogs()
    for lang in i18n.LANGUAGES:
        i18n.po_path(lang, locale_copy).unlink()
    i18n.check_catalogs()
    assert i18n.catalog("zh_CN").gettext("More time") == "延长时间"


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


EDGE_DAYS = [dt.date.min, dt.date(999, 12, 31), dt.date(1000, 1, 1), dt.date(2000, 2, 29), dt.date.max]


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_dates_read_exactly_as_babel_writes_them_every_day_of_twelve_years(lang):
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=n) for n in range(12 * 366)] + EDGE_DAYS
    differ = [(d, i18n.format_date(d, lang)) for d in days
              if i18n.format_date(d, lang) != babel_format_date(d, format="full", locale=lang)]
    assert not differ, differ[:5]


@given(day=st.dates(), lang=st.sampled_from(i18n.LANGUAGES))
def test_any_date_reads_exactly_as_babel_writes_it(day, lang):
    assert i18n.format_date(day, lang) == babel_format_date(day, format="full", locale=lang)


def test_a_date_in_a_language_the_kiosk_does_not_speak_is_refused():
    with pytest.raises(i18n.LanguageError):
        i18n.format_date(dt.date(2026, 5, 18), "fr")


def test_the_ui_reads_its_catalogs_and_writes_dates_without_loading_babel():
    script = (
        "import datetime as dt, sys\n"
        "from kiosk import i18n\n"
        "from kiosk.screens.lang import tr\n"
        "i18n.check_catalogs()\n"
        "for lang in i18n.LANGUAGES:\n"
        "    i18n.set_language(lang)\n"
        "    print(tr('More time'), '|', i18n.format_date(dt.date(2026, 5, 18)))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'babel'))\n")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["延长时间 | 2026年5月18日星期一", "More time | Monday, May 18, 2026", "[]"]


def test_the_clock_is_24_hour_in_both_languages():
    assert i18n.format_clock(dt.datetime(2026, 11, 23, 9, 5)) == "09:05"
    assert i18n.format_clock(dt.time(21, 40)) == "21:40"
