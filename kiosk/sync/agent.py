"""The agent's loop: relay, catalog pull, heartbeat and housekeeping, until told to stop.

It owns the network and never a device. On start, rows a previous run left
inflight go back to pending, then it waits a random part of
`[sync] start_jitter_s` (after a power cut the whole hall boots at once and
must not hit the platform in the same second). Each task that fails is
logged and tried again on its own schedule; nothing here ends the loop but
`stop` (set by SIGTERM/SIGINT), which is honoured between requests, so a
shutdown never leaves more than one batch inflight, and that batch is sent
again on the next start.

A full disk is one state, not an error a interval: the first write that fails
with "database or disk is full" (or ENOSPC) logs one clear line and raises the
alarm `outbox:disk_full` (written as soon as the database takes a write, so a
disk full to the last page reports it once space frees up), then the loop
retries quietly (debug lines only); when a write works again a line says so
and the alarm is cleared.
"""
from __future__ import annotations

import errno
import logging
import random
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kiosk.sync.catalog_pull import CatalogPull
from kiosk.sync.client import CentralError
from kiosk.sync.heartbeat import HeartbeatSender
from kiosk.sync.outbox import Outbox, local_time
from kiosk.sync.relay import Relay
from kiosk.store import StoreError
from kiosk.sync.state import SyncState

log = logging.getLogger(__name__)

DISK_FULL_ALARM = ("outbox", "disk_full")


