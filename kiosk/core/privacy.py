"""Privacy rules of DESIGN.md section 7: masking for screen and paper, keyed hashes, log redaction.

The masks themselves live in the leaf module `kiosk.hardware.masking` (shared with the
card reader driver) and are re-exported here.

A full ID number or name never reaches a log, a screenshot, a receipt or the
outbox. What must be matched later is matched by a keyed hash
(HMAC-SHA256 with the per-deployment key) of the normalised value.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading

from kiosk.hardware.masking import mask_id_number, mask_name, normalise_id_number

# Resident ID (18, last may be X), old 15-digit IDs, HK/Macao/Taiwan permits (same 18-char form),
# foreign permanent resident cards: old [A-Z]{3}\d{12}, 2023 edition starts with 9 (18 chars).
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15}|[A-Z]{3}\d{12})(?![0-9A-Za-z])")


def keyed_hash(key: str | bytes, value: str, purpose: str) -> str:
    """HMAC-SHA256 of a normalised value, hex. `purpose` separates e.g. holders from pickup codes,
    so the same digits never hash alike in two places."""
    k = key.encode() if isinstance(key, str) else key
    msg = f"{purpose}\x00{value}".encode()
    return hmac.new(k, msg, hashlib.sha256).hexdigest()


def holder_hash(key: str | bytes, id_number: str) -> str:
    return keyed_hash(key, normalise_id_number(id_number), "holder")


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
    return ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)


class RedactingFilter(logging.Filter):
    """Rewrites every record so no ID number or in-session name reaches a handler."""

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
