"""Logging: standard logging to stderr (journald under systemd), personal data redacted.

`kiosk.wire` is reserved for device traffic (hex dumps, off unless asked for
with KIOSK_WIRE_LOG=1). The redacting filter sits on the handler, so every
record from every logger passes it, whatever its level or origin: it masks
whatever looks like an ID number, and the name and number of the card holder
in session (`remember_person`, until `forget_people`). DESIGN.md section 7.
"""
from __future__ import annotations

import logging
import os
import sys
import threading

from kiosk.hardware.masking import (ID_NUMBER, MOBILE_NUMBER, mask_id_number, mask_name, mask_phone,
                                   normalise_id_number)

WIRE = "kiosk.wire"


def setup(level: str | int | None = None) -> None:
    level = level or os.environ.get("KIOSK_LOG_LEVEL", "INFO")
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_kiosk", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler._kiosk = True
    # journald adds its own timestamps; a terminal benefits from them
    fmt = "%(levelname)s %(name)s: %(message)s" if os.environ.get("JOURNAL_STREAM") else \
        "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(logging.Formatter(fmt))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger(WIRE).setLevel(logging.DEBUG if os.environ.get("KIOSK_WIRE_LOG") == "1" else logging.WARNING)


class _Secrets:
    """Names and numbers of the card holders currently in session, to scrub from log lines."""

    def __init__(self):
        self._lock = threading.Lock()
        self._values: dict[str, str] = {}

    def add(self, value: str, masked: str) -> None:
        if value and len(value) >= 2:
            with self._lock:
                self._values[value] = masked

    def discard(self, value: str) -> None:
        with self._lock:
            self._values.pop(value, None)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def scrub(self, text: str) -> str:
        with self._lock:
            items = sorted(self._values.items(), key=lambda kv: -len(kv[0]))
        for value, masked in items:
            text = text.replace(value, masked)
        return text


session_secrets = _Secrets()


def remember_person(name: str | None = None, id_number: str | None = None) -> None:
    """Card data of the person at the kiosk: scrubbed from every log line until `forget_people()`."""
    if name:
        session_secrets.add(name.strip(), mask_name(name))
    if id_number:
        session_secrets.add(normalise_id_number(id_number), mask_id_number(id_number))


def forget_people() -> None:
    session_secrets.clear()


def redact(text: str) -> str:
    text = session_secrets.scrub(text)
    text = ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)
    return MOBILE_NUMBER.sub(lambda m: mask_phone(m.group(0)), text)


class RedactingFilter(logging.Filter):
    """Rewrites every record so no ID number, mobile number or in-session name reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not hide the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
