"""The technician's system panel: the outbox, the platform, the config, the machine, the alarms and recent errors.

It shows a snapshot read on a worker thread (`refresh`), probes the central
platform with a short timeout (`probe`), puts dead outbox items back to
pending (`retry_dead`) and exports the diagnostics bundle (`export`). Where the
facts come from is injected (kiosk/app/tech_sources.py composes them), so this is
plain Python, tested without a display or a network.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable, Protocol

from kiosk.core.background import Executor, Inline

log = logging.getLogger(__name__)


class Facts(Protocol):
    def snapshot(self) -> dict: ...
    def probe(self) -> dict: ...
    def retry_dead(self, seqs: list[int] | None = None) -> int: ...
    def export_bundle(self, out=None, devices: list[dict] | None = None) -> dict: ...



class SystemPanel:
    def __init__(self, facts: Facts, *, executor: Executor | None = None, on_change: Callable[[], None] | None = None,
                 devices: Callable[[], list[dict]] = list, before_export: Callable[[], None] = lambda: None):
        self.facts = facts
        self.executor: Executor = executor if executor is not None else Inline()
        self.on_change = on_change or (lambda: None)
        self.devices = devices
        self.before_export = before_export
        self.snapshot: dict = {}
        self.reachability: dict | None = None
        self.message = ""            # the outcome of the last action, for the technician
        self.message_ok: bool | None = None
        self.working: set[str] = set()
        self._lock = threading.Lock()

    def _start(self, what: str, fn: Callable[[], None]) -> bool:
        with self._lock:
            if what in self.working:
                return False
            self.working.add(what)
        self.on_change()

        def run():
            try:
                fn()
            except Exception as exc:   # the panel says what failed; the log has the trace
                log.exception("technician: %s failed", what)
                self.message, self.message_ok = f"{what}: {type(exc).__name__}: {exc}", False
            finally:
                with self._lock:
                    self.working.discard(what)
                self.on_change()
        self.executor.run(run)
        return True

    def refresh(self) -> bool:
        def run():
            self.snapshot = self.facts.snapshot()
        return self._start("refresh", run)

    def probe(self) -> bool:
        def run():
            self.reachability = self.facts.probe()
        return self._start("probe", run)

    def retry_dead(self) -> bool:
        def run():
            n = self.facts.retry_dead()
            self.message, self.message_ok = f"{n} dead item(s) back to pending", True
            self.snapshot = self.facts.snapshot()
        return self._start("retry_dead", run)

    def export(self) -> bool:
        def run():
            self.before_export()
            doc = self.facts.export_bundle(devices=self.devices())
            where = "USB stick" if doc["where"] == "usb" else "data dir"
            self.message, self.message_ok = f"bundle written to {doc['path']} ({where}, {doc['bytes']} bytes)", True
        return self._start("export", run)

    # -- what the screen shows ----------------------------------------------------------------
    @property
    def counts(self) -> dict:
        return self.snapshot.get("queue", {}).get("counts", {})

    @property
    def dead(self) -> list[dict]:
        return self.snapshot.get("queue", {}).get("dead", [])
