"""The relay: ships the outbox to the central platform in batches, and decides what a failure means.

One `step()` claims up to `batch_size` due rows (oldest first), sends them
in one request and settles every row from the per-item results:
accepted or duplicate -> acked; rejected -> dead with the platform's reason,
which never holds up the rows behind it.

When the whole request fails:
- network error, timeout, 5xx, 429, 401: the rows go back to pending and the
  relay waits a full-jitter exponential backoff (`uniform(0, min(cap,
  base * 2**n))`), or at least what `Retry-After` asked for;
- 400/413/422 (the platform refuses the request as invalid): the batch is
  split in halves and each half sent on its own, down to the single row the
  platform refuses, which goes dead with the reason. The good rows arrive.
- 5xx again for a batch whose rows were already answered 5xx (one item the
  platform chokes on turns the whole batch into a 500): the same narrowing by
  halves. A row answered 5xx when sent alone, in a step where the platform took
  other rows, waits a growing delay; the third time it goes dead with the
  reason, so one poisoned row never blocks the queue. When nothing in the step
  went through (the platform is down, not choking on one row) the narrowing
  stops after the first failed sibling: no row is blamed, the step costs at
  most log2(batch) + 2 requests, and the usual backoff follows.

Time (`now`) and randomness (`rng`) are injected; the relay never sleeps:
it says when it wants to run again and the caller (the agent, or
`kiosk sync --once`) does the waiting.
"""
from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from kiosk.sync.client import CentralClient, CentralError, CentralInvalid, CentralServerError
from kiosk.sync.outbox import Entry, Outbox
from kiosk.wire.transactions import MAX_BATCH, BatchResult

if TYPE_CHECKING:
    from kiosk.sync.metrics import AgentMetrics

log = logging.getLogger(__name__)

MAX_RETRY_AFTER_S = 3600.0  # a Retry-After beyond this is taken as a mistake, not an order
DEAD_AFTER_ISOLATED_5XX = 3  # 5xx answers to one row sent alone, while others went through, before it is dead


@dataclass
class Backoff:
    """Full-jitter exponential backoff: after n failures in a row, wait uniform(0, min(cap, base*2**(n-1)))."""
    base_s: float
    cap_s: float
    rng: random.Random
    failures: int = 0

    def failed(self, retry_after: float | None = None) -> float:
        self.failures += 1
        ceiling = min(self.cap_s, self.base_s * 2 ** min(self.failures - 1, 62))
        delay = self.rng.uniform(0, ceiling)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER_S))
        return delay

    def succeeded(self) -> None:
        self.failures = 0


@dataclass
class StepResult:
    """What one step did. `wait_s` is when the relay wants to run again (0 = there is more to send now)."""
    sent: int = 0
    acked: int = 0
    dead: int = 0
    retried: int = 0
    error: str | None = None
    wait_s: float = 0.0
    requests: int = 0
    dead_reasons: dict[int, str] = field(default_factory=dict)
    answered: int = 0              # requests the platform answered with per-item results
    suspects: list = field(default_factory=list)  # (Entry, error): rows answered 5xx when sent alone

    @property
    def idle(self) -> bool:
        return self.sent == 0


