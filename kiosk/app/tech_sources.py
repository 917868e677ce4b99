"""What the technician's system panel and the diagnostics bundle read: the bridge from the store, sync/ and the host.

Like kiosk/devices.py does for the drivers, this module joins parts that
kiosk/core/ must not reach for itself: the outbox and its dead items, the last
successful sync, the signed-config status, a short probe of the central
platform, disk and memory, and the device health and alarms the UI wrote.
Every method opens its own connection, so it can run on any worker thread;
none is meant for the Kivy main thread.
"""
from __future__ import annotations

import logging
import platform
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Callable

from kiosk import __version__
from kiosk.config import Settings
from kiosk.core.technician import bundle as diag_bundle, recent_log
from kiosk.alarms import Alarms
from kiosk.core.health import HealthBoard
from kiosk.store import Store

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 2.0
DEAD_SHOWN = 50


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds") if ts else None


def memory() -> dict:
    """The machine's memory and this process's resident size, in MB (Linux /proc)."""
    out: dict = {"total_mb": None, "available_mb": None, "process_rss_mb": None}
    try:
        info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines() if ":" in line)
        out["total_mb"] = int(info["MemTotal"].split()[0]) // 1024
        out["available_mb"] = int(info["MemAvailable"].split()[0]) // 1024
    except (OSError, KeyError, ValueError):
        pass
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out["process_rss_mb"] = round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return out


def disk(path: Path) -> dict:
    try:
        u = shutil.disk_usage(path)
    except OSError as exc:
        return {"path": str(path), "error": exc.strerror}
    return {"path": str(path), "total_mb": u.total // 2 ** 20, "free_mb": u.free // 2 ** 20,
            "used_percent": round(100 * (u.total - u.free) / u.total, 1) if u.total else None}


