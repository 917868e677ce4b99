"""The agent's Prometheus metrics, served as `GET /metrics` on the management API (no authentication).

Counted as the agent works, by the part that learns each outcome: the relay
(each batch request and the platform's answer per item, with its round trip),
the heartbeat sender and the catalog and config pulls. Read from the kiosk's
database at each scrape (`OutboxCollector`): the outbox's depth, its dead items
and the age of the oldest pending item, through the same `Outbox.summary()` the
heartbeat reports, in one short read transaction.

Nothing personal: every label is a fixed word (an outcome, a result, a poll's
name), and the kiosk id and software version appear once, on
`kiosk_agent_info`. No ID number, name, phone, holder hash or case number, and
no error text, reaches a label or a value.

`kiosk agent` makes one `AgentMetrics` and hands it to the parts it composes;
each has a registry of its own (never prometheus-client's global one), so
tests and several agents in one process do not collide. This module is loaded
by the agent only: the parts take the metrics object as an argument and
never import this module, so the touch UI (which imports kiosk.sync.agent for
its constants) never loads prometheus-client (see [tool.importlinter]).
"""
from __future__ import annotations

import logging
import sqlite3
import time
from typing import Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from kiosk import __version__
from kiosk.store import StoreError, transaction
from kiosk.sync.client import CentralAuthRefused, CentralInvalid, CentralNotFound, CentralServerError
from kiosk.sync.outbox import Outbox

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST

# what became of a request to the platform
OK, REFUSED, NETWORK_ERROR, SERVER_ERROR = "ok", "refused", "network_error", "server_error"
REQUEST_OUTCOMES = (OK, REFUSED, NETWORK_ERROR, SERVER_ERROR)
ITEM_RESULTS = ("accepted", "duplicate", "rejected")      # the platform's answer per item
POLLS = ("catalog", "config")
CHANGED, NOT_MODIFIED, ERROR = "changed", "not_modified", "error"
POLL_OUTCOMES = (CHANGED, NOT_MODIFIED, ERROR)
# a batch of 500 to a platform across a city takes from tens of ms to a few s; [central] timeout_s is 10 by default
ROUND_TRIP_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def request_outcome(error: BaseException | None) -> str:
    """A request's outcome as a label: the client's error classes, never their text."""
    if error is None:
        return OK
    if isinstance(error, CentralServerError):        # 5xx, 429, an answer not in the wire format
        return SERVER_ERROR
    if isinstance(error, (CentralInvalid, CentralAuthRefused, CentralNotFound)):  # 4xx: sent again, it fails again
        return REFUSED
    return NETWORK_ERROR                             # no answer: cannot reach, TLS, timeout


