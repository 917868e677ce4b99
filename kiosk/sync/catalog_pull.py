"""Catalog pull: a conditional GET of the guide catalog, applied atomically, a bad one refused.

The stored ETag goes in `If-None-Match`; a 304 costs nothing. New bytes go
to the injected `apply_catalog(bytes) -> version`, which imports them in one
transaction or raises (the kiosk keeps the catalog it has). A refused
catalog raises the `catalog:bad_catalog` alarm; the next good one clears it.
Each poll is counted by its outcome in the agent's metrics, when given.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol

from kiosk.store import StoreError
from kiosk.sync.client import CentralClient
from kiosk.sync.state import SyncState

if TYPE_CHECKING:
    from kiosk.sync.metrics import AgentMetrics

log = logging.getLogger(__name__)

ETAG_KEY = "catalog_etag"
VERSION_KEY = "catalog_version"
ALARM = ("catalog", "bad_catalog")


class RaisesAlarms(Protocol):
    def raise_alarm(self, device: str, code: str, detail: str | None = None, severity: str | None = None) -> bool: ...
    def clear(self, device: str, code: str, detail: str | None = None) -> bool: ...


@dataclass(frozen=True)
class PullResult:
    outcome: str            # "unchanged" | "updated" | "rejected"
    version: str | None = None
    reason: str | None = None


class CatalogPull:
    def __init__(self, client: CentralClient, state: SyncState, apply_catalog: Callable[[bytes], str],
                 alarms: RaisesAlarms, metrics: AgentMetrics | None = None):
        self.client = client
        self.state = state
        self.apply_catalog = apply_catalog
        self.alarms = alarms
        self.metrics = metrics

    def pull(self) -> PullResult:
        """One conditional GET; CentralError propagates (the agent retries on its interval)."""
        try:
            result = self._pull()
        except Exception:
            self._polled("error")
            raise
        self._polled({"unchanged": "not_modified", "updated": "changed"}.get(result.outcome, "error"))
        return result

    def _polled(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.polled("catalog", outcome)

    def _pull(self) -> PullResult:
        fetched = self.client.get_catalog(self.state.get(ETAG_KEY))
        if not fetched.changed:
            return PullResult("unchanged", self.state.get(VERSION_KEY))
        try:
            version = str(self.apply_catalog(fetched.body))
        except StoreError:
            raise  # our database, not the catalog, is at fault: no alarm about the catalog; tried again later
        except Exception as exc:  # whatever the importer refuses, the old catalog stays and a person is told
            reason = f"{exc.__class__.__name__}: {exc}"[:500]
            log.error("catalog from the platform refused, keeping the current one: %s", reason)
            self.alarms.raise_alarm(*ALARM, detail=reason[:200])
            return PullResult("rejected", reason=reason)
        # the ETag is kept only once the catalog is in: a failed import is fetched again next time
        if fetched.etag:
            self.state.set(ETAG_KEY, fetched.etag)
        self.state.set(VERSION_KEY, version)
        self.alarms.clear(*ALARM)
        log.info("catalog updated to version %s", version)
        return PullResult("updated", version)