class Relay:
    def __init__(self, outbox: Outbox, client: CentralClient, *, batch_size: int = MAX_BATCH,
                 backoff_base_s: float = 1.0, backoff_cap_s: float = 300.0, idle_wait_s: float = 5.0,
                 now: Callable[[], float] = time.time, rng: random.Random | None = None,
                 metrics: AgentMetrics | None = None):
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"[sync] batch_size must be 1..{MAX_BATCH}, got {batch_size}")
        self.outbox = outbox
        self.client = client
        self.batch_size = batch_size
        self.idle_wait_s = idle_wait_s
        self.now = now
        self.metrics = metrics
        self.backoff = Backoff(backoff_base_s, backoff_cap_s, rng or random.Random())
        self.not_before = 0.0          # no request before this (unix seconds): backoff or Retry-After
        self.last_success_at: float | None = None
        self.last_error: str | None = None
        self.answers = 0                       # batches the platform answered, over this relay's life
        self._blamed_at: dict[int, int] = {}   # seq -> `answers` when it last failed alone (evidence since)

    @classmethod
    def from_settings(cls, settings, outbox: Outbox, client: CentralClient, **kw) -> "Relay":
        s = settings.sync
        return cls(outbox, client, batch_size=s.batch_size, backoff_base_s=s.backoff_base_s,
                   backoff_cap_s=s.backoff_cap_s, idle_wait_s=s.interval_s, **kw)

    def step(self, *, force: bool = False) -> StepResult:
        """Send at most one batch. `force` ignores backoff and each row's next try (a technician's push)."""
        now = self.now()
        if not force and now < self.not_before:
            return StepResult(wait_s=self.not_before - now)
        batch = self.outbox.claim(self.batch_size, due_only=not force)
        if not batch:
            nxt = self.outbox.next_due_at()
            wait = self.idle_wait_s if nxt is None else min(self.idle_wait_s, max(0.0, nxt - now))
            return StepResult(wait_s=wait)
        result = StepResult()
        self._send(batch, result)
        self._judge_suspects(result)
        if result.error is None:
            self.backoff.succeeded()
            self.last_success_at = self.now()
            self.last_error = None
            result.wait_s = 0.0 if len(batch) == self.batch_size else self.idle_wait_s
        else:
            self.last_error = result.error
            result.wait_s = max(0.0, self.not_before - self.now())
        return result

    def _send(self, batch: list[Entry], result: StepResult) -> None:
        if result.error is not None:  # an earlier half hit a network failure: do not push on
            self._release(batch, result.error, result)
            return
        result.sent += len(batch)
        result.requests += 1
        try:
            answer = self._post(batch)
        except CentralInvalid as exc:
            if len(batch) == 1:
                why = f"refused by the platform ({exc.status}): {_reason(exc)}"
                self.outbox.settle([], {batch[0].seq: why}, {}, 0)
                result.dead += 1
                result.dead_reasons[batch[0].seq] = why
                log.warning("outbox item seq %d (%s) is dead: %s", batch[0].seq, batch[0].kind, why)
                return
            self._halves(batch, result)  # one bad row must not hold back the others: narrow it down
            return
        except CentralError as exc:
            server = isinstance(exc, CentralServerError) and 500 <= exc.status <= 599
            if server and self._narrow(batch, result):
                if len(batch) == 1:
                    result.suspects.append((batch[0], str(exc)))  # judged when the step is over
                    return
                self._halves(batch, result)
                return
            retry_after = exc.retry_after if isinstance(exc, CentralServerError) else None
            delay = self.backoff.failed(retry_after)
            self.not_before = self.now() + delay
            result.error = str(exc)
            log.warning("sync: %s; %d item(s) back to pending, next try in %.1f s", exc, len(batch), delay)
            self._release(batch, str(exc), result, server_failure=server)
            return
        result.answered += 1
        self.answers += 1
        by_id = {r.id: r for r in answer.results}
        acked, dead, retry = [], {}, {}
        for e in batch:
            r = by_id.get(e.id)
            if r is None:
                retry[e.seq] = "the platform's answer had no result for this item"
            elif r.status in ("accepted", "duplicate"):
                acked.append(e.seq)
            else:
                dead[e.seq] = f"rejected by the platform: {r.reason or 'no reason given'}"
        self.outbox.settle(acked, dead, retry, self.now())
        result.acked += len(acked)
        result.dead += len(dead)
        result.retried += len(retry)
        result.dead_reasons.update(dead)
        for seq, why in dead.items():
            log.warning("outbox item seq %d is dead: %s", seq, why)

    def _post(self, batch: list[Entry]) -> BatchResult:
        """One request, counted by its outcome when the agent gave metrics."""
        if self.metrics is None:
            return self.client.post_transactions([e.wire() for e in batch])
        started = self.metrics.batch_started()
        try:
            answer = self.client.post_transactions([e.wire() for e in batch])
        except CentralError as exc:
            self.metrics.batch_done(started, at=self.now(), error=exc)
            raise
        self.metrics.batch_done(started, at=self.now(), results=answer.results)
        return answer

    def _halves(self, batch: list[Entry], result: StepResult) -> None:
        mid = len(batch) // 2
        result.sent -= len(batch)
        self._send(batch[:mid], result)
        self._send(batch[mid:], result)

    def _release(self, batch: list[Entry], error: str, result: StepResult, *, server_failure: bool = False) -> None:
        self.outbox.release([e.seq for e in batch], error, self.not_before, server_failure=server_failure)
        result.retried += len(batch)

    @staticmethod
    def _narrow(batch: list[Entry], result: StepResult) -> bool:
        """Split a batch answered 5xx? Only one that failed with 5xx before (a lone 500 is retried whole),
        and not once a row has been isolated in a step where nothing went through (the platform is down)."""
        if result.suspects and result.answered == 0:  # the first lone row failed and nothing went through
            return False
        return any(e.server_failures > 0 for e in batch)

    def _judge_suspects(self, result: StepResult) -> None:
        """Rows answered 5xx alone. With evidence the platform works (it took other rows in this step, or
        since this row last failed alone) the failure counts against the row (dead at
        DEAD_AFTER_ISOLATED_5XX); without, it is the platform: back to pending, no blame, backoff."""
        suspects, result.suspects = result.suspects, []
        down = []
        for entry, error in suspects:
            if not (result.answered or self.answers > self._blamed_at.get(entry.seq, self.answers)):
                down.append((entry, error))
                continue
            wait = min(self.backoff.cap_s, self.backoff.base_s * 4 ** (entry.isolated_failures + 1))
            if self.outbox.failed_alone(entry.seq, error, self.now() + wait, DEAD_AFTER_ISOLATED_5XX):
                self._blamed_at.pop(entry.seq, None)
                why = self.outbox.get(entry.id).last_error or error
                result.dead += 1
                result.dead_reasons[entry.seq] = why
                log.warning("outbox item seq %d (%s) is dead: %s", entry.seq, entry.kind, why)
            else:
                self._blamed_at[entry.seq] = self.answers
                result.retried += 1
                log.warning("sync: outbox item seq %d (%s) answered 5xx when sent alone (%d of %d) while the "
                            "platform takes others; it waits %.0f s", entry.seq, entry.kind,
                            entry.isolated_failures + 1, DEAD_AFTER_ISOLATED_5XX, wait)
        if down:
            if result.error is None:
                delay = self.backoff.failed()
                self.not_before = self.now() + delay
                result.error = down[0][1]
                log.warning("sync: %s; %d item(s) back to pending, next try in %.1f s", result.error,
                            len(down), delay)
            for entry, error in down:
                self._release([entry], error, result, server_failure=True)

    def drain(self, *, force: bool = True, max_steps: int = 1_000_000,
              progress: Callable[[StepResult], None] | None = None) -> StepResult:
        """Send until nothing is pending or a request fails (`kiosk sync --once`); `progress(total so far)`
        after each request."""
        total = StepResult()
        for _ in range(max_steps):
            r = self.step(force=force)
            for name in ("sent", "acked", "dead", "retried", "requests"):
                setattr(total, name, getattr(total, name) + getattr(r, name))
            total.dead_reasons.update(r.dead_reasons)
            if progress is not None and r.requests:
                progress(total)
            if r.error or r.idle or r.acked + r.dead == 0:  # no progress: stop rather than spin
                total.error = r.error or (None if r.idle else "the platform answered without settling any item")
                total.wait_s = r.wait_s
                break
        return total


def _reason(exc: CentralInvalid) -> str:
    d = exc.detail
    if isinstance(d, list) and d and isinstance(d[0], dict) and "msg" in d[0]:
        return "; ".join(f"{'.'.join(str(p) for p in x.get('loc', []))}: {x['msg']}" for x in d[:3])
    return str(d)[:500] if d is not None else str(exc)