class KioskFacts:
    def __init__(self, settings: Settings, store: Store | None = None, *,
                 recent: Callable[[], list[dict]] | None = None, now: Callable[[], float] = time.time,
                 probe_timeout_s: float = PROBE_TIMEOUT_S):
        self.settings = settings
        self._store = store
        self.recent_source = recent
        self.now = now
        self.probe_timeout_s = probe_timeout_s

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.from_settings(self.settings)
        return self._store

    # -- the outbox ----------------------------------------------------------------------------
    def queue(self) -> dict:
        from kiosk.sync.agent import LAST_SYNC_KEY
        from kiosk.sync.outbox import Outbox
        from kiosk.sync.state import SyncState

        conn = self.store.connect()
        try:
            outbox = Outbox(conn)
            s = outbox.summary()
            last_sync = SyncState(conn).get(LAST_SYNC_KEY)
            oldest = outbox.items("pending", 1)
            dead = [{"seq": e.seq, "id": e.id, "kind": e.kind, "occurred_at": e.occurred_at, "attempts": e.attempts,
                     "reason": e.last_error} for e in outbox.items("dead", DEAD_SHOWN)]
        finally:
            conn.close()
        return {"counts": s.counts, "oldest_pending_age_s": s.oldest_pending_age_s,
                "last_error": oldest[0].last_error if oldest else None,
                "last_sync_at": _iso(float(last_sync)) if last_sync else None, "dead": dead,
                "cap_items": self.settings.sync.outbox_alarm_items}

    def retry_dead(self, seqs: list[int] | None = None) -> int:
        from kiosk.sync.outbox import Outbox

        conn = self.store.connect()
        try:
            n = Outbox(conn).retry_dead(seqs)
        finally:
            conn.close()
        log.info("technician: %d dead outbox item(s) back to pending", n)
        return n

    # -- config, platform, host ---------------------------------------------------------------
    def config_status(self) -> dict:
        try:
            from kiosk.sync.config_apply import ConfigApplier

            st = ConfigApplier(self.settings).status()
            return {k: st.get(k) for k in ("version", "sha256", "state", "last_rejection", "applied_at", "expires")}
        except Exception as exc:  # the panel shows the rest even when this part cannot be read
            log.warning("technician: config status unavailable: %s", exc)
            return {"version": None, "state": "unknown", "error": str(exc)[:200]}

    def probe(self) -> dict:
        """Can the central platform be reached now? GET /api/v1/health with a short timeout."""
        import requests

        c = self.settings.central
        url = c.url.rstrip("/") + "/api/v1/health"
        verify = str(self.settings.resolve(c.ca_bundle)) if c.ca_bundle else True
        started = time.monotonic()
        try:
            resp = requests.get(url, timeout=self.probe_timeout_s, verify=verify, allow_redirects=False)
        except requests.exceptions.Timeout:
            return {"reachable": False, "url": c.url, "detail": f"no answer within {self.probe_timeout_s:g} s"}
        except requests.exceptions.RequestException as exc:
            reason = str(exc)
            for hint in ("Connection refused", "Name or service not known", "No route to host",
                         "Network is unreachable", "certificate verify failed"):
                if hint in reason:
                    reason = hint.lower()
                    break
            return {"reachable": False, "url": c.url, "detail": reason[:200]}
        ms = round((time.monotonic() - started) * 1000)
        if resp.status_code != 200:
            return {"reachable": False, "url": c.url, "detail": f"answered {resp.status_code}", "latency_ms": ms}
        return {"reachable": True, "url": c.url, "detail": "ok", "latency_ms": ms}

    def versions(self) -> dict:
        return {"software": __version__, "python": sys.version.split()[0], "platform": platform.platform(),
                "kiosk_id": self.settings.kiosk.id}

    def host(self) -> dict:
        return {"disk": disk(self.settings.data_path), "memory": memory()}

    # -- what the UI wrote ---------------------------------------------------------------------
    def device_health(self) -> list[dict]:
        conn = self.store.connect()
        try:
            return [d.as_dict() for d in HealthBoard(conn).all()]
        finally:
            conn.close()

    def alarms(self) -> list[dict]:
        conn = self.store.connect()
        try:
            return [a.as_dict() for a in Alarms(conn, outbox=None).active()]
        finally:
            conn.close()

    def recent(self) -> list[dict]:
        if self.recent_source is not None:
            return self.recent_source()
        return recent_log.read(self.settings.data_path / recent_log.FILE)

    # -- together ------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """Everything the system panel shows but the probe (which waits on the network)."""
        return {"queue": self.queue(), "config": self.config_status(), "versions": self.versions(),
                "host": self.host(), "alarms": self.alarms(), "recent": self.recent()[-50:]}

    def bundle_parts(self, devices: list[dict] | None = None) -> dict:
        parts = {
            "README.txt": (f"Diagnostics of kiosk {self.settings.kiosk.id}, made {_iso(self.now())}.\n"
                           "Secrets are replaced by **REDACTED**; ID numbers and names are masked.\n"),
            "config.json": self.settings.model_dump(mode="json"),
            "versions.json": {**self.versions(), "config": self.config_status()},
            "devices.json": {"health": self.device_health(), "live": devices or [], "alarms": self.alarms()},
            "queue.json": self.queue(),
            "host.json": self.host(),
            "recent-log.json": self.recent(),
        }
        return parts

    def export_bundle(self, out: Path | None = None, devices: list[dict] | None = None,
                      is_mount: Callable[[str], bool] | None = None) -> dict:
        """Write the bundle to `out`, else to a mounted USB stick, else to the data dir."""
        where = "file"
        if out is None:
            usb = diag_bundle.find_usb(self.settings.technician.usb_mounts,
                                       **({"is_mount": is_mount} if is_mount else {}))
            folder, where = (usb, "usb") if usb else (self.settings.data_path / "diagnostics", "data_dir")
            out = folder / diag_bundle.bundle_name(self.settings.kiosk.id, self.now())
        path = diag_bundle.write(self.bundle_parts(devices), Path(out))
        log.info("diagnostics bundle written to %s", path)
        return {"path": str(path), "where": where, "bytes": path.stat().st_size}
