"""The file gateway, for development and tests: each message becomes one JSON line appended to a file.

    [notify]
    gateway = "file"
    path = "var/sms-outbox.jsonl"

A line: {"message_id", "phone", "template", "params", "text", "sent_at"} (`sent_at` RFC 3339, UTC),
written whole with one write() to a file opened for appending, then fsync'd, so a crash leaves whole
lines only. Besides the platform's cases table this file is the one place where a full phone number
and a pickup code are written down: it is made 0600 in a directory made 0700.

A message id already in the file is not written again (the send answers as if it had been): the
notifier's retry of a message whose send went through just before a crash then sends nothing twice, as
a province's gateway that de-duplicates on `Idempotency-Key` would. The file is locked (flock) while it
is read and appended to, so two notifier processes cannot both write the same message.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from kiosk.central.sms.base import SendError, Sms, logged_send, setting


class FileGateway:
    name = "file"

    def __init__(self, path: Path | str, *, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self.clock = clock
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, spec: Mapping[str, Any], *, clock: Callable[[], float] = time.time,
                      **_: Any) -> FileGateway:
        return cls(setting(spec, "path"), clock=clock)

    def __repr__(self) -> str:
        return f"FileGateway({str(self.path)!r})"

    def send(self, sms: Sms) -> str:
        return logged_send(sms, f"the file {self.path}", lambda: self._append(sms))

    def _append(self, sms: Sms) -> str:
        sent_at = dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc).isoformat(timespec="seconds")
        line = json.dumps({"message_id": sms.message_id, "phone": sms.phone, "template": sms.template,
                           "params": sms.params, "text": sms.text, "sent_at": sent_at.replace("+00:00", "Z")},
                          ensure_ascii=False, separators=(",", ":")) + "\n"
        try:
            with self._lock:
                if not self.path.parent.exists():
                    self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    if self._holds(fd, sms.message_id):
                        return sms.message_id
                    data = line.encode("utf-8")
                    if os.write(fd, data) != len(data):
                        raise OSError("short write")
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except OSError as exc:
            # a full disk or a permission fixed later lets the same message through
            raise SendError(f"file_error:{type(exc).__name__}", retryable=True) from None
        return sms.message_id

    @staticmethod
    def _holds(fd: int, message_id: str) -> bool:
        """Whether a line of the file has this message id (the file of a development platform: small)."""
        needle = ('"message_id":' + json.dumps(message_id) + ",").encode()
        with os.fdopen(os.dup(fd), "rb") as f:
            f.seek(0)
            return any(line.startswith(b"{" + needle) for line in f)
