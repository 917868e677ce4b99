"""The language of the `kiosk` command line, and its text: the `cli` catalog
(kiosk/locale/<lang>/LC_MESSAGES/cli.po; msgids are the English text).

The language is decided once, when `kiosk.cli.main` starts, before the parser is built (so
`--help` is translated too), from the first of these that names one:

1. $KIOSK_LANG: `zh_CN` or `en` (any other value is passed over);
2. the first non-empty of $LC_ALL, $LC_MESSAGES, $LANG, when it starts with `zh` (zh_CN) or `en`
   (en); `C`, `C.UTF-8`, `POSIX` or another language do not decide;
3. `[kiosk] language` of the config the command will use (--config PATH, else $KIOSK_CONFIG, else
   config/kiosk.toml), read with tomllib and not validated: a config that cannot be read decides
   nothing here, and the command itself then says what is wrong with it;
4. zh_CN.

The command modules mark their text with `_t()` and `ngettext()` (not `_()`, which Babel takes for
the citizen-facing `kiosk` catalog, tests/test_i18n.py). argparse's own text ("usage: ", "error: ",
"the following arguments are required: %s", ...) is looked up in the same catalog: argparse calls
`_()` and `ngettext()` of its own module, which are pointed at this catalog. That, rather than
binding gettext's global text domain, because the global domain takes its language from the
environment ($LANGUAGE, $LC_ALL, ...), which may differ from the language decided here.

The kiosk UI's live language switch (`kiosk.i18n`) is apart from this and unchanged.
"""
from __future__ import annotations

import argparse
import gettext
import os
import re
import textwrap
import tomllib
import unicodedata

from kiosk.i18n import DEFAULT_LANGUAGE, LANGUAGES, mo_path

DOMAIN = "cli"
ENV_LANG = "KIOSK_LANG"
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")

_translations: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"   # until `setup()`: the msgids themselves


def _from_locale(value: str) -> str | None:
    if value.startswith("zh"):
        return "zh_CN"
    if value.startswith("en"):
        return "en"
    return None   # C, C.UTF-8, POSIX, another language


def config_argument(argv: list[str]) -> str | None:
    """The PATH of `--config PATH` (or `--config=PATH`) before the command word, as argparse reads it."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--config":
            return argv[i + 1] if i + 1 < len(argv) else None
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
        if not arg.startswith("-"):
            return None   # the command word: what follows is the command's
        i += 1
    return None


def _configured_language(argv: list[str], environ) -> str | None:
    from kiosk.config import DEFAULT_CONFIG, ENV_CONFIG

    path = config_argument(argv) or environ.get(ENV_CONFIG) or DEFAULT_CONFIG
    try:
        with open(path, "rb") as f:
            lang = tomllib.load(f).get("kiosk", {}).get("language")
    except Exception:   # missing, unreadable, not TOML, not a table: the command itself says so
        return None
    return lang if lang in LANGUAGES else None


def choose_language(argv: list[str], environ=None) -> str:
    """The language of this run of `kiosk ARGV` (the rule of the module's docstring)."""
    environ = os.environ if environ is None else environ
    chosen = environ.get(ENV_LANG, "")
    if chosen in LANGUAGES:
        return chosen
    for name in LOCALE_VARIABLES:
        value = environ.get(name)
        if value:
            lang = _from_locale(value)
            if lang:
                return lang
            break   # the first one set speaks for the locale, as the C library reads them
    return _configured_language(argv, environ) or DEFAULT_LANGUAGE


def load(lang: str) -> gettext.NullTranslations:
    """The compiled cli catalog of `lang`; without one (not compiled yet), the English msgids."""
    try:
        with mo_path(lang, domain=DOMAIN).open("rb") as f:
            return gettext.GNUTranslations(f)
    except OSError:
        return gettext.NullTranslations()


def setup(argv: list[str], environ=None) -> str:
    """Decide the language of this run and point the command modules' and argparse's text at it."""
    global _translations, _language
    _language = choose_language(argv, environ)
    _translations = load(_language)
    argparse._ = _translations.gettext
    argparse.ngettext = _translations.ngettext
    from kiosk import config

    config.translate = _translations.gettext   # the config's own messages (it cannot import this module)
    return _language


def _columns(text: str) -> int:
    """The terminal columns `text` takes: two for each wide (Chinese) character."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


# a line never starts with closing punctuation, nor ends with opening punctuation
_CLOSING, _OPENING = set("，。、；：？！）》」』】…,.;:?!)"), set("（《「『【(")
_TOKEN = re.compile(r"\s+|[^\s\u2e80-\u9fff\u3000-\u303f\uff00-\uffef…]+|.")


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` terminal columns. English text as argparse wraps it
    (textwrap); Chinese, which has no spaces, between any two characters, by the columns it takes."""
    if _columns(text) == len(text):
        return textwrap.wrap(text, width)
    tokens: list[str] = []
    for token in _TOKEN.findall(text):
        if tokens and not token.isspace() and (token[0] in _CLOSING or tokens[-1][-1] in _OPENING):
            tokens[-1] += token
        else:
            tokens.append(token)
    lines, line, space = [], "", False
    for token in tokens:
        if token.isspace():
            space = bool(line)
            continue
        piece = (" " if space else "") + token
        if line and _columns(line + piece) > width:
            lines.append(line)
            line = token
        else:
            line += piece
        space = False
    return lines + ([line] if line else [])


class HelpFormatter(argparse.HelpFormatter):
    """argparse's, with Chinese help wrapped by the columns it takes on a terminal (`wrap`)."""

    def _split_lines(self, text, width):
        return wrap(self._whitespace_matcher.sub(" ", text).strip(), width)

    def _fill_text(self, text, width, indent):
        text = self._whitespace_matcher.sub(" ", text).strip()
        return "\n".join(indent + line for line in wrap(text, width - len(indent)))


class ArgumentParser(argparse.ArgumentParser):
    """The command line's parser: its help wrapped by `HelpFormatter`, as are its sub-commands' (argparse
    makes them of the parser's own class)."""

    def __init__(self, *args, formatter_class=HelpFormatter, **kwargs):
        super().__init__(*args, formatter_class=formatter_class, **kwargs)


def language() -> str:
    return _language


def _t(message: str) -> str:
    """`message` (an English msgid) in the command line's language."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations.ngettext(singular, plural, n)
