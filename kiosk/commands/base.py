"""What every `kiosk` command shares: exit statuses, the handler's context, `--json`.

Here rather than in kiosk/cli.py so that a command module never imports the command line that
imports it (no import circle between kiosk/cli.py and kiosk/commands/).
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from typing import Any, Callable

from kiosk import config
from kiosk.commands._text import _t
from kiosk.config import Settings
from kiosk.store import Store

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@dataclass
class Context:
    """What a command handler gets: parsed arguments, settings loaded on first use, the store."""

    args: argparse.Namespace
    _settings: Settings | None = None
    _store: Store | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from kiosk import log

            self._settings = config.load(self.args.config)
            log.set_kiosk_id(self._settings.kiosk.id)   # journal entries carry it from here on
        return self._settings

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.from_settings(self.settings)
        return self._store

    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    def emit(self, doc: dict, text: str | Callable[[dict], str]) -> None:
        """Print one JSON document with --json, else the text for a person."""
        if self.json:
            print(json.dumps(doc, ensure_ascii=False, indent=None, default=str))
        else:
            print(text(doc) if callable(text) else text)


def positive_int(text: str) -> int:
    """An argparse type: a whole number from 1 (a --limit), with a message naming what was given."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_t("expected a whole number, got {value!r}").format(value=text)) from None
    if value < 1:
        raise argparse.ArgumentTypeError(_t("expected at least 1, got {value}").format(value=value))
    return value


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help=_t("print one JSON document on stdout"))