class AgentMetrics:
    """The agent's counters, gauges and histogram, and the outbox read at each scrape, in one registry.

    `connect` opens a connection to the kiosk's database (`Store.connect`), one per scrape, closed after;
    `now` is the collector's clock for the oldest pending age; `monotonic` times the round trips.
    """

    def __init__(self, kiosk_id: str, connect: Callable[[], sqlite3.Connection] | None = None, *,
                 software_version: str = __version__, now: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.perf_counter):
        self.monotonic = monotonic
        self.registry = r = CollectorRegistry(auto_describe=True)
        Info("kiosk_agent", "this kiosk's id and the agent's software version (the one series carrying the "
             "kiosk id; join on it)", registry=r).info({"kiosk_id": kiosk_id, "software_version": software_version})
        self.batches = Counter(
            "kiosk_agent_batches", "batch requests of outbox transactions to the platform, by outcome: ok (answered "
            "item by item), refused (4xx: invalid, or the kiosk's secret or clock refused), network_error (no "
            "answer: cannot reach, TLS, timeout), server_error (5xx, 429, an answer not in the wire format)",
            ["outcome"], registry=r)
        self.transactions = Counter(
            "kiosk_agent_transactions_answered", "outbox transactions the platform answered for, by its answer "
            "per item (accepted, duplicate: stored before, rejected: dead on the kiosk with the reason)",
            ["result"], registry=r)
        self.round_trip = Histogram(
            "kiosk_agent_batch_round_trip_seconds", "time from sending a batch to the platform's answer (any "
            "answer: ok, refused or server error; a request with no answer is counted only in kiosk_agent_batches)",
            buckets=ROUND_TRIP_BUCKETS, registry=r)
        self.heartbeats = Counter(
            "kiosk_agent_heartbeats", "heartbeats sent to the platform, by outcome (as for kiosk_agent_batches)",
            ["outcome"], registry=r)
        self.polls = Counter(
            "kiosk_agent_polls", "conditional GETs of the guide catalog and of this kiosk's config bundle, by "
            "outcome: changed (new content, taken in), not_modified (304, or no bundle for this kiosk), error (no "
            "answer or an error answer, or the new content was refused: a catalog the importer refused, a bundle "
            "rejected or rolled back)", ["poll", "outcome"], registry=r)
        self.last_sync = Gauge(
            "kiosk_agent_last_sync_timestamp_seconds", "when the platform last answered a batch item by item (unix "
            "seconds; kept across restarts as `kiosk queue` shows it; 0: never). It does not move while there is "
            "nothing to send: alert on kiosk_agent_outbox_oldest_pending_age_seconds", registry=r)
        self.last_heartbeat = Gauge(
            "kiosk_agent_last_heartbeat_timestamp_seconds", "when the platform last took a heartbeat (unix seconds; "
            "0: not since the agent started)", registry=r)
        for outcome in REQUEST_OUTCOMES:  # every series from the start: a rate() sees the first increase
            self.batches.labels(outcome)
            self.heartbeats.labels(outcome)
        for result in ITEM_RESULTS:
            self.transactions.labels(result)
        for poll in POLLS:
            for outcome in POLL_OUTCOMES:
                self.polls.labels(poll, outcome)
        if connect is not None:
            r.register(OutboxCollector(connect, now))

    # -- the hooks: each part calls these where it learns an outcome ---------------------------
    def batch_started(self) -> float:
        return self.monotonic()

    def batch_done(self, started: float, *, at: float, error: BaseException | None = None,
                   results: Iterable = ()) -> None:
        """One batch request ended: `error` as the client raised it, or the per-item `results` (each with a
        `status`) the platform answered at `at` (unix seconds)."""
        outcome = request_outcome(error)
        self.batches.labels(outcome).inc()
        if outcome != NETWORK_ERROR:
            self.round_trip.observe(max(0.0, self.monotonic() - started))
        if error is None:
            counts = dict.fromkeys(ITEM_RESULTS, 0)
            for result in results:
                if result.status in counts:
                    counts[result.status] += 1
            for status, n in counts.items():
                if n:
                    self.transactions.labels(status).inc(n)
            self.last_sync.set(at)

    def heartbeat_done(self, *, at: float, error: BaseException | None = None) -> None:
        outcome = request_outcome(error)
        self.heartbeats.labels(outcome).inc()
        if error is None:
            self.last_heartbeat.set(at)

    def polled(self, poll: str, outcome: str) -> None:
        self.polls.labels(poll, outcome).inc()

    def restore_last_sync(self, stored: str | None) -> None:
        """The last sync a previous run recorded (`sync_state`), so a restart does not read as "never"."""
        if stored:
            try:
                self.last_sync.set(float(stored))
            except ValueError:
                log.debug("metrics: the stored last sync %r is not a time", stored)

    # -- the scrape ----------------------------------------------------------------------------
    content_type = CONTENT_TYPE

    def exposition(self) -> bytes:
        """The text a scrape gets (Prometheus text format 0.0.4)."""
        return generate_latest(self.registry)


class OutboxCollector:
    """The outbox as the kiosk's database holds it at the scrape: one connection, one read transaction."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], now: Callable[[], float] = time.time):
        self.connect = connect
        self.now = now

    def _families(self) -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily("kiosk_agent_outbox_read_ok", "1 when this scrape read the outbox from the kiosk's "
                              "database; 0 when it could not (the outbox gauges are then absent; the agent's log "
                              "says why)"),
            GaugeMetricFamily("kiosk_agent_outbox_pending_items", "transactions waiting to be sent to the platform "
                              "(pending and inflight: the heartbeat's queue_depth)"),
            GaugeMetricFamily("kiosk_agent_outbox_dead_items", "transactions the platform refused, kept with the "
                              "reason until a technician acts (`kiosk queue`, `kiosk sync retry-dead`)"),
            GaugeMetricFamily("kiosk_agent_outbox_oldest_pending_age_seconds", "age of the oldest transaction "
                              "waiting to be sent, by the kiosk's clock (0 when none waits)"),
        )

    def describe(self) -> list[Metric]:
        return list(self._families())  # names only: registering must not read the database

    def collect(self) -> list[Metric]:
        read_ok, pending, dead, oldest = self._families()
        try:
            conn = self.connect()
            try:
                with transaction(conn, immediate=False):  # both reads of the summary see one snapshot
                    summary = Outbox(conn, now=self.now).summary()
            finally:
                conn.close()
        except (sqlite3.Error, StoreError) as exc:
            log.warning("metrics: the outbox could not be read for a scrape: %s", exc)
            read_ok.add_metric([], 0)
            return [read_ok]
        read_ok.add_metric([], 1)
        pending.add_metric([], summary.counts["pending"] + summary.counts["inflight"])
        dead.add_metric([], summary.counts["dead"])
        oldest.add_metric([], summary.oldest_pending_age_s or 0.0)
        return [read_ok, pending, dead, oldest]
