"""The remote config's files under `<data_dir>/config/` (kiosk/sync/config_apply.py applies bundles
into them), and the time high-water mark kept there: the latest wall time this kiosk has
trustworthily seen, which a bundle's validity is checked against."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

from kiosk import config
from kiosk.durable import dump_json, read_json, write_atomic

log = logging.getLogger(__name__)


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ConfigDir:
    """The files of the remote config under `<data_dir>/config/`."""

    def __init__(self, data_path: Path):
        self.root = (Path(data_path) / config.OVERLAY).parent
        self.applied = self.root / "applied.json"
        self.history = self.root / "history"
        self.journal = self.root / "journal.json"
        self.state = self.root / "state.json"
        self.clock = self.root / "clock.json"
        self.trust = self.root / "trust.json"
        self.lock = self.root / ".lock"

    def ensure(self) -> None:
        self.history.mkdir(parents=True, exist_ok=True)


def history_name(version: int, sha256: str) -> str:
    return f"{version:010d}-{sha256[:16]}"


class TimeMark:
    """The latest wall time this kiosk has trustworthily seen; it only moves forward."""

    def __init__(self, path: Path):
        self.path = path

    def read(self) -> tuple[float, str]:
        try:
            doc = read_json(self.path) or {}
        except ValueError as exc:
            log.error("config: %s; the time high-water mark starts again from the clock", exc)
            doc = {}
        mark = doc.get("high_water")
        return (float(mark), str(doc.get("source", "?"))) if isinstance(mark, (int, float)) else (0.0, "none")

    def advance(self, ts: float, source: str) -> tuple[float, str]:
        mark, src = self.read()
        if ts <= mark:
            return mark, src
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, dump_json({"high_water": ts, "source": source, "at": iso(ts)}))
        return ts, source

    def reset(self, ts: float, source: str) -> tuple[float, str]:
        """Set the mark to `ts` even when that is backwards (a technician's decision); the old mark back."""
        old = self.read()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, dump_json({"high_water": ts, "source": source, "at": iso(ts)}))
        return old
