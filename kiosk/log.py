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
    if to_journal(sys.stderr) and os.path.exists(JOURNAL_SOCKET):
        # journald's own protocol: the priority and structured fields (KIOSK_ID, DEVICE, FLOW, ...)
        handler = JournalHandler(JOURNAL_SOCKET)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    elif to_journal(sys.stderr):
        # journald adds its own timestamps, and reads each line's priority from its <N> prefix
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JournalFormatter("%(levelname)s %(name)s: %(message)s"))
    else:   # a terminal or a file: the time on each line
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._kiosk = True
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger(WIRE).setLevel(logging.DEBUG if os.environ.get("KIOSK_WIRE_LOG") == "1" else logging.WARNING)


def to_journal(stream) -> bool:
    """True when `stream` is connected to the systemd journal: systemd names the journal stream it
    gave the service in $JOURNAL_STREAM as DEVICE:INODE (systemd.exec(5)); a stream redirected
    elsewhere (a pipe, a file) keeps the variable but is not that one."""
    named = os.environ.get("JOURNAL_STREAM", "")
    try:
        dev, ino = (int(x) for x in named.split(":"))
        st = os.fstat(stream.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (dev, ino)


def syslog_priority(levelno: int) -> int:
    """The syslog priority of a logging level: 2 critical, 3 error, 4 warning, 6 info, 7 debug."""
    for floor, priority in ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6)):
        if levelno >= floor:
            return priority
    return 7


class JournalFormatter(logging.Formatter):
    """Each line prefixed with its record's syslog priority (`<4>` for a warning), which journald reads
    from a service's standard error (sd-daemon(3)): `journalctl -p warning` then shows the kiosk's
    warnings. Every line of a record (a traceback too) carries the prefix, as journald takes each
    line as an entry of its own."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{syslog_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines() or [""])


JOURNAL_SOCKET = "/run/systemd/journal/socket"
# record attributes (logging's `extra=`) sent as journal fields, and the field each becomes
RECORD_FIELDS = {"device": "DEVICE", "flow": "FLOW", "transaction_id": "TRANSACTION_ID"}
_kiosk_id: str | None = None


def set_kiosk_id(kiosk_id: str | None) -> None:
    """The kiosk's id, sent with every journal entry as KIOSK_ID once the config is read."""
    global _kiosk_id
    _kiosk_id = kiosk_id


def journal_fields(fields: dict[str, str]) -> bytes:
    """journald's native datagram: KEY=value lines; a value with a newline as KEY, its length (64-bit
    little-endian) and its bytes (systemd's "Native Journal Protocol")."""
    out = bytearray()
    for key, value in fields.items():
        data = value.encode("utf-8", "replace")
        if b"\n" in data:
            out += key.encode() + b"\n" + len(data).to_bytes(8, "little") + data + b"\n"
        else:
            out += key.encode() + b"=" + data + b"\n"
    return bytes(out)


class JournalHandler(logging.Handler):
    """Log records to journald over its socket, each with PRIORITY, SYSLOG_IDENTIFIER, LOGGER, KIOSK_ID
    and, where the record carries them, DEVICE, FLOW and TRANSACTION_ID: `journalctl -p warning
    KIOSK_ID=hall-03-k07 DEVICE=locker`. What cannot be sent (no journal, a record over the datagram
    limit) goes to standard error instead, with its priority prefix. The redacting filter runs first, so
    no field carries an ID number, a phone number or the name of the person in session."""

    def __init__(self, path: str = JOURNAL_SOCKET):
        super().__init__()
        import socket

        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.fallback = JournalFormatter("%(levelname)s %(name)s: %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = {"MESSAGE": self.format(record), "PRIORITY": str(syslog_priority(record.levelno)),
                      "SYSLOG_IDENTIFIER": "kiosk", "LOGGER": record.name}
            if _kiosk_id:
                fields["KIOSK_ID"] = _kiosk_id
            for attr, key in RECORD_FIELDS.items():
                value = getattr(record, attr, None)
                if value not in (None, ""):
                    fields[key] = redact(str(value))
            try:
                self.sock.sendto(journal_fields(fields), self.path)
            except OSError:
                sys.stderr.write(self.fallback.format(record) + "\n")
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        self.sock.close()
        super().close()


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
