"""The agent's loop: relay, catalog pull, heartbeat and housekeeping, until told to stop.

It owns the network and never a device. On start, rows a previous run left
inflight go back to pending, then it waits a random part of
`[sync] start_jitter_s` (after a power cut the whole hall boots at once and
must not hit the platform in the same second). Each task that fails is
logged and tried again on its own schedule; nothing here ends the loop but
`stop` (set by SIGTERM/SIGINT), which is honoured between requests, so a
shutdown never leaves more than one batch inflight, and that batch is sent
again on the next start.
"""
from __future__ import annotations

import logging
import random
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kiosk.sync.catalog_pull import CatalogPull
from kiosk.sync.client import CentralError
from kiosk.sync.heartbeat import HeartbeatSender
from kiosk.sync.outbox import Outbox
from kiosk.sync.relay import Relay
from kiosk.sync.state import SyncState

log = logging.getLogger(__name__)

HOUSEKEEPING_INTERVAL_S = 300.0
LAST_SYNC_KEY = "last_sync_at"


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
                 beat: Callable[[], object] | None = None, beat_interval_s: float | None = None):
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
            self.tasks.append(Periodic("heartbeat", heartbeat_interval_s, heartbeat.send))
        if catalog:
            self.tasks.append(Periodic("catalog pull", catalog_interval_s, catalog.pull))
        self.tasks.append(Periodic("housekeeping", HOUSEKEEPING_INTERVAL_S, self._housekeeping))
        self.tasks.extend(tasks)  # more periodic work of the network side (a fleet config pull, say)
        self.start_jitter_s = start_jitter_s
        self.rng = rng or random.Random()
        self.monotonic = monotonic
        self.wall = wall
        self.stop = stop or threading.Event()

    def run(self) -> None:
        back = self.outbox.recover()
        if back:
            log.info("agent: %d item(s) left inflight by the last run are pending again", back)
        jitter = self.rng.uniform(0, self.start_jitter_s) if self.start_jitter_s else 0.0
        log.info("agent started; first contact with the platform in %.1f s", jitter)
        if self._wait(jitter):
            return
        start = self.monotonic()
        due = [start] * len(self.tasks)
        while not self.stop.is_set():
            wait = self._relay()
            for i, task in enumerate(self.tasks):
                now = self.monotonic()
                if now >= due[i]:
                    self._task(task.name, task.run)
                    due[i] = now + task.interval_s
            if wait > 0:
                self._wait(max(0.0, min(wait, min(due) - self.monotonic())))
            elif self.beat:
                self.beat()
        log.info("agent stopped")

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
        except Exception:  # a locked or full database: log it, keep the loop alive, try again later
            log.exception("agent: sync step failed")
            return self.relay.idle_wait_s
        if result.acked or result.dead:
            self._task("last sync", lambda: self.state.set(LAST_SYNC_KEY, str(self.wall())))
        return result.wait_s

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
        except Exception:
            log.exception("agent: %s failed", name)
