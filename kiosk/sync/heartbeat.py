"""The heartbeat: what the platform needs to see that this kiosk is alive and well.

Device states (as the UI last wrote them), queue depth, the age of the oldest
pending item, config and software versions, the database UUID and the active
alarms, sent every `[sync] heartbeat_interval_s`. Where the device states and
alarms come from is injected, so this module knows only the wire format. Each
send is counted by its outcome in the agent's metrics, when given.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable

from kiosk import __version__
from kiosk.sync.client import CentralClient, CentralError
from kiosk.sync.outbox import Outbox
from kiosk.wire.transactions import Heartbeat

if TYPE_CHECKING:
    from kiosk.sync.metrics import AgentMetrics


class HeartbeatSender:
    def __init__(self, client: CentralClient, outbox: Outbox, *, kiosk_id: str, db_uuid: str | None,
                 devices: Callable[[], list[dict[str, Any]]] = list,
                 alarms: Callable[[], list[dict[str, Any]]] = list,
                 config_version: Callable[[], int | None] = lambda: None,
                 now: Callable[[], float] = time.time, metrics: AgentMetrics | None = None):
        self.client = client
        self.outbox = outbox
        self.kiosk_id = kiosk_id
        self.db_uuid = db_uuid
        self.devices = devices
        self.alarms = alarms
        self.config_version = config_version
        self.now = now
        self.metrics = metrics

    def build(self) -> Heartbeat:
        summary = self.outbox.summary()
        return Heartbeat(
            kiosk_id=self.kiosk_id, db_uuid=self.db_uuid,
            sent_at=datetime.fromtimestamp(self.now(), timezone.utc).astimezone(),
            software_version=__version__, config_version=self.config_version(),
            queue_depth=summary.counts["pending"] + summary.counts["inflight"],
            oldest_pending_age_s=summary.oldest_pending_age_s,
            devices=[{k: d.get(k) for k in ("name", "driver", "state", "detail")} for d in self.devices()],
            alarms=self.alarms(),
        )

    def send(self) -> Heartbeat:
        beat = self.build()
        try:
            self.client.heartbeat(beat)
        except CentralError as exc:
            if self.metrics is not None:
                self.metrics.heartbeat_done(at=self.now(), error=exc)
            raise
        if self.metrics is not None:
            self.metrics.heartbeat_done(at=self.now())
        return beat
