"""How the running UI takes a newly applied signed config: live where it can, by a clean restart where it must.

The agent (or `kiosk config apply`) switches the applied config atomically;
the UI notices the new version with a cheap read and compares the settings it
runs on with the new ones. Changes to what only the home screen and the
visitor session read (the hall's name, language, idle timeouts, elder scale,
the services switched off) are applied at once. Anything else (fees, pickup
rules, PIN hashes, timeouts that flows captured when they were built) needs the
flows rebuilt, so the UI restarts cleanly between two visits, never in the
middle of one; systemd (Restart=always) brings it back on the new config in a
few seconds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from kiosk import config
from kiosk.config import ConfigError, Settings

# dotted keys the UI applies without rebuilding anything
LIVE_KEYS = frozenset({
    "kiosk.hall", "kiosk.hall_en", "kiosk.language", "kiosk.idle_timeout_s", "kiosk.idle_warning_s", "kiosk.idle_extensions",
    "ui.elder_scale", "services.disabled",
})


@dataclass(frozen=True)
class ConfigChange:
    version: int | None
    settings: Settings
    changed: frozenset[str]        # dotted keys whose value differs

    @property
    def live(self) -> bool:
        return self.changed <= LIVE_KEYS


def changed_keys(old: Any, new: Any, prefix: str = "") -> set[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out: set[str] = set()
        for key in old.keys() | new.keys():
            out |= changed_keys(old.get(key), new.get(key), f"{prefix}{key}.")
        return out
    return set() if old == new else {prefix.rstrip(".")}


class ConfigFollower:
    """Polled by the UI: `check()` returns a ConfigChange once per newly applied version, else None."""

    def __init__(self, settings: Settings, version: Callable[[Settings], int | None] | None = None,
                 load: Callable[[Any], Settings] = config.load):
        if version is None:
            version = config.applied_version  # not kiosk.sync's: the UI needs no signature code
        self.settings = settings
        self._version = version
        self._load = load
        self.seen = version(settings)

    def check(self) -> ConfigChange | None:
        now = self._version(self.settings)
        if now == self.seen:
            return None
        self.seen = now
        try:
            new = self._load(self.settings.source)
        except ConfigError:
            return None  # the applier's own health check rolls such a config back; keep running as we are
        keys = changed_keys(self.settings.model_dump(), new.model_dump())
        change = ConfigChange(now, new, frozenset(keys))
        self.settings = new
        return change
