"""The platform's Prometheus metrics (`GET /metrics`, no authentication, nothing personal).

Counted as requests are served: requests by route template, method and status,
their latency, the sizes of uploaded batches, the time a batch takes to
store, and the items accepted, answered as duplicates and rejected. Read from
the database at each scrape: per kiosk, the age of its last heartbeat and the
queue depth and oldest pending age its agent reported in it; and the
transactions stored. Labels are route templates and kiosk ids only: no ID
number, name, phone, case number or holder hash.

With several workers (`kiosk central --workers N`) each worker counts in files
of prometheus-client's multiprocess mode under $PROMETHEUS_MULTIPROC_DIR (the
server makes the directory, empty, before the workers start), and a scrape,
served by any worker, sums them.
"""
from __future__ import annotations

import os
import time
from typing import Any, Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

ENV_DIR = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
BATCH_BUCKETS = (1, 5, 10, 25, 50, 100, 200, 500)


class PlatformMetrics:
    """The platform's counters and histograms, in a registry of their own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("kiosk_central_requests", "HTTP requests served, by route template and status",
                                ["route", "method", "status"], registry=r)
        self.latency = Histogram("kiosk_central_request_seconds", "time to answer a request, by route template",
                                 ["route", "method"], buckets=LATENCY_BUCKETS, registry=r)
        self.batch_items = Histogram("kiosk_central_batch_items", "items in an uploaded batch of transactions",
                                     buckets=BATCH_BUCKETS, registry=r)
        self.intake = Histogram("kiosk_central_intake_seconds", "time to store one batch (one database "
                                "transaction)", buckets=LATENCY_BUCKETS, registry=r)
        self.items = Counter("kiosk_central_transactions", "uploaded transaction items by result",
                             ["result"], registry=r)
        for result in ("accepted", "duplicate", "rejected"):
            self.items.labels(result)

    def batch(self, results: list[dict[str, Any]], seconds: float) -> None:
        self.batch_items.observe(len(results))
        self.intake.observe(seconds)
        for result in ("accepted", "duplicate", "rejected"):
            n = sum(1 for r in results if r["status"] == result)
            if n:
                self.items.labels(result).inc(n)

    def exposition(self, extra: Iterable[Collector] = ()) -> bytes:
        """The text a scrape gets: this process's counters, or every worker's with multiprocess mode on."""
        if os.environ.get(ENV_DIR):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        else:
            registry = self.registry
        out = generate_latest(registry)
        if extra:
            scrape = CollectorRegistry()
            for collector in extra:
                scrape.register(collector)
            out += generate_latest(scrape)
        return out


CONTENT_TYPE = CONTENT_TYPE_LATEST


class FleetCollector(Collector):
    """What the database knows at the scrape: heartbeat age, queue depth and oldest pending age per kiosk
    (as its agent last reported them), and the transactions stored."""

    def __init__(self, db, clock: Callable[[], float] = time.time):
        self.db = db
        self.clock = clock

    def collect(self):
        now = self.clock()
        age = GaugeMetricFamily("kiosk_central_heartbeat_age_seconds", "time since the kiosk's last heartbeat",
                                labels=["kiosk_id"])
        depth = GaugeMetricFamily("kiosk_central_kiosk_queue_depth", "transactions waiting in the kiosk's "
                                  "outbox, as its last heartbeat said", labels=["kiosk_id"])
        oldest = GaugeMetricFamily("kiosk_central_kiosk_oldest_pending_seconds", "age of the oldest transaction "
                                   "waiting in the kiosk's outbox, as its last heartbeat said", labels=["kiosk_id"])
        for k in self.db.kiosks():
            if k["last_heartbeat_at"] is None:
                continue
            age.add_metric([k["kiosk_id"]], max(0.0, now - k["last_heartbeat_at"]))
            beat = k["last_heartbeat"] or {}
            if isinstance(beat.get("queue_depth"), int):
                depth.add_metric([k["kiosk_id"]], beat["queue_depth"])
            if isinstance(beat.get("oldest_pending_age_s"), (int, float)):
                oldest.add_metric([k["kiosk_id"]], beat["oldest_pending_age_s"])
        stored = GaugeMetricFamily("kiosk_central_transactions_stored", "transactions the platform holds")
        stored.add_metric([], self.db.count("transactions"))
        return [age, depth, oldest, stored]


class MetricsMiddleware:
    """Counts every request by its route template (`/api/v1/kiosks/{kiosk_id}/heartbeat`, never the path
    itself: a kiosk id or a token in a path is not a label), method and status, with its latency."""

    def __init__(self, app, metrics: PlatformMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def sending(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(template, method, str(status["code"])).inc()
            self.metrics.latency.labels(template, method).observe(time.perf_counter() - started)


def prepare_multiprocess_dir(path) -> None:
    """An empty directory for the workers' metric files, named in the environment the workers inherit."""
    from pathlib import Path

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    for f in path.glob("*.db"):
        f.unlink()
    os.environ[ENV_DIR] = str(path)

