"""The console's catalog (kiosk/locale/<lang>/LC_MESSAGES/console.po): which msgids its templates and code use.

    python -m kiosk.central.console.catalog      # lists the msgids missing from each language's console.po

Babel reads the templates (Jinja2's extractor) and the console's Python (`gettext(...)` and `msg(...)`);
tests/console/test_console_i18n.py holds the catalogs to it. A set-up and test tool: the platform itself
reads the compiled .mo.
"""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def msgids() -> list[str]:
    from babel.messages.extract import extract_from_dir

    found: list[str] = []
    for _file, _line, message, _comments, _ctx in extract_from_dir(
            str(HERE), method_map=[("**.html", "jinja2"), ("**.py", "python")],
            keywords={"_": None, "gettext": None, "msg": None}):
        if isinstance(message, str) and message not in found:
            found.append(message)
    return found


if __name__ == "__main__":
    from babel.messages.pofile import read_po

    from kiosk import i18n

    for lang in i18n.LANGUAGES:
        with i18n.po_path(lang, domain="console").open("rb") as f:
            have = {m.id for m in read_po(f, locale=lang) if m.id and m.string}
        for m in msgids():
            if m not in have:
                print(f"{lang}: {m!r}")
