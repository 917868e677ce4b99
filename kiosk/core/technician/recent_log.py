"""The recent warnings and errors of this process: a bounded ring for the technician, mirrored to a small file.

`RecentLog` is a logging handler the UI installs on the root logger. It keeps
the last `capacity` WARNING+ records in memory (the system panel shows them)
and appends each, one JSON line, to `<data_dir>/log/recent.jsonl`, which is
cut back to the newest `capacity` lines when it doubles, so `kiosk diag bundle`
run from a shell can include them too. Records pass the redacting filter of
kiosk/core/privacy.py on this handler itself, whatever handler saw them first.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from datetime import datetime
from pathlib import Path

from kiosk.core.privacy import RedactingFilter, redact

FILE = Path("log") / "recent.jsonl"


def entry(record: logging.LogRecord) -> dict:
    text = record.getMessage()
    if record.exc_text:
        text += "\n" + record.exc_text.splitlines()[-1]   # the exception's last line; the trace stays in the journal
    return {"at": datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="seconds"),
            "level": record.levelname, "logger": record.name, "message": redact(text)[:2000]}


class RecentLog(logging.Handler):
    def __init__(self, capacity: int = 200, path: Path | None = None, level: int = logging.WARNING):
        super().__init__(level)
        self.capacity = capacity
        self.path = path
        self._ring: deque[dict] = deque(maxlen=capacity)
        self._file_lock = threading.Lock()
        self._lines = 0
        self.addFilter(RedactingFilter())
        if path is not None:
            self._ring.extend(read(path, capacity))
            self._lines = len(self._ring)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            item = entry(record)
        except Exception:
            self.handleError(record)
            return
        self._ring.append(item)
        if self.path is not None:
            self._write(item)

    def _write(self, item: dict) -> None:
        with self._file_lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(item, ensure_ascii=False) + "\n")
                self._lines += 1
                if self._lines >= 2 * self.capacity:
                    keep = read(self.path, self.capacity)
                    tmp = self.path.with_suffix(".tmp")
                    tmp.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in keep), encoding="utf-8")
                    os.replace(tmp, self.path)
                    self._lines = len(keep)
            except OSError:
                pass  # a full disk must not turn every warning into another failure

    def records(self) -> list[dict]:
        """Newest last."""
        return list(self._ring)


def read(path: Path, limit: int = 200) -> list[dict]:
    """The newest `limit` entries of a recent-log file (unreadable lines skipped)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    out = []
    for line in lines[-limit:]:
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict):
            out.append({k: redact(str(item.get(k, ""))) for k in ("at", "level", "logger", "message")})
    return out


def install(data_path: Path, capacity: int = 200) -> RecentLog:
    """Put one `RecentLog` on the root logger (again: the same one), for the UI process."""
    root = logging.getLogger()
    for h in root.handlers:
        if isinstance(h, RecentLog):
            return h
    handler = RecentLog(capacity, data_path / FILE)
    root.addHandler(handler)
    return handler
