"""The console speaks zh_CN first and en: its catalogs (kiosk/locale/*/LC_MESSAGES/console.po) hold every
msgid its templates and code use, and nothing they no longer use."""
from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from kiosk import i18n
from kiosk.central.console.catalog import msgids


def entries(lang: str) -> dict[str, str]:
    with i18n.po_path(lang, domain="console").open("rb") as f:
        return {m.id: m.string for m in read_po(f, locale=lang) if m.id}


def test_the_extraction_finds_the_templates_and_the_code():
    found = msgids()
    assert "Fleet" in found                       # a template
    assert "Wrong account name or password." in found       # views.py, gettext(...)
    assert any(m.startswith("An auditor's account") for m in found)   # views.py, msg(...)


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_console_string_is_translated_and_none_is_stale(lang):
    have = entries(lang)
    missing = [m for m in msgids() if not have.get(m)]
    stale = sorted(set(have) - set(msgids()))
    assert not missing, f"{i18n.po_path(lang, domain='console')} lacks: {missing}"
    assert not stale, f"{i18n.po_path(lang, domain='console')} has entries nothing uses: {stale}"


def test_chinese_is_chinese():
    zh = entries("zh_CN")
    assert zh["Fleet"] == "终端总览" and zh["Acknowledge"] == "确认"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in zh.values())
