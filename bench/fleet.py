"""Fleet load: N simulated kiosks (default 1,000) against the reference central platform (`kiosk central`).

Budget (2 cores, PostgreSQL with 2 workers, 1,000 kiosks): at least 2,000 accepted transactions/s
sustained, batch p95 <= 250 ms, heartbeat p95 <= 50 ms, and no errors, lost or duplicated transactions.
Prints, for PostgreSQL, `fleet_pg_tps V budget 2000 pass|miss`, `fleet_pg_batch_p95_ms`,
`fleet_pg_heartbeat_p95_ms`, `fleet_pg_errors`, `fleet_pg_lost`, `fleet_pg_duplicated`; the same figures
for SQLite beside them, informational (`fleet_sqlite_…`, no verdict); and `cost_ms_per_transaction`:
CPU-ms of the platform's processes (server, its workers, PostgreSQL) per accepted transaction, at this
traffic mix, to size a province from.

Usage: bench/fleet.py [--engine sqlite|postgresql|both] [--kiosks N] [--batch N] [--duration S] [--senders N]
                      [--concurrency N] [--workers N] [--kill-every S] [--time-scale X] [--tps T] [--keep]
       bench/fleet.py --port P --db URL --key-file F [--server-pid PID] [the load options]
                      (a platform already serving: the console's browser tests seed their fleet so)

Each kiosk is provisioned with its own secret in-process (`CentralDB.add_kiosk`, on the `--db` the server
then uses), in the fleet group a signed config bundle targets; the demo catalog is loaded. The platform
runs as a `kiosk central --workers N --no-access-log` subprocess (as docs/deploy.md runs it for a city or
a province) on a free loopback port (PostgreSQL: a private server of tests/pgcluster.py, stopped at the
end). Every request is signed as the kiosk's client signs it
(kiosk/wire/auth.py `sign`, fresh nonce and timestamp each time, the client's headers), on the kiosk's own
HTTP/1.1 keep-alive connection (reopened after 4 s idle, as its requests.Session finds it closed), by a small
asyncio client (no dependency beyond the venv's; 10-20 % of one core at 2,000-5,000 transactions/s, shown
as `this client`). A kiosk does one thing at a time, as its agent does; `--concurrency` bounds the requests
in flight over the whole fleet.

Traffic, with time compressed by `--time-scale` (1 by default: the agent's real intervals; 60: a minute
of the fleet's life is a second, sixty times the real load of heartbeats and polls):
- batches of `--batch` transactions (`print`, `rating`, `alarm` raised and then cleared as a kiosk does:
  intake that is real but touches no case;
  `deposit`/`pickup` drive the pickup loop and need cases, so they are left out), fresh UUIDs, seq rising
  per kiosk, sent closed-loop by `--senders` tasks (or paced to `--tps`), one batch in flight
  per kiosk. A batch without an answer (connection reset when a worker is killed, timeout, 5xx, 429, 401)
  is sent again with the same ids after the relay's full-jitter backoff (scaled), and narrowed by halves
  on a second 5xx or a 400/413/422, as kiosk/sync/relay.py does; ids answered `accepted` or `duplicate`
  are acknowledged, `rejected` ones are dead (counted as errors);
- heartbeats (the agent's body) every `[sync] heartbeat_interval_s` (60 s), config polls every
  `config_interval_s` (60 s) and catalog polls every `catalog_interval_s` (600 s), with If-None-Match,
  each kiosk's next one due that interval after the last started, by the other tasks. Before the
  measured run every kiosk fetches the catalog and its config once (the fleet's boot; `warmup` line), so
  the run sees 304s.

After the run new batches stop, unanswered ones are retried for up to 30 s, and `kiosk central export
--json` must hold every acknowledged id exactly once: `lost` (acknowledged, not stored), `duplicated` (an id
or a kiosk's seq stored twice), `stored_not_acknowledged` (stored, answer never received).
`--kill-every S` SIGKILLs one worker of the server (a child of the `kiosk central` process) every S s.
A default run (both engines, 60 s each) takes about 3 minutes (2 minutes of load, provisioning, the fleet's
boot, the checks); more on a busy machine. The `machine:` line says how much CPU other processes took.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import heapq
import json
import math
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk import __version__  # noqa: E402
from kiosk.config import SyncSection  # noqa: E402
from kiosk.sync.outbox import local_time  # noqa: E402
from kiosk.wire import auth  # noqa: E402

KIOSK = Path(sys.executable).parent / "kiosk"
DEMO_CATALOG = ROOT / "config" / "demo-catalog.json"
GROUP = "fleet"
TIMEOUT_S = 10.0          # the kiosk client's default [central] timeout_s
DRAIN_S = 30.0            # after the run: how long unanswered batches are retried
START_S = 60.0            # the server must answer its health check within this
WARMUP_S = 120.0          # the warm-up (one catalog and config fetch per kiosk) must end within this
EXPORT_S = 600.0
IDLE_CLOSE_S = 4.0        # a connection idle this long is reopened (uvicorn closes keep-alive after 5 s)
BUDGET = {"tps": 2000.0, "batch_p95_ms": 250.0, "heartbeat_p95_ms": 50.0, "errors": 0, "lost": 0, "duplicated": 0}
SYNC = SyncSection()      # the agent's intervals and backoff, as a kiosk's default config has them
ROUTES = ("batch", "heartbeat", "catalog", "config")
EXPECTED = {"batch": {"200"}, "heartbeat": {"200"}, "catalog": {"200", "304"}, "config": {"200", "304"}}
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- a small HTTP/1.1 keep-alive client over asyncio streams -----------------------------------------

class HTTPError(Exception):
    """No answer: the kind of failure (`conn_error`, `timeout`, `bad_answer`) for the counts."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


