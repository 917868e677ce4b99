"""Privacy rules of DESIGN.md section 7: masking for screen and paper, keyed hashes, log redaction.

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

# Resident ID (18, last may be X), old 15-digit IDs, HK/Macao/Taiwan permits (same 18-char form),
# foreign permanent resident cards: old [A-Z]{3}\d{12}, 2023 edition starts with 9 (18 chars).
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15}|[A-Z]{3}\d{12})(?![0-9A-Za-z])")


def normalise_id_number(value: str) -> str:
    return value.strip().replace(" ", "").upper()


def mask_id_number(value: str) -> str:
    """`110***********1234`: the first 3 and last 4 characters, a `*` for each hidden one."""
    v = normalise_id_number(value)
    if len(v) <= 7:
        return "*" * len(v)
    return v[:3] + "*" * (len(v) - 7) + v[-4:]


def mask_name(value: str) -> str:
    """`张*`, `欧阳**`: the surname (two characters for known compound surnames), then `*`s.

    Latin-script names (foreign permanent residents) keep their first letter.
    """
    v = value.strip()
    if not v:
        return ""
    if v[0].isascii():
        return v[0] + "*" * (len(v.replace(" ", "")) - 1)
    keep = 2 if v[:2] in COMPOUND_SURNAMES and len(v) > 2 else 1
    return v[:keep] + "*" * (len(v) - keep)


COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离 "
    "澹台 公冶 太史 申屠 端木 闻人 濮阳 南宫 独孤 百里 东郭 西门 呼延 万俟 赫连 拓跋".split()
)


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
