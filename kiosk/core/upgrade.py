"""The pause of the touch UI for a package upgrade: it stops between two visits, never during one.

The kiosk's Debian package upgrade (its maintainer script `preinst`) writes
`<data_dir>/upgrade-requested` (one line: the new version and the unix time
of the request; informative only, the file's mtime is what dates it). The UI
looks for that file on its config poll; when no visit is running it logs the
version, writes `<data_dir>/ui-stopped-for-upgrade` (its pid and the unix
time, written whole: the upgrade may read it at any instant) and stops. While
a visit runs it waits: the visit's own idle timeout brings it home in the end.
`kiosk ui` started while the request stands (systemd restarts the unit) exits
with EX_TEMPFAIL (75) at once, before a window opens; the upgrade stops the
unit, and removes its request when it ends.

A request older than STALE_S is ignored with a warning: a dpkg run that died
half way leaves its file behind, and that must not keep a hall's screens dark
until a technician comes.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from kiosk.durable import write_atomic

log = logging.getLogger(__name__)

REQUEST = "upgrade-requested"         # written by the package's preinst, removed when the upgrade ends
STOPPED = "ui-stopped-for-upgrade"    # written by the UI as it stops between visits
STALE_S = 3600.0                      # an older request is a left-over of an upgrade that died

_warned: dict[Path, int] = {}         # the request file -> the mtime (ns) of the last stale warning


@dataclass(frozen=True)
class Request:
    """A fresh upgrade request: its file, the version it names (as written) and how old it is."""

    path: Path
    version: str
    age_s: float


def pending(data_path: Path, now: float) -> Request | None:
    """The upgrade request standing at `now` (unix time); None when there is none or it is stale.
    A stale request is logged as a warning once per version of its file (its mtime)."""
    path = data_path / REQUEST
    try:
        mtime_ns = path.stat().st_mtime_ns
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:   # none, or the upgrade ended between the two calls
        return None
    age_s = now - mtime_ns / 1e9
    if age_s >= STALE_S:
        if _warned.get(path) != mtime_ns:
            _warned[path] = mtime_ns
            log.warning("ignoring %s: the upgrade request is %.0f s old (more than %.0f s), taken for the "
                        "left-over of an upgrade that died; remove the file", path, age_s, STALE_S)
        return None
    words = text.split()
    return Request(path=path, version=words[0] if words else "(version not given)", age_s=age_s)


def acknowledge(data_path: Path, pid: int, now: float) -> Path:
    """Tell the upgrade the UI has stopped: STOPPED with `pid` and `now`, written whole. Returns its path."""
    path = data_path / STOPPED
    write_atomic(path, f"{pid} {int(now)}\n".encode("ascii"))
    return path