class Conn:
    """One keep-alive connection, as a requests.Session keeps one to the platform. Not shared by two
    requests at once; a failed request closes it and the next one opens a new one."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used_at = 0.0
        # what requests.Session sends besides the client's own headers
        self.fixed = (f"Host: {host}:{port}\r\nAccept-Encoding: gzip, deflate\r\nAccept: */*\r\n"
                      "Connection: keep-alive\r\n")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.transport.abort()
        self.reader = self.writer = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes,
                      timeout: float = TIMEOUT_S) -> tuple[int, dict[str, str], bytes]:
        try:
            async with asyncio.timeout(timeout):
                return await self._exchange(method, path, headers, body)
        except TimeoutError:
            self.close()
            raise HTTPError("timeout", f"no answer within {timeout:g} s") from None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, EOFError) as exc:
            self.close()
            raise HTTPError("conn_error", f"{type(exc).__name__}: {exc}") from None
        except ValueError as exc:
            self.close()
            raise HTTPError("bad_answer", str(exc)) from None

    async def _exchange(self, method: str, path: str, headers: dict[str, str], body: bytes):
        now = time.monotonic()
        if (self.writer is None or self.writer.is_closing() or self.reader.at_eof()
                or now - self.used_at > IDLE_CLOSE_S):
            self.close()
            await self._open()
        head = [f"{method} {path} HTTP/1.1\r\n", self.fixed]
        head += [f"{k}: {v}\r\n" for k, v in headers.items()]
        if body or method != "GET":
            head.append(f"Content-Length: {len(body)}\r\n")
        head.append("\r\n")
        self.writer.write("".join(head).encode("latin-1") + body)
        await self.writer.drain()
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw[:-4].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ValueError(f"not an HTTP status line: {lines[0][:80]!r}")
        status = int(parts[1])
        resp: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            resp[name.strip().lower()] = value.strip()
        if status in (204, 304) or 100 <= status < 200 or method == "HEAD":
            data = b""
        elif "chunked" in resp.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")   # no trailers from uvicorn
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            data = b"".join(chunks)
        elif "content-length" in resp:
            data = await self.reader.readexactly(int(resp["content-length"]))
        else:
            data = await self.reader.read()
            self.close()
        if resp.get("connection", "").lower() == "close":
            self.close()
        self.used_at = time.monotonic()
        return status, resp, data


# -- the simulated fleet ----------------------------------------------------------------------------

DEVICES = [("idcard", "sam"), ("locker", "lock8a"), ("receipt_printer", "escpos"), ("document_printer", "cups"),
           ("payment", "concert"), ("scanner", "serial")]
RATING = [(5, "very_satisfied"), (4, "satisfied"), (3, "fairly_satisfied"), (2, "dissatisfied"),
          (1, "very_dissatisfied")]
REASONS = ["waited_long", "hard_to_use", "printer_problem", "staff_unhelpful"]
ITEM_CODES = ["11330100MB0001", "11330100MB0002", "11330100MB0017", "11330100MB0033"]


def _compact(doc) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def _data_variants() -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """The `data` of the kinds sent, as the kiosk writes them (kiosk/core/printing/record.py PrintRecord,
    kiosk/core/rating.py, kiosk/alarms.py), serialized once; a rating names the print before it."""
    rng = random.Random(42)
    prints = []
    for _ in range(200):
        if rng.random() < 0.5:
            prints.append(_compact({"service": "guides", "source": "guide", "pages": 1, "printer": "receipt",
                                    "item_code": rng.choice(ITEM_CODES), "document": None, "form_url": None,
                                    "copies": 1, "amount_fen": 0, "payment_reference": None, "job_state": None}))
        else:
            prints.append(_compact({"service": "documents", "source": "released", "pages": rng.randint(1, 4),
                                    "printer": "a4", "item_code": None,
                                    "document": f"DOC-2026-{rng.randint(1, 99999):05d}", "form_url": None,
                                    "copies": 1, "amount_fen": 0, "payment_reference": None,
                                    "job_state": "completed"}))
    ratings = []
    for _ in range(60):
        level, key = rng.choice(RATING)
        head = _compact({"service": rng.choice(["documents", "guides", "pickup"])})[:-1]
        rest = _compact({"level": level, "level_key": key,
                         "reasons": rng.sample(REASONS, rng.randint(1, 2)) if level <= 2 else []})[1:]
        ratings.append((head + ',"service_transaction_id":', "," + rest))
    # a kiosk raises a fault once and clears it once, naming the raising transaction (kiosk/alarms.py)
    alarms = [_compact({"device": "receipt_printer", "code": "paper_low", "state": "raised", "severity": "warning",
                        "detail": "paper near end"}),
              _compact({"device": "receipt_printer", "code": "paper_low", "state": "cleared",
                        "severity": "warning", "detail": "paper refilled", "raised_id": "@"})]
    return prints, ratings, alarms


PRINT_DATA, RATING_DATA, ALARM_DATA = _data_variants()


class Item(NamedTuple):
    id: str
    seq: int
    json: str          # the item as it goes on the wire


@dataclass
class Chunk:
    """Items sent together; sent again with the same ids (and the same body) until answered."""
    items: list[Item]
    body: bytes
    server_failures: int = 0


@dataclass
class Kiosk:
    index: int
    kiosk_id: str
    secret: str
    rng: random.Random
    seq: int = 0
    pending: deque = field(default_factory=deque)     # chunks not yet answered, oldest first
    failures: int = 0                                  # requests in a row without an answer (backoff)
    not_before: float = 0.0
    catalog_etag: str | None = None
    config_etag: str | None = None
    config_version: int | None = None
    db_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    boot_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    booted_at: float = field(default_factory=lambda: time.time() - random.uniform(3600, 7 * 86400))
    last_print: str | None = None
    open_alarm: str | None = None                       # the id that raised its paper warning, until cleared
    conn: "Conn | None" = None                          # its own keep-alive connection, as its client's session
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)   # the agent is serial: one request at a time

    def new_items(self, n: int) -> list[Item]:
        """`n` new transactions, as the outbox's rows go on the wire (Entry.wire()): fresh ids, the next seqs,
        the data of pre-serialized variants (the part that may be built ahead: it is not what is measured)."""
        items = []
        now = time.time()
        tail = f',"boot_id":"{self.boot_id}","uptime_s":{round(now - self.booted_at, 3)!r}}}'
        occurred = f'","occurred_at":"{local_time(now)}","data":'
        rnd, pick = self.rng.random, self.rng.choice
        for _ in range(n):
            self.seq += 1
            tid = str(uuid.uuid4())
            r = rnd()
            if r < 0.60:
                kind, data = "print", pick(PRINT_DATA)
                self.last_print = tid
            elif r < 0.95:
                head, end = pick(RATING_DATA)
                kind, data = "rating", f'{head}{json.dumps(self.last_print)}{end}'
            elif self.open_alarm is None:
                kind, data = "alarm", ALARM_DATA[0]
                self.open_alarm = tid
            else:
                kind, data = "alarm", ALARM_DATA[1].replace('"@"', f'"{self.open_alarm}"')
                self.open_alarm = None
            items.append(Item(tid, self.seq, f'{{"id":"{tid}","seq":{self.seq},"kind":"{kind}{occurred}{data}{tail}'))
        return items

    def heartbeat(self) -> bytes:
        backlog = sum(len(c.items) for c in self.pending)
        beat = {"kiosk_id": self.kiosk_id, "db_uuid": self.db_uuid,
                "sent_at": datetime.now(timezone.utc).astimezone().isoformat(),
                "software_version": __version__, "config_version": self.config_version,
                "queue_depth": backlog, "oldest_pending_age_s": 0.8 if backlog else None,
                "devices": [{"name": n, "driver": d, "state": "online", "detail": ""} for n, d in DEVICES],
                "alarms": []}
        return json.dumps(beat, ensure_ascii=False, separators=(",", ":")).encode()


def body_of(kiosk_id: str, items: list[Item]) -> bytes:
    """The batch as kiosk/sync/client.py post_transactions serializes it (compact JSON, UTF-8)."""
    return f'{{"kiosk_id":"{kiosk_id}","items":[{",".join(it.json for it in items)}]}}'.encode()


def percentile(xs: list[float], p: float) -> float | None:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    if not xs:
        return None
    xs.sort()
    return xs[min(len(xs), max(1, math.ceil(p / 100 * len(xs)))) - 1]


class Stats:
    """Per phase and route: latencies (ms) of answered requests, and counts by status or failure."""

    def __init__(self):
        self.lat: dict[tuple[str, str], list[float]] = {}
        self.counts: dict[tuple[str, str], Counter] = {}

    def add(self, phase: str, route: str, outcome: str, ms: float | None) -> None:
        self.counts.setdefault((phase, route), Counter())[outcome] += 1
        if ms is not None:
            self.lat.setdefault((phase, route), []).append(ms)

    def pct(self, phase: str, route: str, p: float) -> float | None:
        return percentile(self.lat.get((phase, route), []), p)

    def errors(self, phase: str, route: str) -> int:
        return sum(n for k, n in self.counts.get((phase, route), Counter()).items() if k not in EXPECTED[route])


class Fleet:
    def __init__(self, args, host: str, port: int, kiosks: list[Kiosk], server_pid: int):
        self.args = args
        self.host, self.port = host, port
        self.kiosks = kiosks
        self.server_pid = server_pid
        self.scale = args.time_scale
        self.stats = Stats()
        self.phase = "warmup"
        self.stop_periodic = False
        self.stop_new_batches = False
        self.sent: dict[str, tuple[int, int]] = {}       # id -> (kiosk index, seq)
        self.acked: dict[str, str] = {}                  # id -> the first acknowledgement (accepted | duplicate)
        self.rejected: dict[str, str] = {}
        self.accepted_again = 0                          # an id answered `accepted` a second time
        self.accepted_in_window = 0
        self.duplicate_acks = 0
        self.window: tuple[float, float] = (0.0, 0.0)
        self.lag: list[float] = []                       # how late periodic requests started (ms), in the run
        self.done_periodic: Counter = Counter()
        self.kills: list[tuple[float, int]] = []
        self.failures_seen: Counter = Counter()
        self.first_failures: dict[str, str] = {}
        self.pace_next = 0.0
        self.poll_tasks: set[asyncio.Task] = set()

    # -- requests -----------------------------------------------------------------------------
    async def signed(self, k: Kiosk, route: str, method: str, path: str, body: bytes = b"",
                     extra: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes] | None:
        """One signed request as the kiosk's client makes it, on the kiosk's own connection; None when no
        answer came (counted)."""
        if k.conn is None:
            k.conn = Conn(self.host, self.port)
        conn = k.conn
        headers = {"User-Agent": f"kiosk/{__version__} ({k.kiosk_id})", **(extra or {})}
        headers.update(auth.sign(k.secret, method, path, k.kiosk_id, body))
        if body:
            headers["Content-Type"] = "application/json"
        phase = self.phase
        t0 = time.perf_counter()
        try:
            status, resp, data = await conn.request(method, path, headers, body)
        except HTTPError as exc:
            self.stats.add(phase, route, exc.kind, None)
            self.failures_seen[f"{route} {exc.kind}"] += 1
            self.first_failures.setdefault(f"{route} {exc.kind}", str(exc)[:200])
            return None
        ms = (time.perf_counter() - t0) * 1000
        self.stats.add(phase, route, str(status), ms)
        if str(status) not in EXPECTED[route]:
            self.first_failures.setdefault(f"{route} {status}", data[:300].decode("utf-8", "replace"))
        return status, resp, data

    async def poll(self, k: Kiosk, route: str) -> None:
        if route == "heartbeat":
            await self.signed(k, route, "POST", f"/api/v1/kiosks/{k.kiosk_id}/heartbeat", k.heartbeat())
            return
        path = "/api/v1/catalog" if route == "catalog" else f"/api/v1/kiosks/{k.kiosk_id}/config"
        etag = k.catalog_etag if route == "catalog" else k.config_etag
        got = await self.signed(k, route, "GET", path, b"", {"If-None-Match": etag} if etag else None)
        if got is None or got[0] != 200:
            return
        status, resp, data = got
        if route == "catalog":
            json.loads(data)            # the kiosk parses and imports it; parsing is the part that is ours
            k.catalog_etag = resp.get("etag")
        else:
            k.config_etag = resp.get("etag")
            with contextlib.suppress(ValueError, TypeError):
                k.config_version = int(resp.get("x-config-version"))

    async def send_chunk(self, k: Kiosk, chunk: Chunk) -> None:
        """Send one chunk and settle it as kiosk/sync/relay.py does."""
        for it in chunk.items:
            self.sent.setdefault(it.id, (k.index, it.seq))
        got = await self.signed(k, "batch", "POST", "/api/v1/transactions", chunk.body)
        now = time.monotonic()
        status = got[0] if got else None
        if status == 200:
            try:
                results = json.loads(got[2])["results"]
                by_id = {r["id"]: r for r in results}
            except (ValueError, KeyError, TypeError):
                by_id = None
            if by_id is not None:
                k.pending.popleft()
                k.failures = 0
                retry = []
                in_window = self.window[0] <= now < self.window[1]
                for it in chunk.items:
                    r = by_id.get(it.id)
                    if r is None:
                        retry.append(it)
                    elif r["status"] in ("accepted", "duplicate"):
                        if r["status"] == "accepted":
                            if self.acked.get(it.id) == "accepted":
                                self.accepted_again += 1
                            if in_window:
                                self.accepted_in_window += 1
                        else:
                            self.duplicate_acks += 1
                        self.acked.setdefault(it.id, r["status"])
                    else:
                        self.rejected[it.id] = r.get("reason") or "no reason given"
                if retry:   # an answer without a result for an item: that item goes again
                    k.pending.appendleft(Chunk(retry, body_of(k.kiosk_id, retry)))
                return
            self.stats.add(self.phase, "batch", "bad_results", None)
        if status in (400, 409, 413, 415, 422):    # the platform will never take this request: narrow it down
            k.pending.popleft()
            if len(chunk.items) == 1:
                self.rejected[chunk.items[0].id] = f"refused as invalid ({status})"
            else:
                self._split(k, chunk)
            return
        server = status is not None and 500 <= status <= 599
        if server and chunk.server_failures > 0 and len(chunk.items) > 1:
            k.pending.popleft()
            self._split(k, chunk, server_failures=chunk.server_failures)
            return
        if server:
            chunk.server_failures += 1
        # no answer, 5xx, 429, 401/403: the same items again after the relay's backoff (scaled)
        k.failures += 1
        ceiling = min(SYNC.backoff_cap_s, SYNC.backoff_base_s * 2 ** min(k.failures - 1, 30)) / self.scale
        delay = k.rng.uniform(0, ceiling)
        if got is not None and got[1].get("retry-after", "").isdigit():
            delay = max(delay, min(float(got[1]["retry-after"]), 3600.0) / self.scale)
        k.not_before = now + delay

    def _split(self, k: Kiosk, chunk: Chunk, server_failures: int = 0) -> None:
        mid = len(chunk.items) // 2
        for part in (chunk.items[mid:], chunk.items[:mid]):
            k.pending.appendleft(Chunk(part, body_of(k.kiosk_id, part), server_failures))

    # -- workers ---------------------------------------------------------------------------------
    async def batch_sender(self, ready: deque) -> None:
        batch_s = self.args.batch / self.args.tps if self.args.tps else 0.0
        while True:
            if self.stop_new_batches and not any(k.pending for k in ready):
                return
            now = time.monotonic()
            k = None
            for _ in range(len(ready)):
                cand = ready.popleft()
                if (cand.not_before <= now and not cand.lock.locked()
                        and (cand.pending or not self.stop_new_batches)):
                    k = cand
                    break
                ready.append(cand)
            if k is None:
                await asyncio.sleep(0.005)
                continue
            try:
                if not k.pending and batch_s:   # --tps: new batches start on a schedule (retries do not wait)
                    wait = self.pace_next - now
                    self.pace_next = max(self.pace_next, now) + batch_s
                    if wait > 0:
                        await asyncio.sleep(wait)
                async with k.lock:
                    if not k.pending:
                        items = k.new_items(self.args.batch)
                        k.pending.append(Chunk(items, body_of(k.kiosk_id, items)))
                    await self.send_chunk(k, k.pending[0])
            finally:
                ready.append(k)

    async def dispatcher(self, heap: list, intervals: dict[str, float], n: int) -> None:
        """Start each kiosk's heartbeat and polls when due, at most `n` at once; sleeps between (no polling)."""
        sem = asyncio.Semaphore(n)
        while True:
            await sem.acquire()
            while not self.stop_periodic and heap[0][0] > time.monotonic():
                await asyncio.sleep(min(heap[0][0] - time.monotonic(), 0.1))
            if self.stop_periodic:
                sem.release()
                return
            due, n_, route, idx = heapq.heappop(heap)
            task = asyncio.create_task(self.periodic(heap, intervals, due, n_, route, idx, sem))
            self.poll_tasks.add(task)
            task.add_done_callback(self.poll_tasks.discard)

    async def periodic(self, heap: list, intervals: dict[str, float], due: float, n: int, route: str, idx: int,
                       sem: asyncio.Semaphore) -> None:
        k = self.kiosks[idx]
        try:
            async with k.lock:     # after the kiosk's batch in flight, if any: its agent does one thing at a time
                now = time.monotonic()
                if self.phase == "run":
                    self.lag.append((now - due) * 1000)
                # the agent: the next run is due one interval after this one started
                heapq.heappush(heap, (now + intervals[route], n, route, idx))
                await self.poll(k, route)
            if self.phase == "run":
                self.done_periodic[route] += 1
        finally:
            sem.release()

    async def warm_up(self) -> None:
        """The fleet's boot: each kiosk fetches the catalog and its config once (200 with the body)."""
        jobs = deque((k, route) for k in self.kiosks for route in ("catalog", "config"))

        async def worker():
            while jobs:
                k, route = jobs.popleft()
                async with k.lock:
                    await self.poll(k, route)

        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(self.args.concurrency))), WARMUP_S)

    async def killer(self) -> None:
        rng = random.Random(7)
        while True:
            await asyncio.sleep(self.args.kill_every)
            workers = worker_pids(self.server_pid)
            if not workers:
                self.kills.append((time.monotonic(), 0))
                continue
            pid = rng.choice(workers)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                self.kills.append((time.monotonic(), pid))

    async def run(self, cpu_roots: list[tuple[str, int]]) -> dict:
        try:
            return await self._run(cpu_roots)
        finally:
            for k in self.kiosks:
                if k.conn is not None:
                    k.conn.close()

    async def _run(self, cpu_roots: list[tuple[str, int]]) -> dict:
        t_warm = time.monotonic()
        await self.warm_up()
        warm_s = time.monotonic() - t_warm
        intervals = {"heartbeat": SYNC.heartbeat_interval_s / self.scale,
                     "config": SYNC.config_interval_s / self.scale,
                     "catalog": SYNC.catalog_interval_s / self.scale}
        rng = random.Random(1)
        n_batch = self.args.senders or max(1, self.args.concurrency // (4 if self.args.tps else 16))
        n_periodic = max(1, self.args.concurrency - n_batch)
        self.phase = "run"
        t0 = time.monotonic()
        self.window = (t0, t0 + self.args.duration)
        heap = [(t0 + rng.uniform(0, iv), k.index * 3 + j, route, k.index)
                for k in self.kiosks for j, (route, iv) in enumerate(intervals.items())]
        heapq.heapify(heap)
        cpu0, own0, box0 = cpu_of(cpu_roots), own_cpu(), machine_cpu()
        ready = deque(self.kiosks)
        rng.shuffle(ready)
        self.pace_next = t0
        senders = [asyncio.create_task(self.batch_sender(ready)) for _ in range(n_batch)]
        dispatcher = asyncio.create_task(self.dispatcher(heap, intervals, n_periodic))
        killer = asyncio.create_task(self.killer()) if self.args.kill_every else None
        await asyncio.sleep(self.args.duration)
        cpu1, own1, box1 = cpu_of(cpu_roots), own_cpu(), machine_cpu()
        self.phase = "drain"
        if killer:
            killer.cancel()
        self.stop_periodic = True
        self.stop_new_batches = True
        t_end = time.monotonic()
        done, pending = await asyncio.wait(senders + [dispatcher], timeout=DRAIN_S)
        if self.poll_tasks:
            left = max(0.1, t_end + DRAIN_S - time.monotonic())
            more_done, more = await asyncio.wait(set(self.poll_tasks), timeout=left)
            done, pending = done | more_done, pending | more
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for t in done:
            if t.exception() is not None:
                raise t.exception()
        return {"warm_s": warm_s, "elapsed": t_end - t0, "drain_s": time.monotonic() - t_end,
                "server_cpu_s": {name: cpu1.get(name, 0) - cpu0.get(name, 0) for name in cpu1},
                "client_cpu_s": own1 - own0, "machine_busy_s": box1[0] - box0[0], "machine_all_s": box1[1] - box0[1],
                "loadavg": os.getloadavg()[0], "n_batch": n_batch, "n_periodic": n_periodic,
                "intervals": intervals, "unsettled": sum(len(c.items) for k in self.kiosks for c in k.pending)}


# -- processes -------------------------------------------------------------------------------------

def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            out += [int(x) for x in task.read_text().split()]
    return out


def worker_pids(server_pid: int) -> list[int]:
    """The server's worker processes: its children but multiprocessing's resource tracker."""
    found = []
    for pid in children(server_pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"resource_tracker" not in cmd:
            found.append(pid)
    return found


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process, the children it reaped, and its live descendants. Sampled at two moments,
    the difference is the CPU spent between them, also by children that ended in between (their whole
    life is in the parent's cutime then; the part before the first sample was counted live then)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime + cutime + cstime) / CLK_TCK + sum(tree_cpu(c) for c in children(pid))


def cpu_of(roots: list[tuple[str, int]]) -> dict[str, float]:
    return {name: tree_cpu(pid) for name, pid in roots}


def machine_cpu() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine since boot, from /proc/stat."""
    try:
        ticks = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return 0.0, 0.0
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)          # idle + iowait
    total = sum(ticks[:8])                                          # guest time is inside user already
    return (total - idle) / CLK_TCK, total / CLK_TCK


def own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM by pid, a bounded wait, then SIGKILL to it and to the workers it leaves behind."""
    kids = children(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        kids += children(proc.pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    for pid in kids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def start_server(work: Path, db: str, key_file: Path, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    log = (work / "central.log").open("wb")
    proc = subprocess.Popen([str(KIOSK), "central", "--host", "127.0.0.1", "--port", str(port), "--db", db,
                             "--key-file", str(key_file), "--workers", str(workers), "--no-access-log"],
                            stdout=subprocess.DEVNULL, stderr=log, cwd=work)
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kiosk central exited ({proc.returncode}): {tail(work / 'central.log')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200") and (workers == 1 or len(worker_pids(proc.pid)) >= workers):
                    return proc, port
        except OSError:
            pass
        time.sleep(0.1)
    stop_server(proc)
    raise RuntimeError(f"kiosk central did not answer its health check within {START_S:g} s: "
                       f"{tail(work / 'central.log')}")


def tail(path: Path, n: int = 1500) -> str:
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if "alembic" not in ln]
    except OSError:
        return "(no log)"
    return "\n".join(lines)[-n:]


def provision(db: str, key_file: Path, n: int) -> list[Kiosk]:
    """Kiosks with their own secrets, the demo catalog and a signed config bundle for the fleet group,
    in-process, before the server starts."""
    import secrets

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.central.db import CentralDB
    from kiosk.wire import bundle
    from kiosk.wire.catalog import Catalog

    kiosks = []
    with CentralDB(db, key_file=key_file) as central:
        for i in range(n):
            kiosk_id, secret = f"fleet-k{i + 1:04d}", secrets.token_urlsafe(24)
            central.add_kiosk(kiosk_id, secret, groups=[GROUP])
            kiosks.append(Kiosk(i, kiosk_id, secret, random.Random(i)))
        body = DEMO_CATALOG.read_bytes()
        catalog = Catalog.model_validate_json(body)
        central.put_catalog(body, catalog.version, len(catalog.items), "bench-fleet")
        now = datetime.now(timezone.utc)
        payload = bundle.canonical({"version": 1, "issued": bundle.rfc3339(now),
                                    "expires": bundle.rfc3339(now.replace(year=now.year + 1)),
                                    "targets": [GROUP], "settings": {"sync": {"heartbeat_interval_s": 60}}})
        env = bundle.sign(bundle.CONFIG_TYPE, payload, [Ed25519PrivateKey.generate()],
                          hints={"version": 1, "targets": [GROUP]}).to_bytes()
        if not central.put_config(env, 1, [GROUP], "bench-fleet"):
            raise RuntimeError("the config bundle was not stored")
    return kiosks


def export(work: Path, db: str, key_file: Path) -> list[dict]:
    res = subprocess.run([str(KIOSK), "central", "export", "--db", db, "--key-file", str(key_file), "--json"],
                         capture_output=True, timeout=EXPORT_S, cwd=work)
    if res.returncode:
        raise RuntimeError(f"kiosk central export failed ({res.returncode}): {res.stderr.decode()[-800:]}")
    return json.loads(res.stdout)["transactions"]


# -- one engine ------------------------------------------------------------------------------------

def fmt(v: float | None, digits: int = 1) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def run_engine(engine: str, args, work: Path) -> dict:
    """Provision, serve, load, check; the figures of one engine (raises RuntimeError when it cannot run)."""
    key_file = work / "central.key"
    pg = None
    try:
        if engine == "postgresql":
            from tests.pgcluster import PgCluster, PgUnavailable
            try:
                pg = PgCluster(work / "pg").start()
            except PgUnavailable as exc:
                raise RuntimeError(str(exc)) from None
            db = pg.create_database("fleet")
        else:
            db = str(work / "central.db")
        t = time.monotonic()
        kiosks = provision(db, key_file, args.kiosks)
        provision_s = time.monotonic() - t
        proc, port = start_server(work, db, key_file, args.workers)
        try:
            roots = [("server", proc.pid)] + ([("postgresql", pg.pid)] if pg else [])
            fleet = Fleet(args, "127.0.0.1", port, kiosks, proc.pid)
            result = asyncio.run(fleet.run(roots))
            workers_after = len(worker_pids(proc.pid))
            server_alive = proc.poll() is None
        finally:
            stop_server(proc)
        if args.keep:   # which ids the kiosks hold as acknowledged, one `id kiosk_id seq status` a line
            (work / "acknowledged.txt").write_text("".join(
                f"{i} {kiosks[fleet.sent[i][0]].kiosk_id} {fleet.sent[i][1]} {st}\n" for i, st in fleet.acked.items()))
        t = time.monotonic()
        stored = export(work, db, key_file)
        export_s = time.monotonic() - t
    finally:
        if pg is not None:
            pg.stop()
    return report(engine, args, fleet, result, stored, provision_s, export_s, workers_after, server_alive, work)


def load_running(args) -> int:
    """--port: the fleet against a platform someone else started; 0 when nothing was lost, duplicated or
    refused."""
    key_file = Path(args.key_file)
    work = Path.cwd()
    t = time.monotonic()
    kiosks = provision(args.db, key_file, args.kiosks)
    provision_s = time.monotonic() - t
    pid = args.server_pid
    fleet = Fleet(args, "127.0.0.1", args.port, kiosks, pid)
    result = asyncio.run(fleet.run([("server", pid)] if pid else []))
    t = time.monotonic()
    ours = {k.kiosk_id for k in kiosks}
    stored = [r for r in export(work, args.db, key_file) if r["kiosk_id"] in ours]
    export_s = time.monotonic() - t
    alive = not pid or Path(f"/proc/{pid}").exists()
    workers = len(worker_pids(pid)) if pid else 0
    figures = report("running platform", args, fleet, result, stored, provision_s, export_s, workers, alive, work)
    bad = {k: figures[k] for k in ("errors", "lost", "duplicated", "stored_not_acknowledged") if figures[k]}
    print(f"fleet_seeded kiosks {args.kiosks} acknowledged {len(fleet.acked)}"
          + (f" problems {bad}" if bad else " problems none"))
    return 1 if bad else 0


def report(engine, args, fleet: Fleet, result, stored, provision_s, export_s, workers_after, server_alive,
           work) -> dict:
    st = fleet.stats
    print(f"== {engine}: {args.kiosks} kiosks, {args.workers} workers, batches of {args.batch}, "
          f"{args.duration:g} s at time scale {args.time_scale:g}, {result['n_batch']} batch + "
          f"{result['n_periodic']} periodic tasks"
          + (f", paced to {args.tps:g} tps" if args.tps else "")
          + (f", a worker SIGKILLed every {args.kill_every:g} s" if args.kill_every else ""))
    print(f"provision_s {provision_s:.1f} ({args.kiosks} kiosks in-process)   warmup_s {result['warm_s']:.1f} "
          f"(catalog {dict(st.counts.get(('warmup', 'catalog'), {}))}, config "
          f"{dict(st.counts.get(('warmup', 'config'), {}))})")
    print(f"{'route':<10} {'requests':>8} {'per_s':>8} {'p50_ms':>8} {'p95_ms':>8} {'p99_ms':>8}  statuses")
    elapsed = result["elapsed"]
    for route in ROUTES:
        counts = st.counts.get(("run", route), Counter())
        n = sum(counts.values())
        print(f"{route:<10} {n:>8} {n / elapsed:>8.1f} {fmt(st.pct('run', route, 50)):>8} "
              f"{fmt(st.pct('run', route, 95)):>8} {fmt(st.pct('run', route, 99)):>8}  "
              + " ".join(f"{k}:{v}" for k, v in sorted(counts.items())))
    nominal = {r: args.kiosks / iv for r, iv in result["intervals"].items()}
    lag_p95 = percentile(fleet.lag, 95)
    print("periodic " + ", ".join(f"{r} {fleet.done_periodic[r] / elapsed:.0f}/s of {nominal[r]:.0f}/s nominal"
                                  for r in ("heartbeat", "config", "catalog"))
          + f"; started late by p95 {fmt(lag_p95)} ms (the client's queue: the platform did not keep up"
            " when this grows)")
    drain = {r: dict(st.counts[("drain", r)]) for r in ROUTES if ("drain", r) in st.counts}
    tps = fleet.accepted_in_window / elapsed
    print(f"accepted_tps {tps:.1f} ({fleet.accepted_in_window} accepted in {elapsed:.1f} s; "
          f"{fleet.duplicate_acks} answered duplicate on a retry; after the run {result['drain_s']:.1f} s of "
          f"retries {drain or '{}'})")
    killed = [p for _, p in fleet.kills if p]
    if fleet.kills:
        print(f"kills {len(killed)} (pids {', '.join(map(str, killed[:12]))}{' …' if len(killed) > 12 else ''})"
              + (f"; {len(fleet.kills) - len(killed)} times no worker process to kill (with --workers 1 the "
                 "server serves in its own process)" if len(killed) < len(fleet.kills) else "")
              + f"; worker processes at the end {workers_after}")
    if not server_alive:
        print("the kiosk central process had exited before the end of the run (see its log: --keep)")
    # what the platform holds against what it acknowledged
    ids = Counter(r["id"] for r in stored)
    seqs = Counter((r["kiosk_id"], r["seq"]) for r in stored)
    acked = set(fleet.acked)
    lost = len(acked - ids.keys())
    duplicated = sum(c - 1 for c in ids.values() if c > 1) + sum(c - 1 for c in seqs.values() if c > 1)
    stored_not_acked = len(ids.keys() - acked)
    unknown = len(ids.keys() - fleet.sent.keys())
    never_answered = len(fleet.sent.keys() - acked - fleet.rejected.keys())
    print(f"check (kiosk central export, {export_s:.1f} s): stored {len(ids)}, acknowledged {len(acked)}, "
          f"lost {lost}, duplicated {duplicated}, stored_not_acknowledged {stored_not_acked}, "
          f"stored_never_sent {unknown}, rejected {len(fleet.rejected)}, never_answered {never_answered}, "
          f"accepted_twice {fleet.accepted_again}")
    if fleet.rejected:
        print("  first rejection: " + next(iter(fleet.rejected.values()))[:300])
    for what, text in list(fleet.first_failures.items())[:6]:
        print(f"  first {what}: {text}")
    cpu = result["server_cpu_s"]
    platform_cpu = sum(cpu.values())
    cost = platform_cpu * 1000 / fleet.accepted_in_window if fleet.accepted_in_window else None
    print(f"cost_ms_per_transaction {fmt(cost, 3)} (platform CPU {platform_cpu:.1f} s over {elapsed:.1f} s: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in cpu.items())
          + f"; all of the traffic above, per accepted transaction; this client {result['client_cpu_s']:.1f} s = "
            f"{result['client_cpu_s'] / elapsed * 100:.0f}% of a core)")
    others = result["machine_busy_s"] - platform_cpu - result["client_cpu_s"]
    print(f"machine: {result['machine_busy_s']:.1f} of {result['machine_all_s']:.1f} CPU-s busy during the run, "
          f"{max(0.0, others):.1f} s of it by other processes (load average {result['loadavg']:.1f}); "
          + ("a shared machine: the figures above are pessimistic" if others > 0.1 * elapsed else "quiet enough"))
    errors = sum(st.errors("run", r) + st.errors("drain", r) for r in ROUTES) + len(fleet.rejected)
    if errors and not args.keep:
        print(f"  (the server's log: rerun with --keep to keep {work.name}/central.log)")
    return {"tps": tps, "batch_p95_ms": st.pct("run", "batch", 95), "heartbeat_p95_ms": st.pct("run", "heartbeat", 95),
            "errors": errors, "lost": lost, "duplicated": duplicated, "cost": cost,
            "stored_not_acknowledged": stored_not_acked}


def verdict_lines(prefix: str, figures: dict, budgets: bool) -> list[str]:
    out = []
    for name, budget in BUDGET.items():
        v = figures.get(name)
        if v is None:
            out.append(f"{prefix}_{name} - (not measured)")
            continue
        text = f"{v:.1f}" if isinstance(v, float) else str(v)
        ok = v >= budget if name == "tps" else v <= budget
        if budgets:
            out.append(f"{prefix}_{name} {text} budget {budget:g} {'pass' if ok else 'miss'}")
        else:
            out.append(f"{prefix}_{name} {text} (informational; the budget {budget:g} is PostgreSQL's)")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--kiosks", type=int, default=1000, metavar="N")
    ap.add_argument("--batch", type=int, default=100, metavar="N", help="items per batch (1-500, default 100)")
    ap.add_argument("--duration", type=float, default=60.0, metavar="S", help="real seconds measured (60)")
    ap.add_argument("--concurrency", type=int, default=64, metavar="N",
                    help="requests in flight at most, one asyncio task each (64): --senders of them send batches, "
                         "the others the kiosks' heartbeats and polls when due; enough for the periodic traffic "
                         "at the budget's latencies")
    ap.add_argument("--senders", type=int, default=0, metavar="N",
                    help="tasks that send batches, closed loop (default concurrency/16, at least 1; with --tps "
                         "concurrency/4, so that a slow answer does not hold the pace back)")
    ap.add_argument("--workers", type=int, default=2, metavar="N", help="kiosk central --workers N (2)")
    ap.add_argument("--kill-every", type=float, default=0.0, metavar="S",
                    help="SIGKILL one worker of the server every S seconds of the run (default: never)")
    ap.add_argument("--time-scale", type=float, default=1.0, metavar="X",
                    help="simulated seconds per real second for the agent's intervals and backoff (default 1: "
                         "1,000 kiosks send their heartbeats and polls at the real rate, 17 a second each)")
    ap.add_argument("--tps", type=float, default=2200.0, metavar="T",
                    help="offer batches at T transactions/s (default 2,200, a tenth above the budget: what is "
                         "sustained is what the platform stored a second); 0: as fast as it takes them")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (server log, databases)")
    ap.add_argument("--port", type=int, default=0, metavar="P",
                    help="load a platform already serving on 127.0.0.1:P instead of starting one (seeds a fleet "
                         "for the console's tests): --db and --key-file name its database, the fleet's kiosks are "
                         "provisioned there while it serves, and the check is the fleet's ids only; no budgets")
    ap.add_argument("--db", default="", metavar="URL", help="with --port: the platform's database (path or URL)")
    ap.add_argument("--key-file", default="", metavar="F", help="with --port: the platform's sealing key file")
    ap.add_argument("--server-pid", type=int, default=0, metavar="PID",
                    help="with --port: the platform's process, for its CPU and --kill-every (optional)")
    args = ap.parse_args()
    if not 1 <= args.batch <= 500 or args.kiosks < 1 or args.concurrency < 2 or args.duration <= 0 \
            or args.time_scale <= 0 or args.workers < 1 or not 0 <= args.senders < args.concurrency:
        ap.error("--batch 1-500, --kiosks >= 1, --concurrency >= 2, --senders below --concurrency; "
                 "--duration, --time-scale, --workers > 0")
    if args.port:
        if not args.db or not args.key_file:
            ap.error("--port needs --db and --key-file: the platform's database and sealing key")
        return load_running(args)
    engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    (ROOT / "var").mkdir(exist_ok=True)
    started = time.monotonic()
    figures: dict[str, dict] = {}
    failed = []
    for engine in engines:
        work = Path(tempfile.mkdtemp(prefix=f"bench-fleet-{engine}-", dir=ROOT / "var"))
        if engine == "postgresql":
            os.chmod(work, 0o755)    # the cluster's own user must reach its directory inside
        try:
            figures[engine] = run_engine(engine, args, work)
        except (RuntimeError, subprocess.SubprocessError, OSError, asyncio.TimeoutError) as exc:
            print(f"== {engine}: could not run: {exc}", flush=True)
            failed.append(engine)
        finally:
            if args.keep:
                print(f"(kept {work})")
            else:
                shutil.rmtree(work, ignore_errors=True)
        print(flush=True)
    if "postgresql" in engines:
        print("\n".join(verdict_lines("fleet_pg", figures.get("postgresql", {}), True)))
    if "sqlite" in engines:
        print("\n".join(verdict_lines("fleet_sqlite", figures.get("sqlite", {}), False)))
    for engine, f in figures.items():
        print(f"cost_ms_per_transaction {fmt(f['cost'], 3)} ({engine})")
    print(f"fleet_run_s {time.monotonic() - started:.0f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
