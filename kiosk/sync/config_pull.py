"""Fleet config pull: a conditional GET of this kiosk's newest signed bundle, applied through the same checks.

`GET /api/v1/kiosks/{id}/config` with the stored ETag in `If-None-Match`; a
304 or a 404 (no bundle targets this kiosk yet) changes nothing. New bytes go
to `ConfigApplier.apply_bytes`, exactly as a bundle from a file or the
management API. The ETag is kept once the bundle has an outcome (applied,
unchanged, rejected or rolled back), so a refused bundle is not fetched and
refused again every poll; an error on the way (disk full) leaves it unkept and
the bundle is fetched again. The response's `Date` header is NOT fed to the
expiry high-water mark: it is not authenticated (plain HTTP by default), and one
far-future Date from anything in the middle would make every later bundle
"expired" (issue 24). Only the signed `issued` of a verified bundle moves it.
Each poll is counted by its outcome in the agent's metrics, when given.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from kiosk.sync.client import CentralClient, CentralNotFound
from kiosk.sync.config_apply import ConfigApplier, Outcome
from kiosk.sync.state import SyncState

if TYPE_CHECKING:
    from kiosk.sync.metrics import AgentMetrics

log = logging.getLogger(__name__)

ETAG_KEY = "config_etag"


class ConfigPull:
    def __init__(self, client: CentralClient, state: SyncState, applier: ConfigApplier,
                 metrics: AgentMetrics | None = None):
        self.client = client
        self.state = state
        self.applier = applier
        self.metrics = metrics

    def pull(self) -> Outcome | None:
        """One poll; None when there is nothing new. CentralError propagates (the agent retries)."""
        try:
            outcome = self._pull()
        except Exception:
            self._polled("error")
            raise
        self._polled("not_modified" if outcome is None else "changed" if outcome.ok else "error")
        return outcome

    def _polled(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.polled("config", outcome)

    def _pull(self) -> Outcome | None:
        etag = self.state.get(ETAG_KEY)
        try:
            # the client's own request (signed, typed errors); the response is needed whole for its ETag
            resp = self.client._request("GET", f"/api/v1/kiosks/{self.client.kiosk_id}/config",
                                        headers={"If-None-Match": etag} if etag else {}, ok=(200, 304))
        except CentralNotFound:
            return None
        if resp.status_code == 304:
            return None
        outcome = self.applier.apply_bytes(resp.content, source="fleet")
        new_etag = resp.headers.get("ETag")
        if new_etag:
            self.state.set(ETAG_KEY, new_etag)
        if outcome.result in ("applied", "rotated"):
            log.info("config pull: %s", outcome.text())
        return outcome