def is_disk_full(exc: BaseException) -> bool:
    """SQLite's "database or disk is full", as raised or as the store explains it, or ENOSPC."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, (sqlite3.Error, StoreError)):
        return "disk is full" in str(exc) or "database or disk is full" in str(exc)
    return False

HOUSEKEEPING_INTERVAL_S = 300.0
LAST_SYNC_KEY = "last_sync_at"
# when the platform last answered at all (a heartbeat, a batch): the touch UI reads it to tell a citizen
# whether a help request goes out now or once the network is back (kiosk/core/help.py)
LAST_CONTACT_KEY = "last_contact_at"


@dataclass
class Capacity:
    """Raises an alarm while the outbox backlog is over its cap or the data dir is running out of space."""
    outbox: Outbox
    alarms: object                 # raise_alarm(device, code, detail) / clear(device, code)
    cap_items: int
    data_dir: Path
    min_free_mb: int

    def check(self) -> None:
        backlog = self.outbox.summary().backlog
        if backlog >= self.cap_items:
            self.alarms.raise_alarm("outbox", "over_cap", f"{backlog} items not yet at the platform; "
                                    f"cap {self.cap_items} ([sync] outbox_alarm_items)")
        elif backlog < self.cap_items * 0.9:  # a margin, so a backlog hovering at the cap does not flap
            self.alarms.clear("outbox", "over_cap", f"{backlog} items")
        try:
            free_mb = shutil.disk_usage(self.data_dir).free // (1024 * 1024)
        except OSError:
            return
        if free_mb < self.min_free_mb:
            self.alarms.raise_alarm("outbox", "disk_low", f"{free_mb} MB free in {self.data_dir}; "
                                    f"alarm below {self.min_free_mb} MB ([sync] disk_alarm_free_mb)")
        elif free_mb >= self.min_free_mb * 1.2:
            self.alarms.clear("outbox", "disk_low", f"{free_mb} MB free")


@dataclass
class Periodic:
    """A task the agent runs every `interval_s` (the first time right after the start jitter)."""
    name: str
    interval_s: float
    run: Callable[[], object]


class Agent:
    def __init__(self, relay: Relay, outbox: Outbox, state: SyncState, *,
                 heartbeat: HeartbeatSender | None = None, heartbeat_interval_s: float = 60.0,
                 catalog: CatalogPull | None = None, catalog_interval_s: float = 600.0,
                 capacity: Capacity | None = None, prune_acked_days: int = 30,
                 tasks: list[Periodic] = (), start_jitter_s: float = 0.0, rng: random.Random | None = None,
                 monotonic: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 stop: threading.Event | None = None,
                 beat: Callable[[], object] | None = None, beat_interval_s: float | None = None,
                 alarms=None, data_dir: Path | str | None = None):
        # `beat` tells a supervisor (systemd's watchdog) the loop is alive, at least every
        # `beat_interval_s`; a loop stuck in a request stops beating and gets restarted
        self.beat = beat
        self.beat_interval_s = beat_interval_s
        self.relay = relay
        self.outbox = outbox
        self.state = state
        self.capacity = capacity
        self.prune_acked_days = prune_acked_days
        self.tasks: list[Periodic] = []
        if heartbeat:
            self.tasks.append(Periodic("heartbeat", heartbeat_interval_s, lambda: self._contacted(heartbeat.send())))
        if catalog:
            self.tasks.append(Periodic("catalog pull", catalog_interval_s, catalog.pull))
        self.tasks.append(Periodic("housekeeping", HOUSEKEEPING_INTERVAL_S, self._housekeeping))
        self.tasks.extend(tasks)  # more periodic work of the network side (a fleet config pull, say)
        self.start_jitter_s = start_jitter_s
        self.rng = rng or random.Random()
        self.monotonic = monotonic
        self.wall = wall
        self.stop = stop or threading.Event()
        self.alarms = alarms if alarms is not None else (capacity.alarms if capacity else None)
        self.data_dir = data_dir if data_dir is not None else (capacity.data_dir if capacity else None)
        self.disk_full: dict | None = None   # while writes fail for want of space: since, alarm written, retries
        self._due: list[float] | None = None

    def run(self) -> None:
        back = self.outbox.recover()
        if back:
            log.info("agent: %d item(s) left inflight by the last run are pending again", back)
        jitter = self.rng.uniform(0, self.start_jitter_s) if self.start_jitter_s else 0.0
        log.info("agent started; first contact with the platform in %.1f s", jitter)
        if self._wait(jitter):
            return
        while not self.stop.is_set():
            wait = self.tick()
            if wait > 0:
                self._wait(max(0.0, min(wait, min(self._due) - self.monotonic())) if self._due else wait)
            elif self.beat:
                self.beat()
        log.info("agent stopped")

    def tick(self) -> float:
        """One round of the loop: a relay step, then every task that is due. Returns how long the relay
        wants to wait (the loop waits that, or until the next task is due). A seam for tests."""
        if self._due is None:
            self._due = [self.monotonic()] * len(self.tasks)
        self._write_failed = False
        wait = self._relay()
        for i, task in enumerate(self.tasks):
            now = self.monotonic()
            if now >= self._due[i]:
                self._task(task.name, task.run)
                self._due[i] = now + task.interval_s
        if self.disk_full is not None and not self._write_failed:
            self._disk_maybe_back()
        return wait

    def _wait(self, seconds: float) -> bool:
        """Wait until `seconds` pass or stop is set (True), beating the watchdog meanwhile."""
        if not self.beat:
            return self.stop.wait(seconds)
        end = self.monotonic() + seconds
        while True:
            self.beat()
            left = end - self.monotonic()
            if left <= 0:
                return self.stop.is_set()
            if self.stop.wait(min(left, self.beat_interval_s or left)):
                return True

    def _relay(self) -> float:
        try:
            result = self.relay.step()
        except Exception as exc:  # a locked or full database: log it, keep the loop alive, try again later
            if is_disk_full(exc):
                self._on_disk_full(exc, "sync step")
            else:
                log.exception("agent: sync step failed")
            return self.relay.idle_wait_s
        if result.acked or result.dead:
            self._task("last sync", lambda: self.state.set(LAST_SYNC_KEY, str(self.wall())))
            self._task("last contact", lambda: self._contacted(None))
        return result.wait_s

    def _contacted(self, _answer) -> None:
        """The platform answered (a heartbeat sent raises otherwise): the UI reads when it last did."""
        self.state.set(LAST_CONTACT_KEY, str(self.wall()))

    def _housekeeping(self) -> None:
        pruned = self.outbox.prune(self.prune_acked_days)
        if pruned:
            log.info("outbox: pruned %d acknowledged item(s) older than %d days", pruned, self.prune_acked_days)
        if self.capacity:
            self.capacity.check()

    def _task(self, name: str, fn) -> None:
        try:
            fn()
        except CentralError as exc:
            log.warning("agent: %s: %s", name, exc)
        except Exception as exc:
            if is_disk_full(exc):
                self._on_disk_full(exc, name)
            else:
                log.exception("agent: %s failed", name)

    # -- a full disk -------------------------------------------------------------------------
    def _on_disk_full(self, exc: BaseException, what: str) -> None:
        self._write_failed = True
        if self.disk_full is None:
            self.disk_full = {"since": self.wall(), "alarm": False, "retries": 0}
            log.error("agent: the disk is full: %s cannot write the kiosk database in %s (nothing committed is "
                      "lost; new work waits); alarm %s; free space there; retrying quietly every %.0f s",
                      what, self.data_dir or "the data dir", ":".join(DISK_FULL_ALARM), self.relay.idle_wait_s)
        else:
            self.disk_full["retries"] += 1
            log.debug("agent: %s: still no space (%s)", what, exc)
        self._raise_disk_alarm()

    def _raise_disk_alarm(self) -> bool:
        """Write the alarm once the database takes it (it may not, on a disk full to the last page)."""
        if self.alarms is None or self.disk_full is None or self.disk_full["alarm"]:
            return True
        try:
            self.alarms.raise_alarm(*DISK_FULL_ALARM, f"no space left for the kiosk database in "
                                    f"{self.data_dir or 'the data dir'}; transactions wait", severity="fault")
        except Exception as exc:
            log.debug("agent: alarm %s not written yet: %s", ":".join(DISK_FULL_ALARM), exc)
            return False
        self.disk_full["alarm"] = True
        return True

    def unwritten_alarms(self) -> list[dict]:
        """`outbox:disk_full` while the database has not taken its alarm row: the heartbeat (a read and
        a request, no write) still tells the platform."""
        full = self.disk_full
        if full is None or full["alarm"]:
            return []
        return [{"device": DISK_FULL_ALARM[0], "code": DISK_FULL_ALARM[1], "severity": "fault",
                 "detail": f"no space left for the kiosk database in {self.data_dir or 'the data dir'}",
                 "raised_at": local_time(full["since"])}]

    def _disk_maybe_back(self) -> None:
        """No write failed this round: prove it with the alarm's own writes, then say so."""
        if self.alarms is not None:
            if not self._raise_disk_alarm():
                return
            try:
                self.alarms.clear(*DISK_FULL_ALARM, "writes work again")
            except Exception as exc:
                log.debug("agent: still no space (%s)", exc)
                return
        full = self.disk_full
        self.disk_full = None
        log.warning("agent: writes work again in %s after %.0f s of a full disk (%d quiet retries); alarm %s "
                    "cleared", self.data_dir or "the data dir", max(0.0, self.wall() - full["since"]),
                    full["retries"], ":".join(DISK_FULL_ALARM))
